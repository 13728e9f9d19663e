"""Reading the trajectory an optimizer model wrote: :func:`parse_trajectory`.

Finds the trajectory in the text (a JSON object, a bare list of calls, JSON lines, or as a last
resort numbered lines), reads each call in whichever shape the model wrote it, validates it,
drops duplicates and admits the rest against a budget. Never executes any of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ads_bench.acquisition.trajectory.api_signatures import resolve_api_name, squash_name
from ads_bench.acquisition.trajectory.budget import Budget, BudgetTracker, CostFn
from ads_bench.acquisition.trajectory.lenient_json import (
    is_partial,
    json_values,
    plain,
)
from ads_bench.acquisition.trajectory.lines import call_from_line, read_lines
from ads_bench.acquisition.trajectory.raw_call import RawCall, validate
from ads_bench.acquisition.trajectory.records import ApiCall, Dropped, Trajectory


def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Field names models use, compared squashed (lower case, no punctuation: "api_calls" -> "apicalls").
_ANALYSIS_KEYS = _keys("analysis taskanalysis analysisofthetask taskneeds needs")
_REFLECTION_KEYS = _keys(
    "selfreflection reflection selfreflections weaknesses weakness policyweaknesses"
)
_CALLS_KEYS = _keys(
    "calls apicalls trajectory apitrajectory actions plan steps toolcalls apis requests "
    "acquisitioncalls dataacquisition dataacquisitioncalls"
)
_API_KEYS = _keys(
    "api apiname name tool toolname function functionname type action call method endpoint"
)
_ARGS_KEYS = _keys("args arguments parameters params input inputs kwargs argument")


def _field(mapping: Mapping, keys: frozenset[str]) -> tuple[str | None, Any]:
    """The first (key, value) whose key is one of ``keys`` once squashed, or (None, None)."""
    for key, value in mapping.items():
        if isinstance(key, str) and squash_name(key) in keys:
            return key, value
    return None, None


def _api_field(item: Mapping) -> tuple[str | None, Any]:
    """The key naming the API, preferring one whose value is an API name or a nested call
    (``{"type": "function", "function": {...}}``)."""
    candidates = [
        (k, v) for k, v in item.items() if isinstance(k, str) and squash_name(k) in _API_KEYS
    ]
    for key, value in candidates:
        if isinstance(value, dict) or resolve_api_name(value) is not None:
            return key, value
    return candidates[0] if candidates else (None, None)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value)
    return "" if value is None else json.dumps(plain(value), ensure_ascii=False)


def _raw_call(item: Any) -> RawCall:
    """Read one element of the model's call list in whichever shape it came."""
    raw = RawCall(source=item, truncated=is_partial(item))
    if isinstance(item, str):
        parsed = call_from_line(item)
        return parsed if parsed is not None else raw
    if isinstance(item, list):  # ["question_answering", "What ...?"]
        if item and isinstance(item[0], str):
            raw.api_name = item[0]
            rest = item[1:]
            if len(rest) == 1 and isinstance(rest[0], dict):
                raw.named = dict(rest[0])
            else:
                raw.positional = list(rest)
        return raw
    if not isinstance(item, dict):
        return raw
    api_key, api_value = _api_field(item)
    if isinstance(api_value, dict):  # OpenAI style: {"function": {"name": ..., "arguments": ...}}
        inner = _raw_call(api_value)
        inner.source, inner.truncated = item, raw.truncated or inner.truncated
        return inner
    if api_key is None:  # {"question_answering": {...}} or {"QA": "What ...?"}
        api_key = next((k for k in item if resolve_api_name(k) is not None), None)
        if api_key is not None:
            _absorb_args(raw, item[api_key])
        api_value = api_key
    raw.api_name = api_value
    args_key, args_value = _field(item, _ARGS_KEYS)
    if args_key is not None:
        _absorb_args(raw, args_value)
    for key, value in item.items():  # arguments written beside "api"
        if key not in (api_key, args_key):
            raw.named.setdefault(key, value)
    if isinstance(raw.api_name, str) and resolve_api_name(raw.api_name) is None:
        line = call_from_line(raw.api_name)  # {"api": "question_answering('What ...?')"}
        if line is not None:
            line.named = {**raw.named, **line.named}
            line.source, line.truncated = item, raw.truncated
            return line
    return raw


def _absorb_args(raw: RawCall, value: Any) -> None:
    """Add the arguments in ``value`` (an object, a list, a JSON string, one value) to ``raw``."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        decoded = next(json_values(value), None)  # arguments given as a JSON string
        if isinstance(decoded, dict):
            value = decoded
    if isinstance(value, dict):
        raw.named.update(value)
        raw.truncated = raw.truncated or is_partial(value)
    elif isinstance(value, list):
        raw.positional.extend(value)
    elif value is not None:
        raw.positional.append(value)


def _is_call_like(item: Any) -> bool:
    """Whether ``item`` names one of the APIs in a shape :func:`_raw_call` reads."""
    if isinstance(item, dict):
        _, api_value = _api_field(item)
        if isinstance(api_value, dict) or resolve_api_name(api_value) is not None:
            return True
        if isinstance(api_value, str) and call_from_line(api_value) is not None:
            return True
        return any(resolve_api_name(key) is not None for key in item)
    if isinstance(item, list):
        return bool(item) and resolve_api_name(item[0]) is not None
    if isinstance(item, str):
        return call_from_line(item) is not None
    return False


def _find_keyed(value: Any, depth: int = 0) -> dict | None:
    """The first object (searching inside wrappers) that holds a calls, analysis or
    reflection field, preferring one with a usable calls field."""
    if depth > 6:
        return None
    if isinstance(value, dict):
        calls_key, calls_value = _field(value, _CALLS_KEYS)
        is_wrapper = isinstance(calls_value, dict) and _expand_calls(calls_value) is None
        if calls_key is not None and not is_wrapper:  # {"plan": {"analysis": ..., "calls": ...}}
            return value
        for child in value.values():
            found = _find_keyed(child, depth + 1)
            if found is not None and _field(found, _CALLS_KEYS)[0] is not None:
                return found
        squashed = {squash_name(k) for k in value if isinstance(k, str)}
        if calls_key is not None or squashed & (_ANALYSIS_KEYS | _REFLECTION_KEYS):
            return value
    elif isinstance(value, list):
        for child in value:
            found = _find_keyed(child, depth + 1)
            if found is not None:
                return found
    return None


def _expand_calls(value: Any) -> list[Any] | None:
    """The list of raw call items that a calls field holds, or None when it holds none."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if _api_field(value)[0] is not None or (len(value) == 1 and _is_call_like(value)):
            return [value]
        if value and all(resolve_api_name(k) is not None for k in value):  # grouped by API
            items: list[Any] = []
            for api_name, group in value.items():
                for entry in group if isinstance(group, list) else [group]:
                    items.append({"api": api_name, "args": entry})
            return items
        return None
    if isinstance(value, str):
        lines = read_lines(value)[1]
        return [call.source for call in lines] or None
    return None


def _locate(text: str) -> tuple[str, str, list[Any] | None, str | None]:
    """(analysis, self_reflection, raw call items, error) found in ``text``."""
    values = list(json_values(text))
    keyed = next((found for v in values if (found := _find_keyed(v)) is not None), None)
    analysis = reflection = ""
    if keyed is not None:
        analysis = _as_text(_field(keyed, _ANALYSIS_KEYS)[1])
        reflection = _as_text(_field(keyed, _REFLECTION_KEYS)[1])
        calls_key, calls_value = _field(keyed, _CALLS_KEYS)
        if calls_key is not None:
            items = _expand_calls(calls_value)
            if items is None:
                return (
                    analysis,
                    reflection,
                    None,
                    (f"{calls_key!r} must be a list of calls, got {type(calls_value).__name__}"),
                )
            return analysis, reflection, items, None
    for value in values:  # a bare list of calls
        if isinstance(value, list) and any(_is_call_like(item) for item in value):
            return analysis, reflection, value, None
    loose = [v for v in values if isinstance(v, dict) and v is not keyed and _is_call_like(v)]
    if loose:  # one JSON object per call, JSON-lines style
        return analysis, reflection, loose, None
    sections, line_calls = read_lines(text)
    if any(resolve_api_name(call.api_name) for call in line_calls):
        return (
            analysis or sections.get("analysis", ""),
            reflection or sections.get("self_reflection", ""),
            line_calls,
            None,
        )
    if keyed is not None:
        return analysis, reflection, None, "the trajectory has no 'calls' list"
    return (
        "",
        "",
        None,
        (
            "no trajectory found: expected a JSON object with a 'calls' list "
            "or a numbered list of API calls"
        ),
    )


def parse_trajectory(
    text: str, *, budget: Budget | None = None, cost_of: CostFn | None = None
) -> Trajectory:
    """Read the trajectory an optimizer model wrote. Never raises on any ``text``.

    Calls are validated, then de-duplicated, then admitted against ``budget`` in the order
    written; each refused call is in ``dropped`` with its reason. When no trajectory can be
    read, ``calls`` is empty and ``error`` says why. ``cost_of`` prices a call; it is needed
    when ``budget.max_cost`` is set (ValueError otherwise: a caller's mistake, not the model's).
    """
    if budget is not None and budget.max_cost is not None and cost_of is None:
        raise ValueError("parse_trajectory: a budget with max_cost needs cost_of")
    if not isinstance(text, str):
        return Trajectory(error=f"expected text, got {type(text).__name__}", raw=repr(text))
    if not text.strip():
        return Trajectory(error="empty output", raw=text)
    try:
        analysis, reflection, items, error = _locate(text)
        if items is None:
            return Trajectory(analysis, reflection, error=error, raw=text)
        raw_calls = [item if isinstance(item, RawCall) else _raw_call(item) for item in items]
        checked = [validate(raw, position) for position, raw in enumerate(raw_calls)]
        sources = [plain(raw.source) for raw in raw_calls]
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises on model output"
        return Trajectory(error=f"unreadable output ({type(exc).__name__}: {exc})", raw=text)

    tracker = BudgetTracker(budget, cost_of)
    first_seen: dict[tuple, int] = {}
    calls: list[ApiCall] = []
    dropped: list[Dropped] = []
    for entry in checked:
        if isinstance(entry, Dropped):
            dropped.append(entry)
            continue
        first = first_seen.setdefault(entry.key(), entry.position)
        if first != entry.position:
            reason = f"duplicate call: same as position {first}"
        else:
            reason = tracker.try_admit(entry)
        if reason is not None:
            dropped.append(Dropped(entry.position, sources[entry.position], reason))
            continue
        calls.append(entry)
    return Trajectory(analysis, reflection, calls, dropped, None, text)
