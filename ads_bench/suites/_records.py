"""Reading rows of data for suites: JSON, JSONL (optionally gzip), parquet, CSV, or a local
Hugging Face dataset folder (``save_to_disk``); and reaching into a row by a dotted path."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError

Record = dict[str, Any]
_MISSING = object()

SUPPORTED = (
    ".json, .jsonl, .json.gz, .jsonl.gz, .parquet, .csv, or a `datasets` save_to_disk folder"
)


def _suffixes(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def read_records(path: Path, *, split: str | None = None) -> list[Record]:
    """All rows of a data file as dicts; one clear :class:`UserError` when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"data file {path} does not exist: fix the path (relative paths start at the suite YAML's folder)"
        )
    try:
        if path.is_dir():
            return _read_hf_folder(path, split)
        name = _suffixes(path)
        if name.endswith(".jsonl"):
            return _read_jsonl(path)
        if name.endswith(".json"):
            return _read_json(path)
        if name.endswith(".parquet"):
            from ads_bench.extras import require

            require("suites", f"reading {path.name}")
            import pandas as pd

            return pd.read_parquet(path).to_dict(orient="records")
        if name.endswith(".csv"):
            from ads_bench.extras import require

            require("suites", f"reading {path.name}")
            import pandas as pd

            return pd.read_csv(path, keep_default_na=False).to_dict(orient="records")
    except UserError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}; give a valid {SUPPORTED}") from exc
    raise UserError(f"cannot read {path}: unknown format; give {SUPPORTED}")


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _read_jsonl(path: Path) -> list[Record]:
    rows: list[Record] = []
    with _open_text(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"{path}:{number} is not valid JSON ({exc.msg}): fix that line"
                ) from exc
            if not isinstance(row, dict):
                raise UserError(
                    f"{path}:{number} is not a JSON object: each line must be one object"
                )
            rows.append(row)
    return rows


def _read_json(path: Path) -> list[Record]:
    with _open_text(path) as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(data, dict):
        # {"data": [...]} or {key: record}: both are common
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(r, dict) for r in lists[0]):
            data = lists[0]
        elif all(isinstance(v, dict) for v in data.values()):
            data = [{"key": k, **v} for k, v in data.items()]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UserError(f"{path} must hold a JSON list of objects")
    return data


def _read_hf_folder(path: Path, split: str | None) -> list[Record]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError as exc:
        raise UserError(
            f"{path} is a folder but not a `datasets` save_to_disk folder: point at a data file instead"
        ) from exc
    if isinstance(loaded, datasets.DatasetDict):
        if split is None:
            if len(loaded) != 1:
                raise UserError(f"{path} has splits {sorted(loaded)}: name one with `split:`")
            split = next(iter(loaded))
        if split not in loaded:
            raise UserError(f"{path} has no split {split!r}; it has {sorted(loaded)}")
        loaded = loaded[split]
    return [dict(row) for row in loaded]


def get_path(record: Mapping[str, Any], dotted: str, default: Any = _MISSING) -> Any:
    """``get_path(row, "choices.0.turns")``: keys and list indexes separated by dots."""
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif (
            isinstance(value, (list, tuple))
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            if default is _MISSING:
                raise KeyError(dotted)
            return default
    return value


def has_path(record: Mapping[str, Any], dotted: str) -> bool:
    return get_path(record, dotted, default=_MISSING_SENTINEL) is not _MISSING_SENTINEL


_MISSING_SENTINEL = object()
