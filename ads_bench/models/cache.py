"""The persistent response cache under every backend.

One SQLite file in WAL mode: many readers and one writer at a time across threads *and*
processes, each write its own transaction, so a killed run keeps everything it finished.
Only successful completions are stored (a failure is never cached as a result).

The key holds everything that changes an answer: the backend's identity (weights hash or
model name, adapter, engine), the messages, the sampling parameters, the seed and the
sample index — so K sampled trajectories stay K distinct samples across reruns.

A cache that cannot be used (a corrupt file, a folder where the file should be) is the user's to
fix, so every SQLite error becomes one :class:`~ads_bench.errors.UserError` naming the fix;
``ads-bench cache clear`` repairs a corrupt cache by deleting its files (:func:`delete_cache_files`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.models.types import ChatRequest, Completion
from ads_bench.paths import cache_dir
from ads_bench.utils.hashing import json_sha256

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
    # surrogatepass: a lone surrogate in someone's text still gets a key (valid text hashes as before)
    return json_sha256(payload, ensure_ascii=False, separators=(",", ":"), encoding_errors="surrogatepass")


def _json_text(value: Any) -> str:
    """JSON that SQLite can store: readable UTF-8, escaped only where a lone surrogate needs it."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


#: SQLite's primary result codes (https://sqlite.org/rescode.html); the ``sqlite3`` module names
#: them only from Python 3.11, and the package supports 3.10
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CORRUPT, SQLITE_NOTADB = 5, 6, 11, 26
#: SQLite's primary result codes for a damaged file
_CORRUPT_CODES = {SQLITE_CORRUPT, SQLITE_NOTADB}


class CacheCorrupt(UserError):
    """The cache file is damaged; ``ads-bench cache clear`` deletes and recreates it."""


def cache_error(path: Path, exc: sqlite3.Error) -> UserError:
    """The one line a user sees for an SQLite error on the cache at ``path``."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in _CORRUPT_CODES:
        return CacheCorrupt(f"the response cache at {path} is corrupt ({exc}): run `ads-bench cache clear`")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return UserError(f"the response cache at {path} stayed locked by another process ({exc}): "
                         "wait for it, point --cache-dir elsewhere, or run with --no-cache")
    return UserError(
        f"cannot use the response cache at {path} ({exc}): check that its folder is writable and has "
        "space, point --cache-dir elsewhere, or run with --no-cache"
    )


def default_cache_path() -> Path:
    return cache_dir() / "responses.sqlite3"


def cache_files(path: Path) -> list[Path]:
    """The database and the journal files SQLite keeps beside it."""
    return [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def delete_cache_files(path: Path) -> list[Path]:
    """Remove a cache's files (a corrupt one cannot be opened to be emptied); returns those removed."""
    removed = []
    for file in cache_files(path):
        if file.is_file() or file.is_symlink():
            file.unlink()
            removed.append(file)
    return removed


@dataclass(frozen=True)
class CacheStats:
    path: Path
    entries: int
    size_bytes: int
    by_model: dict[str, int]


class ResponseCache:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_cache_path()
        if self.path.is_dir():
            raise UserError(
                f"the response cache at {self.path} is a folder, not a database file: move that folder "
                "away, or point --cache-dir elsewhere"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the cache folder {self.path.parent} ({exc.strerror}): "
                            "point --cache-dir or ADS_BENCH_CACHE_DIR at a writable folder") from exc
        self._lock = threading.Lock()
        with self._sqlite_errors():
            self._db = sqlite3.connect(
                self.path, timeout=60, check_same_thread=False, isolation_level=None
            )
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS responses ("
                    " key TEXT PRIMARY KEY, model TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL)"
                )
            except sqlite3.Error:
                self._db.close()
                raise

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        """SQLite errors as one line naming the fix; misuse of the connection stays a bug."""
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as exc:
            raise cache_error(self.path, exc) from exc

    def get(self, key: str) -> Completion | None:
        with self._lock, self._sqlite_errors():
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return Completion.from_dict(json.loads(row[0]), cached=True)

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        with self._lock, self._sqlite_errors():
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
        value = _json_text(completion.to_dict())
        with self._lock, self._sqlite_errors():
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model, value, created) VALUES (?, ?, ?, ?)",
                (key, model, value, time.time()),
            )

    def stats(self) -> CacheStats:
        with self._lock, self._sqlite_errors():
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
        with self._lock, self._sqlite_errors():
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
