"""The JSON schema of a trajectory, for engines that can constrain sampling to it.

A small optimizer (the embedded SmolLM2, a 1B model before its first SFT round) writes prose far
more often than a plan: 2 of 12 embedded-model samples parse unconstrained, 12 of 12 under the
schema (``benchmarks/optimizer_format.py``). Constrained decoding (llama.cpp grammars, vLLM
structured outputs, OpenAI ``json_schema`` response formats) makes every sample a trajectory the
parser reads, so no sample — and no reward evaluation — is wasted on format. The schema mirrors :meth:`Trajectory.render`: the
canonical API names, each API's own arguments, and the budget's call limit.
"""

from __future__ import annotations

import json
from typing import Any

from ads_bench.acquisition.trajectory.api_signatures import API_SPECS

#: long enough for a real plan, short enough that a rambling model still reaches the calls
MAX_ANALYSIS_CHARS = 600
MAX_ARG_CHARS = 300
MAX_COUNT = 16


def _call_schema(api: str) -> dict[str, Any]:
    spec = API_SPECS[api]
    args = {
        arg.name: (
            {"type": "string", "minLength": 1, "maxLength": MAX_ARG_CHARS}
            if arg.kind == "text"
            else {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
        )
        for arg in spec.args
    }
    return {
        "type": "object",
        "properties": {
            "api": {"const": api},
            "args": {
                "type": "object",
                "properties": args,
                "required": [arg.name for arg in spec.args if arg.required],
                "additionalProperties": False,
            },
        },
        "required": ["api", "args"],
        "additionalProperties": False,
    }


def trajectory_schema(allowed: tuple[str, ...], max_calls: int | None = None) -> dict[str, Any]:
    """The schema of a trajectory that calls only ``allowed`` APIs, at most ``max_calls`` times."""
    calls: dict[str, Any] = {"type": "array", "items": {"anyOf": [_call_schema(api) for api in allowed]}}
    if max_calls is not None:
        calls["maxItems"] = max_calls
    return {
        "type": "object",
        "properties": {
            "analysis": {"type": "string", "maxLength": MAX_ANALYSIS_CHARS},
            "self_reflection": {"type": "string", "maxLength": MAX_ANALYSIS_CHARS},
            "calls": calls,
        },
        "required": ["analysis", "self_reflection", "calls"],
        "additionalProperties": False,
    }


def trajectory_schema_text(allowed: tuple[str, ...], max_calls: int | None = None) -> str:
    """:func:`trajectory_schema` as canonical JSON text: what a request carries and a cache key hashes."""
    return json.dumps(trajectory_schema(allowed, max_calls), sort_keys=True, separators=(",", ":"))
