"""Speed of the learners on the embedded model; prints figures, asserts nothing.

    python benchmarks/learning_speed.py [--items 16] [--steps 10] [--threads 1,2]

1. ``finetune``: LoRA SFT (r=8, q/k/v/o, batch 2, max_length 256) of SmolLM2-135M on
   ``--items`` synthetic question-answer items, once per torch thread count; reports
   seconds per optimizer step as the learner records it (target on a quiet 2-core machine:
   about 0.7 s/step). Each run trains into a fresh temporary cache.
2. ``icl``: packing ``--items`` x 8 items into the embedded model's 6,144-token budget, cold
   (every count a round trip to llama.cpp's tokenizer) and warm (the learner's count cache).

The machine's load average is printed alongside: on an oversubscribed machine torch's
OpenMP threads wait on each other, and one thread can beat two by a wide margin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.learning import Policy, finetune, icl
from ads_bench.models import Runtime


def synthetic_items(count: int) -> list[AcquiredItem]:
    return [
        AcquiredItem(
            "question_answering",
            "answer",
            f"What is fact number {i} about the island of Zorbania?",
            f"Fact {i}: the island of Zorbania has {i + 3} lighthouses and {2 * i + 1} harbours, "
            "and its capital, Quillport, lies on the Velka river.",
            call_position=i,
        )
        for i in range(count)
    ]


async def time_finetune(
    runtime: Runtime, items: list[AcquiredItem], steps: int, threads: int
) -> None:
    config = finetune.FinetuneConfig(max_steps=steps, threads=threads, measure_loss=False)
    with (
        tempfile.TemporaryDirectory() as folder,
        mock.patch.object(finetune, "cache_dir", lambda: Path(folder)),
    ):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        policy = await finetune.update(
            Policy(runtime.model("embedded")),
            items,
            runtime=runtime,
            task_id="bench",
            config=config,
        )
        total = time.perf_counter() - started
    training = policy.details["training"]
    print(
        f"finetune threads={threads}: {training['steps']} steps, "
        f"{training['seconds_per_step']:.3f} s/step, training {training['train_seconds']:.1f} s, "
        f"whole update {total:.1f} s (load average before: {load:.2f})"
    )


async def time_icl(runtime: Runtime, items: list[AcquiredItem]) -> None:
    model = runtime.model("embedded")
    await model.start()
    for label in ("cold", "warm"):
        started = time.perf_counter()
        policy = await icl.update(Policy(model), items, task_id="bench")
        seconds = time.perf_counter() - started
        d = policy.details
        print(
            f"icl {label}: {d['n_items']} items, {d['n_used']} packed in {d['tokens_used']} of "
            f"{d['budget']} tokens, {seconds:.3f} s"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    runtime = Runtime.create(use_cache=False)
    items = synthetic_items(args.items)
    for threads in (int(t) for t in args.threads.split(",")):
        await time_finetune(runtime, items, args.steps, threads)
    await time_icl(runtime, synthetic_items(args.items * 8))


if __name__ == "__main__":
    asyncio.run(main())
