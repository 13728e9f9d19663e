"""``source-finetune``: LoRA SFT of the policy on the in-house training pool (paper, Appendix F).

The paper's "fine-tuned on source dataset" baseline teaches the policy the training pool itself
rather than data acquired for the task; the authors report that it lowered scores. Here the pool
is the in-house training tasks' instruction–response pairs (:mod:`.source_pool`), trained with
the ``finetune`` learner's recipe and settings (:class:`~.finetune.FinetuneConfig`, the same
defaults and presets). The data is the same for every task, so the adapter is trained once per
(policy weights, pairs, settings) — :func:`~.finetune.adapter_key` over exactly those — cached
in ``cache_dir()/adapters/source-<key>`` and reused by every later task and run. Whatever a
strategy acquired is not used (the ``source-finetune`` strategy acquires nothing); the details
say so, and say which data was used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning.finetune import (
    FinetuneConfig,
    adapted_spec,
    adapter_key,
    base_engine_spec,
    base_weights,
    train_or_reuse,
)
from ads_bench.learning.lora_sft import Example, NothingToTrain
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import Learner
from ads_bench.learning.source_pool import training_pool_pairs
from ads_bench.models.fingerprint import tree_sha256
from ads_bench.paths import cache_dir


def as_examples(pairs: Sequence[tuple[str, str]], context: str | None) -> list[Example]:
    system = [{"role": "system", "content": context}] if context else []
    return [{"prompt": [*system, {"role": "user", "content": instruction}],
             "completion": [{"role": "assistant", "content": response}]} for instruction, response in pairs]


async def update(policy: Policy, items: Sequence[AcquiredItem], *, runtime: Any, task_id: str = "",
                 config: FinetuneConfig | None = None) -> Policy:
    """The policy LoRA-fine-tuned on the training pool (trained on the first call, then reused)."""
    config = config or FinetuneConfig()
    started = time.perf_counter()
    pool = await asyncio.to_thread(training_pool_pairs)
    base = await asyncio.to_thread(base_weights, policy.model.spec)
    examples = as_examples(pool.pairs, policy.context)
    weights_sha = policy.model.backend.identity.get("weights_sha256") or await asyncio.to_thread(
        tree_sha256, base.folder)
    key = adapter_key(weights_sha, policy.context, examples, config)
    target = cache_dir() / "adapters" / f"source-{key}"
    try:
        record = await asyncio.to_thread(train_or_reuse, base, examples, config, target)
    except NothingToTrain as nothing:
        raise UserError(f"source-finetune: all {len(examples)} pairs were dropped before training "
                        f"({next(iter(nothing.notes.values()), 'too long')}): raise max_length") from None
    details = {
        "learner": "source-finetune", "task_id": task_id,
        "data": pool.summary,  # what it was trained on: the same for every task
        "n_items": len(items), "acquired_items_used": 0,
        "n_used": len(record["kept"]), "n_dropped": len(examples) - len(record["kept"]),
        "adapter": str(target), "adapter_key": key, "reused": record["reused"],
        "training": {k: v for k, v in record.items() if k not in ("kept", "notes", "lengths")},
        "config": dataclasses.asdict(config), "base_weights": str(base.folder),
    }
    model = runtime.model(adapted_spec(base, target), role="policy")
    details["seconds"] = round(time.perf_counter() - started, 3)
    return Policy(model, policy.context, f"{policy.label}+source-lora-{key[:8]}", details)


LEARNER = Learner(
    "source-finetune",
    "LoRA SFT of the policy on the in-house training pool's instruction-response pairs (paper, "
    "Appendix F), at the finetune learner's settings; one adapter for every task, cached",
    update,
    FinetuneConfig,
    answer_engine=base_engine_spec,
)
