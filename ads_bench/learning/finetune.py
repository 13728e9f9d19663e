"""Fine-tuning: LoRA SFT of the policy on the acquired items, cached as an adapter folder.

Each item becomes one prompt-completion example (:meth:`AcquiredItem.training_pair`) in the
policy's own conversation format: the policy's context, if it has one, stays the system
message in training and at answer time. The adapter lives in
``cache_dir()/adapters/<key>``, where the key hashes the base weights, the examples and every
hyper-parameter that changes the weights; a rerun with the same inputs loads it instead of
training again. The returned policy answers through the ``hf:`` backend (base + adapter), or
``vllm:`` when the policy was already served by vLLM.

The defaults are sized for CPU smoke runs of a 135M model. GPU recipe for a 7B policy
(``FinetuneConfig.preset("gpu")``): r=16, alpha=32, lr 1e-4, 3 epochs, batch 4 with gradient
accumulation 4 (16 per step), max_length 2048, warmup 3% of steps, bf16, gradient
checkpointing on; about one epoch of 1,000 examples in minutes on one H100.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning.item_selection import ORDER_RULE, Decision, drop_counts, in_call_order
from ads_bench.learning.lora_sft import Example, NothingToTrain, train_lora
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import Learner, convert_options
from ads_bench.models.fingerprint import tree_sha256
from ads_bench.models.spec import ModelSpec
from ads_bench.paths import cache_dir
from ads_bench.utils.atomic import write_json_atomic
from ads_bench.utils.hashing import json_sha256

#: bump when the training recipe changes in a way the key below does not see
RECIPE_VERSION = 1
RECORD_FILE = "training.json"
# options that change what is measured or how fast, not the adapter's weights
_NOT_IN_KEY = ("measure_loss", "loss_probe_items", "threads")

log = logging.getLogger(__name__)
_train_lock = threading.Lock()  # one training at a time per process: they would share the cores


@dataclass(frozen=True)
class FinetuneConfig:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    learning_rate: float = 2e-4
    epochs: float = 2.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 2
    gradient_accumulation: int = 1
    max_length: int = 256
    lr_scheduler: str = "linear"
    warmup_steps: float = 0.0  # below 1: a fraction of all steps
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    bf16: bool | None = None  # None: on a GPU that supports it
    gradient_checkpointing: bool = False
    # CPU threads for training (None: torch's default, one per core). On a shared, oversubscribed
    # machine 1 can be ~10x faster than 2: OpenMP threads wait on each other at every op.
    threads: int | None = None
    measure_loss: bool = True  # mean response loss on the first examples, before and after
    loss_probe_items: int = 32

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        for name in ("r", "alpha", "batch_size", "gradient_accumulation", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps <= 0 and self.epochs <= 0:
            raise ValueError("set epochs > 0 or max_steps > 0")

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, what: str = "learner 'finetune'"
    ) -> FinetuneConfig:
        """Options from a run config; ``preset: gpu`` starts from that recipe, not the defaults."""
        values = dict(values)
        base = cls.preset(str(values.pop("preset", "cpu-smoke")))
        options = convert_options(cls, values, what=what)
        try:
            return dataclasses.replace(base, **options)
        except (TypeError, ValueError) as exc:
            raise UserError(f"bad config for {what}: {exc}") from exc

    @classmethod
    def preset(cls, name: str) -> FinetuneConfig:
        if name not in PRESETS:
            raise UserError(f"no finetune preset '{name}': use one of {', '.join(PRESETS)}")
        return PRESETS[name]

    def key_fields(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        for name in _NOT_IN_KEY:
            values.pop(name)
        return values


PRESETS = {
    "cpu-smoke": FinetuneConfig(),
    "gpu": FinetuneConfig(
        r=16,
        alpha=32,
        learning_rate=1e-4,
        epochs=3,
        batch_size=4,
        gradient_accumulation=4,
        max_length=2048,
        warmup_steps=0.03,
        device="cuda",
        bf16=True,
        gradient_checkpointing=True,
    ),
}


@dataclass(frozen=True)
class BaseWeights:
    """A transformers folder to train from, and how to name the adapted model afterwards."""

    folder: Path
    backend: str  # "hf" or "vllm"
    target: str  # what the returned spec points at (``embedded``, a GGUF, a folder)
    options: dict[str, Any]  # the policy spec's options worth keeping


def base_weights(spec: ModelSpec) -> BaseWeights:
    """Map a policy spec to local weights; an API-served model cannot be fine-tuned here."""
    from ads_bench.models.convert import converted_dir, embedded_hf_dir, local_weights_dir

    if spec.options.get("adapter"):
        raise UserError(
            f"policy '{spec.raw}' already has an adapter: fine-tune from its base spec "
            f"'{spec.label}' instead"
        )
    if spec.backend == "embedded":
        if not spec.target:
            return BaseWeights(embedded_hf_dir(), "hf", "embedded", {})
        return BaseWeights(converted_dir(Path(spec.target).expanduser()), "hf", spec.target, {})
    if spec.backend == "hf":
        return BaseWeights(local_weights_dir(f"hf:{spec.target}"), "hf", spec.target, dict(spec.options))
    if spec.backend == "vllm":
        folder = Path(spec.target).expanduser()
        if not (folder / "config.json").is_file():
            raise UserError(
                f"vllm:{spec.target} is not a transformers folder (no config.json): check the path"
            )
        return BaseWeights(folder, "vllm", spec.target, dict(spec.options))
    raise UserError(
        f"fine-tuning needs local weights, but policy '{spec.label}' is served over an API: use "
        "embedded, gguf:/path/model.gguf, hf:/path/to/model or vllm:/path/to/model as the policy"
    )


def base_engine_spec(spec: ModelSpec) -> str:
    """The policy's own weights, with no adapter, on the engine its fine-tuned versions answer on
    (transformers, or vLLM for a vLLM policy): the un-updated reference under this learner."""
    base = base_weights(spec)
    query = urlencode(base.options, safe="/")
    return f"{base.backend}:{base.target}" + (f"?{query}" if query else "")


def adapted_spec(base: BaseWeights, adapter: Path) -> str:
    return f"{base.backend}:{base.target}?" + urlencode(
        {**base.options, "adapter": str(adapter)}, safe="/"
    )


def adapter_key(
    weights_sha: str, context: str | None, examples: list[Example], config: FinetuneConfig
) -> str:
    payload = {
        "recipe": RECIPE_VERSION,
        "base": weights_sha,
        "context": context,
        "examples": examples,
        "config": config.key_fields(),
    }
    return json_sha256(payload, 24)


def as_example(item: AcquiredItem, context: str | None) -> Example:
    instruction, response = item.training_pair()
    prompt = [{"role": "system", "content": context}] if context else []
    prompt.append({"role": "user", "content": instruction})
    return {"prompt": prompt, "completion": [{"role": "assistant", "content": response}]}


def train_or_reuse(
    base: BaseWeights, examples: list[Example], config: FinetuneConfig, target: Path
) -> dict[str, Any]:
    """The training record of the adapter at ``target``, training it first unless it exists."""
    with _train_lock:
        if (target / "adapter_config.json").is_file() and (target / RECORD_FILE).is_file():
            log.info("reusing LoRA adapter %s", target)
            return {**json.loads((target / RECORD_FILE).read_text()), "reused": True}
        log.info("training LoRA adapter %s on %d examples", target.name, len(examples))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
        try:
            record = {**train_lora(base.folder, examples, config, staging), "reused": False}
            shutil.rmtree(staging / "trainer", ignore_errors=True)
            write_json_atomic(staging / RECORD_FILE, record)
            if target.exists() and not (target / RECORD_FILE).is_file():
                shutil.rmtree(target, ignore_errors=True)  # left incomplete by hand: replace it
            try:
                staging.replace(target)
            except OSError:  # another process saved the same adapter first: theirs is as good
                shutil.rmtree(staging, ignore_errors=True)
            return record
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


async def update(
    policy: Policy,
    items: Sequence[AcquiredItem],
    *,
    runtime: Any,
    task_id: str = "",
    config: FinetuneConfig | None = None,
) -> Policy:
    """LoRA-fine-tune the policy on the acquired items; the result answers with the adapter."""
    config = config or FinetuneConfig()
    started = time.perf_counter()
    details: dict[str, Any] = {"learner": "finetune", "task_id": task_id, "n_items": len(items)}
    if not items:
        return dataclasses.replace(policy, details={**details, "n_used": 0, "n_dropped": 0})
    base = await asyncio.to_thread(base_weights, policy.model.spec)
    candidates, dropped = in_call_order(items, lambda item: json.dumps(item.training_pair()))
    examples = [as_example(d.item, policy.context) for d in candidates]
    weights_sha = policy.model.backend.identity.get("weights_sha256") or await asyncio.to_thread(
        tree_sha256, base.folder
    )
    key = adapter_key(weights_sha, policy.context, examples, config)
    target = cache_dir() / "adapters" / key
    try:
        record = await asyncio.to_thread(train_or_reuse, base, examples, config, target)
    except NothingToTrain as nothing:
        record = None
        decisions = _decide(
            candidates, {"kept": [], "notes": nothing.notes, "lengths": nothing.lengths}
        )
    else:
        decisions = _decide(candidates, record)
    used = [d for d in decisions if d.used]
    details.update(
        n_used=len(used),
        n_dropped=len(items) - len(used),
        order_rule=ORDER_RULE,
        order=[d.index for d in used],
        dropped=drop_counts([*decisions, *dropped]),
        items=[d.to_dict() for d in [*decisions, *dropped]],
        config=dataclasses.asdict(config),
        base_weights=str(base.folder),
    )
    if record is None:
        details["seconds"] = round(time.perf_counter() - started, 3)
        return dataclasses.replace(policy, details=details)
    details.update(
        adapter=str(target),
        adapter_key=key,
        training={k: v for k, v in record.items() if k not in ("kept", "notes", "lengths")},
        reused=record["reused"],
        example_tokens=sum(d.tokens or 0 for d in used),  # before truncation to max_length
    )
    model = runtime.model(adapted_spec(base, target), role="policy")
    details["seconds"] = round(time.perf_counter() - started, 3)
    return Policy(model, policy.context, f"{policy.label}+lora-{key[:8]}", details)


def _decide(candidates: list[Decision], record: dict[str, Any]) -> list[Decision]:
    kept = set(record["kept"])
    notes = {int(k): v for k, v in record["notes"].items()}  # JSON made the keys strings
    lengths = {int(k): v for k, v in record["lengths"].items()}
    for position, decision in enumerate(candidates):
        decision.used = position in kept
        decision.reason = notes.get(position)
        decision.tokens = lengths.get(position)
    return candidates


LEARNER = Learner(
    "finetune",
    "LoRA SFT (trl + peft) of the policy on the acquired items; the adapter is cached and reused",
    update,
    FinetuneConfig,
    answer_engine=base_engine_spec,
)
