"""What LoRA training can promise a fresh rerun, for a run folder's ``reproducibility`` block.

Training happens in ``ads-bench train`` (the optimizer: SFT, then DPO) and in the ``finetune``
learners of ``ads-bench run`` (the policy). Both seed everything they sample from (transformers'
``set_seed`` with the configured seed: LoRA initialisation, dropout, data order) and run on CPU
kernels whose results do not depend on timing. Measured (tests/test_training_reproduces.py): the
finetune learner in two fresh processes trained the same adapter weights bit for bit, with the
same losses and the same greedy answers on transformers; two fresh-cache ``train`` runs of one
SFT iteration wrote the same samples, rewards, iteration records, adapter weights and GGUF
adapter. Only timings and paths naming each run's folders differed, and the order of
``target_modules`` in ``adapter_config.json``, which peft writes from a set in the order of the
process's string-hash seed: :func:`canonical_adapter_config` sorts it. The trainer's DPO stage in
two fresh processes wrote the same adapter and losses too. Not measured: other thread counts (the
finetune learner records its count with each adapter, ``torch_threads``).

On a GPU nothing is promised: CUDA's backward kernels accumulate with atomics in an order that
varies between runs, and bf16 rounds differently from fp32, unless
``torch.use_deterministic_algorithms`` is set (not done here: it refuses some kernels and slows
others).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CPU_WHY = ("seeded, and CPU kernels independent of timing: the same adapter bit for bit in a fresh process "
           "with an empty cache (tests/test_training_reproduces.py)")
GPU_WHY = ("CUDA backward kernels accumulate in a varying order and bf16 rounds otherwise: a fresh rerun "
           "trains a slightly different adapter; the response cache replays this one")


def training_promise(what: str) -> dict[str, Any]:
    """Whether ``what`` (e.g. "optimizer SFT/DPO", "policy LoRA (finetune learner)") reproduces here."""
    import torch

    if torch.cuda.is_available():
        return {"training": what, "device": "cuda", "torch": torch.__version__,
                "fresh_rerun_reproduces": False, "why": GPU_WHY}
    return {"training": what, "device": "cpu", "torch": torch.__version__, "fresh_rerun_reproduces": True,
            "why": CPU_WHY}


def with_training(promise: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    """A run's promise (:func:`ads_bench.models.backend.reproducibility`) with its training's."""
    return {**promise, "fresh_rerun_reproduces": promise["fresh_rerun_reproduces"] and training["fresh_rerun_reproduces"],
            "training": training}


def learner_promise(promise: dict[str, Any], learner: str) -> dict[str, Any]:
    """``run``'s promise given its learner: a fine-tuning learner trains a LoRA and its policy
    answers on transformers (greedy, the same prompts batched alike on a rerun)."""
    if "finetune" not in learner:
        return promise
    training = training_promise(f"policy LoRA ({learner} learner), answered on transformers")
    return with_training(promise, training)


def canonical_adapter_config(folder: Path) -> None:
    """Rewrite a saved LoRA's ``adapter_config.json`` with ``target_modules`` sorted.

    peft keeps them as a set, so the saved list follows the process's string-hash seed: two fresh
    processes wrote the same weights bit for bit with the four module names in different orders.
    """
    path = Path(folder) / "adapter_config.json"
    if not path.is_file():
        return
    config = json.loads(path.read_text())
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
        path.write_text(json.dumps(config, indent=2, sort_keys=True))
