"""How often an untrained optimizer's samples parse as trajectories, free vs schema-constrained.

    python benchmarks/optimizer_format.py [--optimizer embedded] [--tasks 3] [--samples 4]

Samples K trajectories per in-house training task (iteration 0's prompt, temperature 0.8) with
``--optimizer-format free`` and ``schema`` and prints the parse rate, calls per sample and wall
time of each, in one run on a fresh (temporary) response cache.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ads_bench.acquisition.trajectory import API_NAMES
from ads_bench.models import Runtime
from ads_bench.optimizer.trainer import TrainConfig, task_view
from ads_bench.pipeline.apis import acquisition_context
from ads_bench.strategies.optimizer_driven import optimizer_request, parse_for
from ads_bench.suites import load_suite


async def measure(optimizer: str, n_tasks: int, samples: int, cache: Path) -> None:
    runtime = Runtime.create(cache_path=cache)
    tasks = load_suite("inhouse-train", limit=n_tasks).tasks
    print(f"optimizer {optimizer}: {n_tasks} tasks x {samples} samples, temperature 0.8")
    try:
        for fmt in ("free", "schema"):
            config = TrainConfig(optimizer=optimizer, optimizer_format=fmt)
            context = acquisition_context(config, runtime, optimizer=runtime.model(optimizer, role="optimizer"),
                                          optimizer_temperature=config.sample_temperature)
            parsed = calls = total = 0
            started = time.perf_counter()
            for task in tasks:
                request = optimizer_request(task_view(task, config, 0), context, API_NAMES, sample_seed=1, n=samples)
                [response] = await context.optimizer.generate([request])
                for completion in response.completions:
                    trajectory = parse_for(completion.text, context, API_NAMES)
                    total += 1
                    parsed += trajectory.error is None
                    calls += len(trajectory.calls)
            seconds = time.perf_counter() - started
            print(f"  {fmt:6s}  parsed {parsed:2d}/{total}  calls/sample {calls / total:.2f}  {seconds:6.1f} s")
    finally:
        await runtime.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--optimizer", default="embedded")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.optimizer, args.tasks, args.samples, Path(folder) / "cache.sqlite3"))


if __name__ == "__main__":
    main()
