"""Append-only JSONL logs: the run's database, one record per line, as FastChat and Arena-Hard keep them.

Appending one line is the only write, flushed and fsynced, so a killed run keeps every record it
finished; a torn last line (the kill landed mid-write) is dropped on the next open. Anyone can
audit a result with a text editor.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class JsonlLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_torn_tail()

    def _repair_torn_tail(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        with self.path.open("r+b") as handle:
            handle.truncate(keep)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def records(self) -> list[dict[str, Any]]:
        return list(self)

    def index(self, key: str = "id") -> dict[Any, dict[str, Any]]:
        """The latest record per key (a later line for the same key supersedes an earlier one)."""
        return {record[key]: record for record in self}
