"""The vLLM path end to end, in one command, on a GPU machine with vLLM (issue 15, item 2):

    python benchmarks/gpu_vllm_check.py [MODEL_DIR]

Serves a base model (MODEL_DIR, or the embedded SmolLM2-135M converted to a transformers folder,
so no download is needed) with the ``vllm:`` backend, makes two LoRA adapters on it with peft
(random, nonzero weights: they must change the output), and answers the same greedy prompts
through the base and both adapters. Checks, one line each:

- the base and both adapters ran on one engine (the policy and every optimizer checkpoint of a
  run share the GPU that way);
- each adapter changes the output, and the two change it differently;
- a second pass gives the same texts (stable LoRA ids: vLLM caches adapters by id).

Exit 0: every check passed; 1: a check failed; 2: it cannot run here, with the reason in one line
(no vLLM, no GPU).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

PROMPTS = ["Name a color.", "Count from one to five.", "What is the capital of France?"]


def cannot_run() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed: on a GPU machine, `pip install 'ads-bench[gpu]'`"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU is visible to torch: vLLM's engine needs one"
    return None


def make_adapter(base: Path, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    # init_lora_weights=False: B is random too, so the adapter is not the identity
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(out)
    return out


async def answers(runtime, spec: str) -> list[str]:
    from ads_bench.models import ChatRequest
    from ads_bench.models.types import SamplingParams

    model = runtime.model(spec, role="policy")
    requests = [ChatRequest(({"role": "user", "content": p},), SamplingParams(temperature=0.0, max_tokens=24))
                for p in PROMPTS]
    return [r.text for r in await model.generate(requests)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path, nargs="?")
    args = parser.parse_args()
    reason = cannot_run()
    if reason:
        print(f"gpu_vllm_check cannot run here: {reason}")
        return 2

    from ads_bench.models import Runtime, vllm_offline
    from ads_bench.models.convert import converted_dir
    from ads_bench.models.embedded import embedded_gguf_path

    base = args.model_dir or converted_dir(embedded_gguf_path())
    work = Path(tempfile.mkdtemp(prefix="ads-bench-vllm-check-"))
    adapters = [make_adapter(base, work / f"adapter-{i}", seed=i) for i in (1, 2)]
    specs = [f"vllm:{base}?gpu_memory_utilization=0.5&max_model_len=2048"]
    specs += [f"{specs[0]}&adapter={a}" for a in adapters]

    async def go() -> list[list[str]]:
        runtime = Runtime.create(use_cache=False)  # every answer from the engine, none from a cache
        try:
            return [await answers(runtime, spec) for spec in specs + specs]
        finally:
            await runtime.aclose()

    started = time.perf_counter()
    texts = asyncio.run(go())
    first, second = texts[:3], texts[3:]
    checks = {
        "one engine for the base and both adapters": len(vllm_offline._ENGINES) == 1,
        "adapter 1 changes the output": first[1] != first[0],
        "adapter 2 changes the output": first[2] != first[0],
        "the two adapters differ": first[1] != first[2],
        "a second pass gives the same texts": first == second,
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    for spec, outs in zip(["base", "adapter 1", "adapter 2"], first, strict=True):
        print(f"  {spec}: {outs[0][:60]!r}")
    print(f"{time.perf_counter() - started:.1f} s")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
