"""Atomic file writes: a reader sees the old file or the new one, never half of either.

JSON files hold only JSON: a NaN or infinite float (an undefined metric, a standard error over
one cluster) is written as ``null``, "no number", because bare ``NaN`` is not JSON and breaks
every other reader; ``allow_nan=False`` then guarantees that nothing slips through.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def finite_or_none(value: Any) -> Any:
    """``value`` with every NaN or infinite float, however deeply nested, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # numpy scalars and arrays
        return finite_or_none(value.tolist())
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    text = json.dumps(finite_or_none(data), indent=2, ensure_ascii=False, default=str, allow_nan=False)
    write_text_atomic(path, text + "\n")
