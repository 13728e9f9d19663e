"""A call as the model wrote it, and its check against the API's spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ads_bench.acquisition.trajectory.api_signatures import (
    API_SPECS,
    ArgSpec,
    resolve_api_name,
    squash_name,
)
from ads_bench.acquisition.trajectory.lenient_json import plain
from ads_bench.acquisition.trajectory.records import ApiCall, Dropped


@dataclass
class RawCall:
    """A call as written, before validation: the API name the model used and its arguments."""

    source: Any
    api_name: Any = None
    positional: list[Any] = field(default_factory=list)
    named: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False


def _coerce(arg: ArgSpec, value: Any) -> tuple[Any, str | None]:
    """The argument's canonical value, or why it is unusable."""
    if arg.kind == "text":
        if isinstance(value, str):
            return value.strip(), None
        return None, f"wrong arg type: {arg.name} must be text (got {type(value).__name__})"
    number = value
    if (isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value)) or (
        isinstance(value, float) and value.is_integer()
    ):
        number = int(value)  # "3" and 3.0 mean 3
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return number, None
    return None, f"wrong arg type: {arg.name} must be a positive integer (got {_short(value)})"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate(raw: RawCall, position: int) -> ApiCall | Dropped:
    """The call ``raw`` means, with canonical API and argument names, or why it is dropped."""
    source = plain(raw.source)
    if raw.truncated:
        return Dropped(position, source, "truncated output: the call was cut off")
    if raw.api_name is None:
        return Dropped(position, source, "not an api call: no API name")
    api = resolve_api_name(raw.api_name)
    if api is None:
        return Dropped(position, source, f"unknown api: {_short(raw.api_name)}")
    spec = API_SPECS[api]
    named = {squash_name(str(k)): v for k, v in reversed(list(raw.named.items()))}  # first wins
    args: dict[str, Any] = {}
    for index, arg in enumerate(spec.args):
        value = next(
            (named[name] for name in map(squash_name, (arg.name, *arg.aliases)) if name in named),
            raw.positional[index] if index < len(raw.positional) else None,
        )
        if value is None or (isinstance(value, str) and not value.strip()):
            if arg.required:
                return Dropped(position, source, f"missing required arg: {arg.name}")
            continue
        coerced, problem = _coerce(arg, value)
        if problem:
            return Dropped(position, source, problem)
        args[arg.name] = coerced
    return ApiCall(api, args, position)
