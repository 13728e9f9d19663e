"""Throughput of ads-bench's HTTP backend against a bare ``openai`` async loop, and cache-hit cost.

Starts a local OpenAI-compatible server (llama.cpp serving the embedded GGUF), then at
concurrency 1, 4 and 16 sends the same prompts once through a bare ``openai.AsyncOpenAI``
loop (the reference) and once through ``Runtime.model("URL::model").generate`` with the cache
off, rotating the order over rounds. Prints completion tokens/s for both, their ratio (target
>= 0.95) and, to calibrate it, the ratio of two identical bare runs (A/A: the machine's own
noise), then the time per cache hit (target < 1 ms).

    python benchmarks/backend_throughput.py [--prompts 24] [--max-tokens 48] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("ADS_BENCH_CACHE_DIR", tempfile.mkdtemp(prefix="ads-bench-bench-"))

import openai  # noqa: E402
from conftest import start_server, stop_server  # noqa: E402

from ads_bench.models import ChatRequest, Runtime  # noqa: E402

TOPICS = ["rivers", "volcanoes", "bread", "chess", "owls", "comets", "glass", "tides", "maps", "bees",
          "jazz", "copper", "deserts", "kites", "ferns", "clocks", "salt", "whales", "bridges", "ink",
          "moss", "trains", "coral", "lamps", "wool", "caves", "maple", "radar", "pearls", "tea"]


def prompts(count: int) -> list[str]:
    return [f"Write three sentences about {TOPICS[i % len(TOPICS)]}." for i in range(count)]


async def bare_openai(url: str, texts: list[str], concurrency: int, max_tokens: int) -> tuple[int, float]:
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> int:
        async with gate:
            reply = await client.chat.completions.create(
                model="smollm2", messages=[{"role": "user", "content": text}],
                temperature=0.0, max_tokens=max_tokens,
            )
            return reply.usage.completion_tokens

    started = time.perf_counter()
    tokens = sum(await asyncio.gather(*(one(t) for t in texts)))
    elapsed = time.perf_counter() - started
    await client.close()
    return tokens, elapsed


async def through_ads_bench(url: str, texts: list[str], concurrency: int, max_tokens: int) -> tuple[int, float]:
    runtime = Runtime.create(use_cache=False)
    model = runtime.model(f"{url}::smollm2?concurrency={concurrency}")
    await model.start()  # connecting is not throughput: the bare loop does not check either
    requests = [ChatRequest.user(t, temperature=0.0, max_tokens=max_tokens) for t in texts]
    started = time.perf_counter()
    responses = await model.generate(requests)
    elapsed = time.perf_counter() - started
    await runtime.aclose()
    assert all(r.ok for r in responses), [r.error for r in responses if not r.ok]
    return sum(r.completions[0].usage.completion_tokens for r in responses), elapsed


async def cache_hit_cost(count: int = 2000) -> tuple[float, float]:
    """Per-request time of a fully cached batch, and of a lone cached request (ms)."""
    from ads_bench.models.types import Completion, Usage

    runtime = Runtime.create(cache_path=Path(tempfile.mkdtemp()) / "bench.sqlite3")
    model = runtime.model("http://127.0.0.1:9/v1::cached-only")
    requests = [ChatRequest.user(f"question {i}", max_tokens=64) for i in range(count)]
    from ads_bench.models.cache import request_key

    for request in requests:
        runtime.cache.put(request_key(model.backend.identity, request, 0), model.label,
                          Completion(f"answer to {request.messages[0]['content']}", "stop", Usage(20, 40)))
    started = time.perf_counter()
    responses = await model.generate(requests)
    batch_ms = (time.perf_counter() - started) * 1000 / count
    assert all(r.cached for r in responses)
    started = time.perf_counter()
    for request in requests[:500]:
        await model.generate([request])
    single_ms = (time.perf_counter() - started) * 1000 / 500
    return batch_ms, single_ms


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    texts = prompts(args.prompts)
    process, root = start_server(parallel=max(args.concurrency))
    url = root + "/v1"
    try:
        await bare_openai(url, texts[:4], 4, args.max_tokens)  # warm the engine and its prompt cache
        print(f"server: llama.cpp (xllamacpp) serving the embedded GGUF, {os.cpu_count()} CPUs")
        print(f"{'concurrency':>11} {'bare openai tok/s':>18} {'ads-bench tok/s':>16} {'ratio':>6} "
              f"{'A/A noise':>10}")
        for concurrency in args.concurrency:
            # each round runs the bare loop twice (A/A: how much two identical runs differ here)
            # and ads-bench once, in a rotating order; rates pool tokens and seconds over rounds
            runners = [("bare", bare_openai), ("ours", through_ads_bench), ("bare_again", bare_openai)]
            totals = {name: [0, 0.0] for name, _ in runners}
            for round_index in range(args.rounds):
                shift = round_index % len(runners)
                for name, runner in runners[shift:] + runners[:shift]:
                    tokens, elapsed = await runner(url, texts, concurrency, args.max_tokens)
                    totals[name][0] += tokens
                    totals[name][1] += elapsed
            rate = {name: tokens / seconds for name, (tokens, seconds) in totals.items()}
            bare = (totals["bare"][0] + totals["bare_again"][0]) / (totals["bare"][1] + totals["bare_again"][1])
            print(f"{concurrency:>11} {bare:>18.1f} {rate['ours']:>16.1f} {rate['ours'] / bare:>6.3f} "
                  f"{rate['bare_again'] / rate['bare']:>10.3f}")
    finally:
        stop_server(process)
    batch_ms, single_ms = await cache_hit_cost()
    print(f"cache hit: {batch_ms:.3f} ms per request in a 2000-request batch, "
          f"{single_ms:.3f} ms for a lone request")


if __name__ == "__main__":
    asyncio.run(main())
