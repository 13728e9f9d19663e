"""One LoRA SFT run with trl's SFTTrainer + peft: prompt-completion data, loss on the response only.

Examples are conversational prompt-completion pairs, so trl renders them with the model's own
chat template and masks the prompt out of the loss (``completion_only_loss``). CPU settings:
``use_cpu=True, bf16=False``, no gradient checkpointing (measured 20-45% faster on CPU),
``save_strategy="no"``, ``report_to="none"``.
"""

from __future__ import annotations

import gc
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ads_bench.learning.finetune import FinetuneConfig

Message = dict[str, str]
Example = dict[str, list[Message]]  # {"prompt": [...messages], "completion": [assistant message]}


class NothingToTrain(Exception):
    """Every example was dropped before training (e.g. each prompt alone fills max_length)."""

    def __init__(self, notes: dict[int, str], lengths: dict[int, int]):
        super().__init__("every example was dropped before training")
        self.notes = notes
        self.lengths = lengths


def example_lengths(tokenizer: Any, example: Example) -> tuple[int, int]:
    """(prompt tokens, prompt + completion tokens) as trl will tokenize the example."""

    def length(messages: list[Message], **kwargs: Any) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return (
        length(example["prompt"], add_generation_prompt=True),
        length(example["prompt"] + example["completion"]),
    )


def train_lora(
    base_dir: Path, examples: list[Example], config: FinetuneConfig, out_dir: Path
) -> dict[str, Any]:
    """Train a LoRA adapter on ``examples``, save it to ``out_dir``; returns what happened.

    The returned dict has ``kept`` (input positions trained on) and ``notes`` (position ->
    why dropped or truncated), with the loss curve, steps, seconds and parameter counts.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from datasets.utils.logging import disable_progress_bar
    from transformers.utils import logging as hf_logging

    disable_progress_bar()
    hf_logging.disable_progress_bar()
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        return _train(base_dir, examples, config, out_dir)
    finally:
        torch.set_num_threads(threads)


def _train(
    base_dir: Path, examples: list[Example], config: FinetuneConfig, out_dir: Path
) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from transformers import set_seed

    set_seed(config.seed)
    on_gpu, bf16 = training_device(config.device, config.bf16)
    tokenizer = load_tokenizer(base_dir)
    kept, notes, lengths = _fitting_examples(tokenizer, examples, config.max_length)
    train_set = Dataset.from_list([examples[i] for i in kept])
    probe_set = train_set.select(range(min(config.loss_probe_items, len(train_set))))

    model = load_model(base_dir, torch.bfloat16 if bf16 else torch.float32)
    trainer = _sft_trainer(model, tokenizer, train_set, probe_set, config, base_dir, out_dir, on_gpu, bf16)
    quiet(trainer, "LoRA")
    parameters = trainer.model.get_nb_trainable_parameters()  # (trainable, total)
    loss_before = trainer.evaluate()["eval_loss"] if config.measure_loss else None
    started = time.perf_counter()
    result = trainer.train()
    train_seconds = time.perf_counter() - started
    loss_after = trainer.evaluate()["eval_loss"] if config.measure_loss else None
    trainer.model.save_pretrained(out_dir)
    canonical_adapter_config(out_dir)  # the same bytes in every process (learning/reproducibility.py)
    record = _record(trainer, result, kept, notes, lengths, parameters, (loss_before, loss_after),
                     len(probe_set), config, train_seconds, on_gpu, bf16)
    curve = record["loss_curve"]
    if not all(math.isfinite(point["loss"]) for point in curve):
        raise RuntimeError(f"LoRA training diverged (non-finite loss): {curve}")
    del trainer, model
    gc.collect()
    return record


def _fitting_examples(tokenizer: Any, examples: list[Example],
                      max_length: int) -> tuple[list[int], dict[int, str], dict[int, int]]:
    """The positions of the examples to train on, why any other was left out or cut, and every
    example's length in tokens; :class:`NothingToTrain` when none fits."""
    kept: list[int] = []
    notes: dict[int, str] = {}
    lengths: dict[int, int] = {}
    for position, example in enumerate(examples):
        prompt_tokens, total_tokens = example_lengths(tokenizer, example)
        lengths[position] = total_tokens
        if prompt_tokens >= max_length:
            notes[position] = (
                f"prompt too long: {prompt_tokens} tokens >= max_length {max_length}"
            )
            continue
        if total_tokens > max_length:
            notes[position] = f"truncated: {total_tokens} tokens to max_length {max_length}"
        kept.append(position)
    if not kept:
        raise NothingToTrain(notes, lengths)
    return kept, notes, lengths


def _sft_trainer(model: Any, tokenizer: Any, train_set: Any, probe_set: Any, config: FinetuneConfig,
                 base_dir: Path, out_dir: Path, on_gpu: bool, bf16: bool) -> Any:
    """trl's SFTTrainer with the LoRA adapter and the training arguments of ``config``."""
    from trl import SFTConfig, SFTTrainer

    lora = lora_config(config.r, config.alpha, config.dropout, config.target_modules)
    args = SFTConfig(
        output_dir=str(out_dir / "trainer"),
        **device_args(on_gpu, bf16),
        **checkpointing_args(SFTConfig, config.gradient_checkpointing),
        save_strategy="no",
        report_to="none",
        logging_steps=1,
        disable_tqdm=True,
        max_length=config.max_length,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        completion_only_loss=True,
        dataloader_pin_memory=on_gpu,
    )
    try:
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=train_set,
            eval_dataset=probe_set if config.measure_loss else None,
            processing_class=tokenizer,
            peft_config=lora,
        )
    except ValueError as exc:
        if "target modules" not in str(exc).lower():  # peft: "Target modules ... not found"
            raise
        raise UserError(
            f"LoRA setup failed for {base_dir}: {exc}; set the finetune option target_modules "
            "to this architecture's projection names"
        ) from exc
    return trainer


def _record(trainer: Any, result: Any, kept: list[int], notes: dict[int, str], lengths: dict[int, int],
            parameters: tuple[int, int], probe_losses: tuple[float | None, float | None], n_probe: int,
            config: FinetuneConfig, train_seconds: float, on_gpu: bool, bf16: bool) -> dict[str, Any]:
    """What the run did, as the learner records it: examples kept, steps, losses, parameters, time."""
    import torch

    trainable, total = parameters
    loss_before, loss_after = probe_losses

    steps = trainer.state.global_step
    curve = [
        {"step": entry["step"], "loss": entry["loss"]}
        for entry in trainer.state.log_history
        if "loss" in entry and "step" in entry
    ]
    record = {
        "kept": kept,
        "notes": notes,
        "lengths": lengths,
        "steps": steps,
        "epochs": trainer.state.epoch,
        "train_loss": result.training_loss,
        "loss_curve": curve,
        "probe_loss_before": loss_before,
        "probe_loss_after": loss_after,
        "probe_items": n_probe if config.measure_loss else 0,
        "trainable_params": trainable,
        "total_params": total,
        "train_seconds": round(train_seconds, 3),
        "seconds_per_step": round(train_seconds / steps, 4) if steps else None,
        "device": "cuda" if on_gpu else "cpu",
        "bf16": bool(bf16),
        "torch_threads": torch.get_num_threads(),
    }
    return record
