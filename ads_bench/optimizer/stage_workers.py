"""Training stages (SFT, DPO) in worker processes of their own, and ended at once when the command
is interrupted.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ads_bench.optimizer import training


def run_stage(stage: str, *args: Any) -> Any:
    """SFT or DPO in a fresh process, or over ``TrainingConfig.processes`` ranks under torchrun."""
    lora = args[-1]
    if lora.processes > 1:
        from ads_bench.optimizer.distributed import run_distributed

        return run_distributed(stage, args, lora.processes)
    return in_fresh_process(getattr(training, stage), *args)


def in_fresh_process(stage: Any, *args: Any) -> Any:
    """Run a training stage in a process of its own.

    The memory a stage used is not given back to the system within a process, so SFT's and DPO's
    peaks added up on top of the llama.cpp engines: the default ``ads-bench train`` peaked at
    13.9 GiB in one process and at 10.4 GiB with a process per stage (every model call cached in
    both, same adapters bit for bit), for a few seconds of start-up per stage. Training in
    one-example micro-batches (:class:`training.TrainingConfig`) then took a fully uncached run to
    5.3 GiB.

    The worker dies with this process (:func:`training.die_with_parent`) and when the command is
    interrupted (:func:`in_worker_thread`).
    """
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=training.die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        with _workers_lock:
            if _stopping.is_set():
                raise InterruptedError("the command was interrupted before this training stage started")
            before = set(multiprocessing.active_children())
            future = pool.submit(stage, *args)  # a spawn pool starts its worker inside submit()
            started = set(multiprocessing.active_children()) - before
            _workers.update(started)
        try:
            return future.result()
        finally:
            with _workers_lock:
                _workers.difference_update(started)


# The training workers alive now. The thread that waits on a worker cannot be interrupted, and
# both asyncio.run and Python's exit wait for that thread, so Ctrl-C or SIGTERM would wait for
# the whole stage to finish unless the interrupted command ends its workers itself.
_workers: set[multiprocessing.process.BaseProcess] = set()


_workers_lock = threading.Lock()


_stopping = threading.Event()


async def in_worker_thread(function: Any, *args: Any) -> Any:
    """``asyncio.to_thread`` for code that runs training stages: when the command is interrupted
    (its task cancelled), the stage's worker is killed at once and no further stage starts."""
    _stopping.clear()
    try:
        return await asyncio.to_thread(function, *args)
    except asyncio.CancelledError:
        with _workers_lock:
            _stopping.set()
            for worker in _workers:
                worker.kill()
        raise
