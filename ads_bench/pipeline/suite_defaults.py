"""Run settings a suite's YAML recommends for itself (``metadata.default_*``), used where the user
gave none: ``wikifacts`` names its judge (``default_judge: program:numeric``, the truth is known)
and its retrieval depth (``default_retrieval_k: 1``: each question names one article, so one
document per query; a second one per query only adds distractors that a small policy confuses
with the answer's source, tasks/README.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path
from typing import Any

#: RunConfig field -> the suite metadata key that recommends a value for it
SUITE_DEFAULT_KEYS = {"judge": "default_judge", "retrieval_k": "default_retrieval_k"}


def suite_metadata(suite: str) -> dict[str, Any]:
    """A suite YAML's ``metadata`` mapping, read without loading its data; {} for a suite that is
    not a YAML file or cannot be read (its own loading names what is wrong with it)."""
    import yaml

    from ads_bench.suites._registry import suite_entries

    if suite.endswith((".yaml", ".yml")) and Path(suite).is_file():
        file = suite
    else:
        entry = suite_entries().get(suite)
        file = entry.file if entry is not None else None
    if not file:
        return {}
    try:
        raw = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    return dict(metadata) if isinstance(metadata, dict) else {}


def suite_defaults(suite: str) -> dict[str, Any]:
    """The RunConfig values the suite recommends, e.g. ``{"judge": "program:numeric", "retrieval_k": 1}``."""
    metadata = suite_metadata(suite)
    out: dict[str, Any] = {}
    for field, key in SUITE_DEFAULT_KEYS.items():
        value = metadata.get(key)
        if value not in (None, ""):
            out[field] = int(value) if field == "retrieval_k" else str(value)
    return out


def with_suite_defaults(config: Any, given: Collection[str]) -> Any:
    """``config`` with the suite's recommendations for every field in SUITE_DEFAULT_KEYS that the
    user did not give (``given``: fields set on the command line or in a config file)."""
    defaults = {k: v for k, v in suite_defaults(config.suite).items() if k not in given}
    return dataclasses.replace(config, **defaults) if defaults else config
