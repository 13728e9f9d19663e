"""Search indexes on disk: one folder per corpus fingerprint and index key, built once under a file
lock, written to a staging folder and moved into place with its manifest, so a reader finds a
whole index or none.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from ads_bench import paths
from ads_bench.acquisition.corpus import Corpus

MANIFEST = "manifest.json"


T = TypeVar("T")


def index_folder(corpus: Corpus, key: str, cache_dir: Path | None = None) -> Path:
    return (cache_dir or paths.cache_dir()) / "indexes" / corpus.fingerprint / key


def load_or_build(
    folder: Path,
    corpus: Corpus,
    build: Callable[[], T],
    save: Callable[[T, Path], None],
    load: Callable[[Path], T],
) -> tuple[T, Literal["built", "loaded"]]:
    """Load the index in ``folder``, or build it, save it atomically, and return it."""
    if (folder / MANIFEST).is_file():
        return load(folder), "loaded"
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / MANIFEST).is_file():  # another process built it while we waited
            return load(folder), "loaded"
        # only the lock holder builds, so what is left here comes from a crashed build
        for leftover in folder.parent.glob(f".{folder.name}.tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if folder.exists():  # an index without its manifest was never completed
            shutil.rmtree(folder)
        started = time.perf_counter()
        index = build()
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
        try:
            save(index, staging)
            manifest = {
                "key": folder.name,
                "corpus_name": corpus.name,
                "corpus_fingerprint": corpus.fingerprint,
                "documents": len(corpus),
                "build_seconds": round(time.perf_counter() - started, 3),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return index, "built"
