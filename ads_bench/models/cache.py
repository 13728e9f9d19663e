"""The persistent response cache under every backend.

One SQLite file in WAL mode: many readers and one writer at a time across threads *and*
processes, each write its own transaction, so a killed run keeps everything it finished.
Only successful completions are stored (a failure is never cached as a result).

The key holds everything that changes an answer: the backend's identity (weights hash or
model name, adapter, engine), the messages, the sampling parameters, the seed and the
sample index — so K sampled trajectories stay K distinct samples across reruns.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.models.types import ChatRequest, Completion
from ads_bench.paths import cache_dir

#: bump when the key layout or the stored record changes, so old entries are never misread
KEY_VERSION = 1


def request_key(identity: dict[str, Any], request: ChatRequest, sample_index: int) -> str:
    params = request.params.to_dict()
    params.pop("n")  # the sample index stands in for n: sample i is the same entry whatever n asked
    payload = {
        "v": KEY_VERSION,
        "backend": identity,
        "messages": list(request.messages),
        "params": params,
        "sample": sample_index,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    path: Path
    entries: int
    size_bytes: int
    by_model: dict[str, int]


class ResponseCache:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else cache_dir() / "responses.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=60, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses ("
            " key TEXT PRIMARY KEY, model TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL)"
        )

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return Completion.from_dict(json.loads(row[0]), cached=True)

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, value in rows:
                    found[key] = Completion.from_dict(json.loads(value), cached=True)
        return found

    def put(self, key: str, model: str, completion: Completion) -> None:
        value = json.dumps(completion.to_dict(), ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model, value, created) VALUES (?, ?, ?, ?)",
                (key, model, value, time.time()),
            )

    def stats(self) -> CacheStats:
        with self._lock:
            rows = self._db.execute(
                "SELECT model, COUNT(*) FROM responses GROUP BY model ORDER BY 2 DESC"
            ).fetchall()
        size = sum(
            p.stat().st_size
            for p in self.path.parent.glob(self.path.name + "*")
            if p.is_file()
        )
        return CacheStats(self.path, sum(n for _, n in rows), size, dict(rows))

    def clear(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                removed = self._db.execute("DELETE FROM responses").rowcount
            else:
                removed = self._db.execute("DELETE FROM responses WHERE model = ?", (model,)).rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
