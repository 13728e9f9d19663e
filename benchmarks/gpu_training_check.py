"""The GPU path of the optimizer trainer and of the transformers backend, end to end and timed.

    python benchmarks/gpu_training_check.py MODEL_DIR [--steps 4] [--out DIR]

On whatever device torch sees (bf16 on CUDA, fp32 on CPU): rejection-sampling SFT of a LoRA on
two (optimizer prompt, canonical trajectory) examples, the adapter merged, DPO on one pair, and
the DPO adapter answering through the ``hf:`` backend. Prints device, precision, losses and the
seconds of each step, so that a GPU machine's figures can be set beside a CPU's. MODEL_DIR is any
transformers causal-LM folder (a tiny random one is enough to check the path).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from ads_bench.acquisition.trajectory import parse_trajectory
from ads_bench.acquisition.trajectory.prompt import optimizer_messages
from ads_bench.optimizer import training

GOOD = '{"analysis": "needs forms", "self_reflection": "forgets meter", "calls": [{"api": "question_answering", "args": {"question": "What is a haiku?"}}]}'
BAD = '{"analysis": "", "self_reflection": "", "calls": []}'


def prompt(task: str) -> list:
    return optimizer_messages([task], {"question_answering": 0.05}, None, ("question_answering",))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch

    out = args.out or Path(tempfile.mkdtemp(prefix="ads-bench-gpu-check-"))
    good, bad = parse_trajectory(GOOD).render(), parse_trajectory(BAD).render()
    config = training.TrainingConfig(max_steps=args.steps, max_length=512)
    report = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
              "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
              "training_args": training._device_args()}

    started = time.perf_counter()
    sft = training.sft(args.model_dir, [(prompt("Write a haiku about rain."), good),
                                        (prompt("Write a haiku about snow."), good)], out / "sft", config)
    report["sft"] = {k: sft[k] for k in ("steps", "train_loss", "seconds")}
    merged = training.merge_adapter(args.model_dir, out / "sft", out / "merged")
    dpo = training.dpo(merged, [(prompt("Write a haiku about wind."), good, bad)], out / "dpo", config)
    report["dpo"] = {k: dpo[k] for k in ("steps", "train_loss", "seconds", "reward_accuracy") if k in dpo}
    report["train_total_s"] = round(time.perf_counter() - started, 2)

    async def answer() -> dict:
        from ads_bench.models import ChatRequest, Runtime

        runtime = Runtime.create(use_cache=False)
        model = runtime.model(f"hf:{merged}?adapter={out / 'dpo'}", role="optimizer")
        began = time.perf_counter()
        [response] = await model.generate([ChatRequest(tuple(prompt("Write a haiku about fog.")),
                                                       training_params())])
        seconds = time.perf_counter() - began
        shared = model.backend._shared
        await runtime.aclose()
        return {"ok": response.ok, "error": response.error, "text": response.text[:120], "seconds": round(seconds, 2),
                "model_device": str(shared.model.device), "dtype": str(shared.model.dtype)}

    report["generate"] = asyncio.run(answer())
    print(json.dumps(report, indent=1))


def training_params():
    from ads_bench.models.types import SamplingParams

    return SamplingParams(temperature=0.0, max_tokens=32)


if __name__ == "__main__":
    main()
