"""Learners by name: built-ins, Python registrations, ``ads_bench.learners`` entry points.

A learner is one coroutine, ``update(policy, items, *, runtime, task_id, config) -> Policy``,
plus the dataclass its ``config`` comes in. Run configs hold plain mappings (YAML, CLI flags);
:meth:`Learner.make_config` turns one into that dataclass and rejects unknown keys by name.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning.policy import Policy
from ads_bench.registry import Registry

ENTRY_POINT_GROUP = "ads_bench.learners"

UpdateFn = Callable[..., Awaitable[Policy]]


@dataclass(frozen=True)
class Learner:
    name: str
    description: str
    update: UpdateFn
    config_type: type | None = None
    # spec -> the same weights on the engine this learner's taught policies answer on (None: the
    # policy's own). The un-updated reference answers there too, so only the learning differs.
    answer_engine: Callable[[Any], str] | None = None

    def make_config(self, value: Any = None) -> Any:
        """The learner's config dataclass from None (defaults), an instance, or a mapping."""
        if self.config_type is None or (value is not None and isinstance(value, self.config_type)):
            return value
        what = f"learner '{self.name}'"
        from_mapping = getattr(self.config_type, "from_mapping", None)
        if from_mapping is not None:  # a config with presets or derived options builds itself
            return from_mapping(value or {}, what=what)
        return config_from_mapping(self.config_type, value or {}, what=what)

    async def __call__(
        self,
        policy: Policy,
        items: Sequence[AcquiredItem],
        *,
        runtime: Any,
        task_id: str,
        config: Any = None,
    ) -> Policy:
        return await self.update(
            policy, items, runtime=runtime, task_id=task_id, config=self.make_config(config)
        )

    def options(self) -> str:
        if self.config_type is None:
            return ""
        return ", ".join(
            f"{f.name}={f.default!r}"
            for f in dataclasses.fields(self.config_type)
            if f.default is not dataclasses.MISSING and f.repr
        )


async def base_policy(learner_name: str, model: Any, runtime: Any) -> Policy:
    """The un-updated policy a run teaches and compares against, on the learner's engine: under
    ``finetune`` the taught policy answers through transformers (base + adapter), so the
    reference must too, not through llama.cpp (issue 17, item 6)."""
    import asyncio

    engine = get_learner(learner_name).answer_engine
    if engine is None:
        return Policy(model)
    spec = await asyncio.to_thread(engine, model.spec)  # may convert weights once (cached)
    return Policy(runtime.model(spec, role="policy"))


def _as_learner(name: str, loaded: Any) -> Learner:
    if isinstance(loaded, Learner):
        return loaded
    if callable(loaded):  # a bare update coroutine: describe it by its docstring
        doc = (loaded.__doc__ or "").strip().splitlines()
        return Learner(name, doc[0] if doc else "", loaded)
    raise UserError(
        f"learner '{name}' is neither a Learner nor a function: fix its entry point"
    )


#: learners by name; the built-ins are imported on first use (each module defines ``LEARNER``)
LEARNERS = Registry(
    "learners",
    builtins={
        "icl": "ads_bench.learning.icl:LEARNER",
        "finetune": "ads_bench.learning.finetune:LEARNER",
        "source-finetune": "ads_bench.learning.source_finetune:LEARNER",
    },
    adapt=_as_learner,
    points=lambda: _entry_points(),  # looked up on each call, so a test can stand in for it
)


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def register_learner(learner: Learner) -> Learner:
    """Add (or replace) a learner for this process."""
    return LEARNERS.register(learner.name, learner, description=learner.description)


def unregister_learner(name: str) -> None:
    LEARNERS.unregister(name)


def learner_names() -> list[str]:
    return LEARNERS.names()


def get_learner(name: str) -> Learner:
    """The learner called ``name``; Python registrations win over built-ins over entry points."""
    if name not in LEARNERS:
        raise UserError(f"no learner named '{name}': use one of {', '.join(learner_names())}")
    return LEARNERS.load(name)


def learner_table() -> list[dict[str, object]]:
    """Rows for ``ads-bench list learners``."""
    rows: list[dict[str, object]] = []
    for entry in LEARNERS:
        name = entry.name
        try:
            learner = get_learner(name)
        except UserError as exc:
            rows.append({"name": name, "description": f"(unavailable: {exc})", "options": "",
                         "from": entry.source})
            continue
        rows.append(
            {"name": name, "description": learner.description, "options": learner.options(),
             "from": entry.source}
        )
    return rows


# -- config dataclasses from plain mappings ---------------------------------------------------


def config_from_mapping(config_type: type, values: Mapping[str, Any], *, what: str) -> Any:
    """Build ``config_type`` from a mapping, converting YAML/CLI scalars to the declared types."""
    converted = convert_options(config_type, values, what=what)
    try:
        return config_type(**converted)
    except (TypeError, ValueError) as exc:
        raise UserError(f"bad config for {what}: {exc}") from exc


def convert_options(config_type: type, values: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """The mapping's options as ``config_type``'s field types; unknown names are a UserError."""
    if not isinstance(values, Mapping):
        raise UserError(f"the config of {what} must be a mapping of option: value, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(config_type) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(
            f"unknown option(s) {', '.join(unknown)} for {what}: use {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(config_type)
    return {key: _convert(value, hints[key], key, what) for key, value in values.items()}


def _convert(value: Any, hint: Any, key: str, what: str) -> Any:
    """One option as its declared type, by pydantic's lax conversion (``"3"`` -> 3, ``"yes"`` ->
    True, ``2.5`` for an int refused); a tuple may also come as one comma-separated flag."""
    if _is_tuple(hint) and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return _adapter(hint).validate_python(value)
    except ValidationError as exc:
        raise UserError(f"option {key}={value!r} of {what} must be of type {_type_name(hint)}") from exc


@functools.cache
def _adapter(hint: Any) -> TypeAdapter:
    # YAML and flags give numbers where a str is declared (a device "0"): take them as text
    return TypeAdapter(hint, config=ConfigDict(coerce_numbers_to_str=True))


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kept = [choice for choice in typing.get_args(hint) if choice is not type(None)]
        return kept[0] if len(kept) == 1 else hint
    return hint


def _is_tuple(hint: Any) -> bool:
    return typing.get_origin(_without_none(hint)) is tuple


def _type_name(hint: Any) -> str:
    hint = _without_none(hint)
    return getattr(hint, "__name__", str(hint))
