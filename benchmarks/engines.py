"""Which engine runs the embedded GGUF best on this machine: the measurement behind the default.

Generates 128 tokens (greedy) for the same prompts through the in-process llama.cpp engine
(xllamacpp) at 1 and 4 concurrent requests, and through transformers (the converted fp32
weights) at batch 1 and 8. Prints completion tokens/s and each engine's ratio to llama.cpp at 1.

    python benchmarks/engines.py [--tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

os.environ.setdefault("ADS_BENCH_CACHE_DIR", tempfile.mkdtemp(prefix="ads-bench-bench-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ads_bench.models import ChatRequest, Runtime  # noqa: E402

PROMPTS = [f"Tell a long story about a {thing}." for thing in
           ("lighthouse", "fox", "robot", "garden", "train", "violin", "storm", "library")]


async def rate(spec: str, batch: int, tokens: int) -> float:
    runtime = Runtime.create(use_cache=False)
    model = runtime.model(spec)
    await model.start()
    await model.generate([ChatRequest.user("warm up", max_tokens=4)])
    requests = [ChatRequest.user(p, max_tokens=tokens) for p in PROMPTS[:batch]]
    started = time.perf_counter()
    responses = await model.generate(requests)
    elapsed = time.perf_counter() - started
    return sum(r.completions[0].usage.completion_tokens for r in responses) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    rows = [
        ("llama.cpp (xllamacpp), 1 request", "embedded?parallel=1", 1),
        ("llama.cpp (xllamacpp), 4 concurrent", "embedded?parallel=4&determinism=fast", 4),
        ("transformers fp32, batch 1", "hf:embedded?batch_size=1", 1),
        ("transformers fp32, batch 8", "hf:embedded?batch_size=8", 8),
    ]
    results = [(name, await rate(spec, batch, args.tokens)) for name, spec, batch in rows]
    reference = results[0][1]
    print(f"{'engine':<38} {'tok/s':>7} {'vs llama.cpp x1':>16}")
    for name, value in results:
        print(f"{name:<38} {value:>7.1f} {value / reference:>16.2f}")


if __name__ == "__main__":
    asyncio.run(main())
