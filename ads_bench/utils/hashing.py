"""One way to fingerprint a value: sha256 of its canonical JSON, optionally truncated.

Every caller keeps the exact JSON options its digests were made with (they name run folders,
cache rows and checkpoints already on disk), so the options are parameters, not a new default.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any


def json_sha256(value: Any, length: int | None = None, *, default: Callable[[Any], Any] | None = None,
                separators: tuple[str, str] | None = None, ensure_ascii: bool = True,
                encoding_errors: str = "strict") -> str:
    """The hex sha256 of ``value`` as JSON with sorted keys, its first ``length`` characters if given."""
    canonical = json.dumps(value, sort_keys=True, default=default, separators=separators, ensure_ascii=ensure_ascii)
    return text_sha256(canonical, length, encoding_errors=encoding_errors)


def text_sha256(text: str, length: int | None = None, *, encoding_errors: str = "strict") -> str:
    """The hex sha256 of ``text`` in UTF-8, its first ``length`` characters if given."""
    digest = hashlib.sha256(text.encode("utf-8", encoding_errors)).hexdigest()
    return digest[:length] if length else digest
