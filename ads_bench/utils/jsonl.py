"""Append-only JSONL logs: the run's database, one record per line, as FastChat and Arena-Hard keep them.

Appending one line is the only write, flushed and fsynced, so a killed run keeps every record it
finished. Anyone can audit a result with a text editor.

Reading never modifies the file: ``report``, ``leaderboard`` and ``rescore`` may read a log while
a sweep is still appending to it. So a reader

- keeps a complete last line that merely lacks its newline (someone edited the file by hand);
- ignores an unfinished last line (no newline, does not parse): a write in progress, or one a
  kill cut short;
- skips a line in the middle that is not a JSON object, logs one warning naming the file and
  the line numbers, and goes on; :attr:`JsonlLog.skipped` counts them.

Only the writer, on its first append, repairs the tail: it drops an unfinished last line and adds
the missing newline to a complete one, so the new record never fuses with the old.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ads_bench.records import check_version

log = logging.getLogger(__name__)

#: (file, skipped line numbers) already warned about: a log is read many times per command
_WARNED: set[tuple[str, tuple[int, ...]]] = set()


def _parse(line: bytes) -> dict[str, Any] | None:
    """The record on ``line``, or None when it is not a JSON object."""
    try:
        record = json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both derive from it
        return None
    return record if isinstance(record, dict) else None


class JsonlLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        #: lines the last read skipped because they were not JSON objects (the unfinished
        #: last line of a write in progress is not counted: it is not garbage, only early)
        self.skipped = 0
        self._tail_checked = False

    def append(self, record: dict[str, Any]) -> None:
        # NaN and Infinity are not JSON: a file holding them breaks every strict reader, so a
        # non-finite number is the caller's bug and fails here rather than in someone's parser
        line = json.dumps(record, ensure_ascii=False, default=str, allow_nan=False) + "\n"
        try:
            data = line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (from a model's reply) is kept, escaped
            data = (json.dumps(record, default=str, allow_nan=False) + "\n").encode("ascii")
        if not self._tail_checked:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._repair_tail()
            self._tail_checked = True
        with self.path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _repair_tail(self) -> None:
        """Make the file end at a line boundary before the first append: a last line without its
        newline is kept (newline added) if it is a record, dropped if a kill tore it."""
        if not self.path.is_file():
            return
        with self.path.open("r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            # only the last line matters: read back to the previous newline, however long it is
            start = size
            while start > 0:
                step = min(start, 1 << 16)
                handle.seek(start - step)
                chunk = handle.read(step)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    start = start - step + newline + 1
                    break
                start -= step
            handle.seek(start)
            tail = handle.read()
            if _parse(tail) is not None:
                handle.seek(size)
                handle.write(b"\n")
            else:
                log.warning("%s: dropped an unfinished last line (%d bytes) left by an interrupted write",
                            self.path, len(tail))
                handle.truncate(start)
            handle.flush()
            os.fsync(handle.fileno())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.skipped = 0
        if not self.path.is_file():
            return
        bad: list[int] = []
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = _parse(line)
                if record is not None:
                    check_version(record, self.path)  # a newer release's log: one line, not a KeyError later
                    yield record
                elif line.endswith(b"\n"):
                    bad.append(number)
                # else: the unfinished last line of a write in progress (or of a killed one)
        self.skipped = len(bad)
        if bad and (str(self.path), tuple(bad)) not in _WARNED:
            _WARNED.add((str(self.path), tuple(bad)))
            shown = ", ".join(map(str, bad[:10])) + (", ..." if len(bad) > 10 else "")
            log.warning("%s: skipped %d line%s that %s not a JSON record (line %s)", self.path, len(bad),
                        "" if len(bad) == 1 else "s", "is" if len(bad) == 1 else "are", shown)

    def records(self) -> list[dict[str, Any]]:
        return list(self)

    def index(self, key: str = "id") -> dict[Any, dict[str, Any]]:
        """The latest record per key (a later line for the same key supersedes an earlier one);
        records without the key are left out."""
        return {record[key]: record for record in self if key in record}
