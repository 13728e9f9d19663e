"""The one LoRA training path: where it trains, at what precision, on which weights, with which
adapter, and how quietly. The fine-tune learner (``learning/lora_sft.py``) and the optimizer's
SFT and DPO (``optimizer/training.py``) both build their trl trainers from these, so a GPU,
bf16 or tokenizer rule changes in one place.

Device and precision: ``auto`` trains on a GPU when torch sees one, else on the CPU; bf16 only
on a GPU that has it (Ampere and later: T4 and V100 fail with it set), never on a CPU (slower
there, and not what the CPU reproducibility checks measured).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.learning.trl_compat import step_lines

DEVICES = ("auto", "cpu", "cuda")


def training_device(device: str = "auto", bf16: bool | None = None) -> tuple[bool, bool]:
    """(on a GPU, in bf16) for a ``device`` of auto, cpu or cuda and an optional bf16 choice."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("finetune device=cuda but torch sees no GPU: use device=auto or cpu")
    on_gpu = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    return on_gpu, bf16 if bf16 is not None else on_gpu and torch.cuda.is_bf16_supported()


def device_args(on_gpu: bool, bf16: bool) -> dict[str, Any]:
    """The trl/transformers training arguments that place a run on its device."""
    return {"use_cpu": not on_gpu, "bf16": bf16}


def load_tokenizer(base_dir: Path) -> Any:
    """The base model's tokenizer, padding with its end-of-sequence token where it has no pad."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    from ads_bench.models.convert import quiet_hf_progress

    quiet_hf_progress()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(base_dir: Path, dtype: Any = None) -> Any:
    """The base weights to train an adapter on (``dtype`` None: the library's default)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM

    from ads_bench.models.convert import quiet_hf_progress

    quiet_hf_progress()
    if dtype is None:
        return AutoModelForCausalLM.from_pretrained(base_dir)
    return AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)


def lora_config(r: int, alpha: int, dropout: float, target_modules: Sequence[str]) -> Any:
    """peft's LoRA adapter for a causal language model."""
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules),
                      task_type="CAUSAL_LM")


def quiet(trainer: Any, stage: str) -> None:
    """Without tqdm, transformers prints every log line; the stats record keeps them instead, and
    a line every few steps says how far the stage is, with its loss."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(step_lines(stage))
