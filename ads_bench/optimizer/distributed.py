"""A training stage (SFT, DPO) over N processes: data-parallel DDP, one process per device.

trl's trainers are transformers ``Trainer`` subclasses: started under ``torchrun`` (which sets
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``) they wrap the model in DistributedDataParallel, give each
rank its shard of every batch, and average the gradients; on CPU the backend is gloo. So a stage
runs as ``torchrun --standalone --nproc_per_node N -m ads_bench.optimizer.distributed ...`` and
every rank calls the same stage function; rank 0 alone saves the adapter and the result
(:func:`is_main_process`). The per-device micro-batch and the gradient accumulation are divided
so that one optimizer step still sees ``TrainingConfig.batch_size`` examples
(``training._common_args``): N processes change the speed, not the maths.

    torchrun --standalone --nproc_per_node 2 -m ads_bench.optimizer.distributed STAGE ARGS RESULT

``STAGE`` is ``sft`` or ``dpo``; ``ARGS`` and ``RESULT`` are pickle files this module's
:func:`run_distributed` writes and reads (the parent's own objects, never model output).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError

STAGES = ("sft", "dpo")


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def device_count() -> int:
    """Processes a stage should use by default: one per GPU, else one."""
    try:
        import torch
    except ImportError:
        return 1
    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 1


def run_distributed(stage: str, args: tuple[Any, ...], processes: int) -> Any:
    """Run ``training.<stage>(*args)`` over ``processes`` ranks under torchrun; rank 0's result."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        raise UserError("multi-process training needs torchrun (it comes with torch): install ads-bench[train]")
    work = Path(tempfile.mkdtemp(prefix="ads-bench-ddp-"))
    try:
        (work / "args.pkl").write_bytes(pickle.dumps(args))
        # the launcher dies with this command (it asks the kernel, then becomes torchrun), and each
        # rank with the launcher (training.die_with_parent): a killed command trains on nowhere
        command = [sys.executable, "-m", __name__, "launch", str(os.getpid()), torchrun, "--standalone",
                   f"--nproc_per_node={processes}", "-m", __name__, stage, str(work / "args.pkl"),
                   str(work / "result.pkl")]
        done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        if done.returncode != 0 or not (work / "result.pkl").is_file():
            raise RuntimeError(f"{stage} over {processes} processes failed (exit {done.returncode})")
        return pickle.loads((work / "result.pkl").read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _launch(parent_pid: str, *command: str) -> None:
    from ads_bench.optimizer.training import die_with_parent

    die_with_parent(int(parent_pid))  # PR_SET_PDEATHSIG survives the exec below
    os.execv(command[0], list(command))


def _main(stage: str, args_path: str, result_path: str) -> None:
    from ads_bench.optimizer import training

    training.die_with_parent(os.getppid())

    args = pickle.loads(Path(args_path).read_bytes())
    result = getattr(training, stage)(*args)
    if is_main_process():
        Path(result_path).write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "launch":
        _launch(*sys.argv[2:])
    else:
        _main(*sys.argv[1:4])
