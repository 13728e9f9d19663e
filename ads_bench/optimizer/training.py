"""Train the optimizer: rejection-sampling SFT (iteration 0) and DPO (later iterations), LoRA with trl.

The prompt is the optimizer's chat prompt for a task; the completion is the trajectory in its
canonical rendering (``Trajectory.render()``), so the model learns the clean format whatever
noise the sampled text had around it. Iterative DPO: before iteration t's DPO, the previous
adapter is merged into its base, and that merged model is both the start and — with the new
adapter disabled — the reference policy, as iterative DPO prescribes (ref = last iteration).
On CPU: no bf16 and no gradient checkpointing (measured 20-45% faster there, see
``learning/lora_sft.py``); on a GPU bf16.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.learning.lora_training import (
    device_args,
    load_model,
    load_tokenizer,
    lora_config,
    quiet,
    training_device,
)
from ads_bench.learning.reproducibility import canonical_adapter_config
from ads_bench.learning.trl_compat import checkpointing_args
from ads_bench.models.types import Message


@dataclass(frozen=True)
class TrainingConfig:
    """LoRA and optimisation settings; defaults are sized for a CPU smoke run of SmolLM2-135M.

    Full-size recipe (GPU, 7B optimizer): r=16, alpha=32, lr 1e-5 (DPO) / 2e-5 (SFT), epochs 2,
    batch 16 via gradient accumulation (raise micro_batch_size as far as GPU memory allows), max_length
    2048, beta 0.1.
    """

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    sft_learning_rate: float = 2e-4
    dpo_learning_rate: float = 5e-5
    epochs: int = 2
    max_steps: int = -1
    batch_size: int = 2  # examples (pairs for DPO) per optimizer step, rounded up to whole micro-batches
    # examples per forward pass; the rest of the batch is gradient accumulation. One pass holds
    # the logits of every sequence in it (vocabulary x length: 49k x 768 floats each for SmolLM2,
    # and DPO passes chosen and rejected), so this sets the peak memory, not the maths
    micro_batch_size: int = 1
    max_length: int = 768
    beta: float = 0.1
    seed: int = 0
    #: data-parallel processes (one per device; :mod:`.distributed`); the batch stays ``batch_size``
    processes: int = 1


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this training worker when the command that started it ends.

    However the command ends, SIGKILL included, its worker must not train on alone. On Linux the
    kernel kills the worker when its parent dies (PR_SET_PDEATHSIG); elsewhere, and as a fallback,
    a watchdog thread sees the worker re-parented. Killing loses nothing: stages save atomically.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the kernel was told to watch it
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True, name="watch-parent").start()


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def _device_args() -> dict[str, Any]:
    return device_args(*training_device("auto"))  # learning/lora_training.py: shared with the learner


def _common_args(config: TrainingConfig, out: Path, learning_rate: float) -> dict[str, Any]:
    return {
        "output_dir": str(out),
        "per_device_train_batch_size": min(config.micro_batch_size, config.batch_size),
        # under torchrun each of the world's ranks takes a micro-batch a pass: together they still
        # make batch_size examples a step (distributed.py)
        "gradient_accumulation_steps": max(1, -(-config.batch_size // (config.micro_batch_size * _world()))),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "learning_rate": learning_rate,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": "none",
        "seed": config.seed,
        "max_length": config.max_length,
        "disable_tqdm": True,
        **_device_args(),
        **({"ddp_backend": "gloo"} if _world() > 1 and _device_args()["use_cpu"] else {}),
    }


def _world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _lora(config: TrainingConfig):
    return lora_config(config.r, config.alpha, config.dropout, config.target_modules)


def _load(model_dir: Path):
    tokenizer = load_tokenizer(model_dir)
    return load_model(model_dir), tokenizer


def _save_atomically(trainer_model: Any, tokenizer: Any, target: Path, stats: dict[str, Any]) -> None:
    if int(os.environ.get("RANK", "0")) != 0:  # one writer: the other ranks hold the same weights
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        trainer_model.save_pretrained(staging)
        canonical_adapter_config(staging)  # the same bytes in every process (learning/reproducibility.py)
        tokenizer.save_pretrained(staging)
        (staging / "training_stats.json").write_text(json.dumps(stats, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _quiet(trainer: Any, stage: str) -> None:
    quiet(trainer, stage)


def _losses(trainer: Any) -> list[float]:
    return [round(entry["loss"], 5) for entry in trainer.state.log_history if "loss" in entry]


def sft(
    base_dir: Path, examples: Sequence[tuple[list[Message], str]], out: Path, config: TrainingConfig
) -> dict[str, Any]:
    """Rejection-sampling SFT: LoRA on (optimizer prompt, chosen trajectory) pairs."""
    if not examples:
        raise UserError("no chosen trajectory to train on: every sampled trajectory failed; sample more (--samples)")
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = _load(base_dir)
    dataset = Dataset.from_list(
        [{"prompt": prompt, "completion": [{"role": "assistant", "content": completion}]} for prompt, completion in examples]
    )
    args = SFTConfig(**_common_args(config, out / "trainer", config.sft_learning_rate), completion_only_loss=True,
                     **checkpointing_args(SFTConfig, False))
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=_lora(config))
    _quiet(trainer, "SFT")
    started = time.perf_counter()
    result = trainer.train()
    stats = {
        "kind": "sft", "examples": len(examples), "steps": result.global_step, "train_loss": result.training_loss,
        "losses": _losses(trainer), "seconds": round(time.perf_counter() - started, 2), "base": str(base_dir),
        "config": asdict(config),
    }
    _save_atomically(trainer.model, tokenizer, out, stats)
    shutil.rmtree(out / "trainer", ignore_errors=True)
    return stats


def merge_adapter(base_dir: Path, adapter_dir: Path, out: Path) -> Path:
    """Fold an adapter into its base weights (the next iteration's start and DPO reference)."""
    if (out / "config.json").is_file():
        return out
    from peft import PeftModel

    model, tokenizer = _load(base_dir)
    merged = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    _save_atomically(merged, tokenizer, out, {"kind": "merged", "base": str(base_dir), "adapter": str(adapter_dir)})
    return out


def dpo(
    base_dir: Path, pairs: Sequence[tuple[list[Message], str, str]], out: Path, config: TrainingConfig
) -> dict[str, Any]:
    """DPO with a fresh LoRA on ``base_dir``; the reference is ``base_dir`` itself (adapter off)."""
    if not pairs:
        raise UserError("no (chosen, rejected) pair to train on: all rewards tied or failed; sample more (--samples)")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = _load(base_dir)
    dataset = Dataset.from_list(
        [
            {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
             "rejected": [{"role": "assistant", "content": rejected}]}
            for prompt, chosen, rejected in pairs
        ]
    )
    args = DPOConfig(**_common_args(config, out / "trainer", config.dpo_learning_rate), beta=config.beta,
                     **checkpointing_args(DPOConfig, False))
    trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=_lora(config))
    _quiet(trainer, "DPO")
    started = time.perf_counter()
    result = trainer.train()
    rewards = [e for e in trainer.state.log_history if "rewards/accuracies" in e]
    stats = {
        "kind": "dpo", "pairs": len(pairs), "steps": result.global_step, "train_loss": result.training_loss,
        "losses": _losses(trainer),
        "reward_accuracy": rewards[-1]["rewards/accuracies"] if rewards else None,
        "seconds": round(time.perf_counter() - started, 2), "base": str(base_dir), "config": asdict(config),
    }
    _save_atomically(trainer.model, tokenizer, out, stats)
    shutil.rmtree(out / "trainer", ignore_errors=True)
    return stats
