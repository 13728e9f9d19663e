"""Wall time of a fine-tune-learner run on a Ray cluster of 1 and of 2 local nodes, and the ratio.

Each arm starts a fresh local cluster (``ray.cluster_utils.Cluster``, nodes of one CPU each)
and runs the same tiny ``ads-bench run --learner finetune`` (rag, 2 tasks x 1 held-out prompt,
the CPU smoke LoRA recipe: 2 epochs over 1-2 acquired items, i.e. a few steps) with
``--executor ray`` from an empty response cache and no cached adapter, so both arms train and
answer everything. The base weights are converted, and the driver's judge engine loaded, once
before the arms, so neither pays that. Two times per arm: the whole run (Ray start excluded;
worker start-up, i.e. imports and loading the weights, training, answering and judging on the
driver included) and the chains alone (acquire -> train -> answer on the cluster), which is the
part more nodes can speed up.

On a 2-core machine the two nodes share the cores with the driver, so expect little speed-up;
with 2 tasks the best case is 2x on the chains alone. n=1 run per arm: one timing each.

    python benchmarks/executor_scaling.py [--tasks 2]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ADS_BENCH_CACHE_DIR", tempfile.mkdtemp(prefix="ads-bench-bench-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ads_bench.extras import require  # noqa: E402


def config(tasks: int):
    from ads_bench.pipeline.run import RunConfig

    return RunConfig(strategy="rag", learner="finetune", suite="inhouse", limit=tasks, max_held_out=1,
                     max_tokens=16, max_calls=2, retrieval_k=1, retrieval_mode="bm25", judge_max_tokens=1,
                     retries=1)


def arm(nodes: int, tasks: int, work: Path) -> tuple[float, float]:
    """Seconds for one run on a fresh cluster of ``nodes`` one-CPU nodes: the whole run, the chains."""
    import ray
    from ray.cluster_utils import Cluster

    from ads_bench.models import Runtime
    from ads_bench.paths import cache_dir
    from ads_bench.pipeline.ray_executor import RayExecutor
    from ads_bench.pipeline.run import run_strategy

    shutil.rmtree(cache_dir() / "adapters", ignore_errors=True)  # train again in every arm
    node = {"num_cpus": 1, "object_store_memory": 80 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(**node)
    ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.WARNING)
    runtime = Runtime.create(cache_path=work / f"cache-{nodes}" / "responses.sqlite3")
    chains: list[float] = []

    class Timed(RayExecutor):
        async def run_chains(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return await super().run_chains(*args, **kwargs)
            finally:
                chains.append(time.perf_counter() - started)

    async def go():
        try:
            return await run_strategy(config(tasks), runtime, out=work / f"run-{nodes}", executor=Timed())
        finally:
            await runtime.aclose()

    try:
        started = time.perf_counter()
        asyncio.run(go())
        return time.perf_counter() - started, chains[0]
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2)
    args = parser.parse_args()
    require("ray", "this benchmark")
    require("train", "the fine-tune learner")
    from ads_bench.learning.finetune import base_weights
    from ads_bench.models.spec import parse_spec

    base_weights(parse_spec("embedded"))  # converted once, outside both timings
    from ads_bench.models import Runtime

    asyncio.run(Runtime.create(use_cache=False).model("embedded", role="judge").start())  # the driver's judge
    ray_tmp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's files: not /tmp/ray
    os.environ["RAY_TMPDIR"] = ray_tmp
    work = Path(tempfile.mkdtemp(prefix="executor-scaling-"))
    try:
        one = arm(1, args.tasks, work)
        two = arm(2, args.tasks, work)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"fine-tune run, {args.tasks} tasks x 1 held-out prompt, {os.cpu_count()} cores, n=1 run per arm")
    print("          whole run   chains on the cluster")
    print(f"1 node :  {one[0]:7.1f} s   {one[1]:7.1f} s")
    print(f"2 nodes:  {two[0]:7.1f} s   {two[1]:7.1f} s")
    print(f"ratio 1 node / 2 nodes: {one[0] / two[0]:.2f}x whole run, {one[1] / two[1]:.2f}x chains "
          "(2.00x: perfect scaling of 2 tasks)")


if __name__ == "__main__":
    sys.exit(main())
