"""Where ads-bench keeps things: never inside the installed package."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ads_bench.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
#: the source checkout (tasks/, leaderboards/, examples/ live beside the package)
REPO_DIR = PACKAGE_DIR.parent


def cache_dir() -> Path:
    """The user's cache folder (responses, converted weights, retrieval indexes).

    Overridable with ``ADS_BENCH_CACHE_DIR`` or the CLI's ``--cache-dir``.
    """
    override = os.environ.get("ADS_BENCH_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("ads-bench"))
    where = "ADS_BENCH_CACHE_DIR (or --cache-dir)" if override else "the user cache folder"
    if path.exists() and not path.is_dir():
        raise UserError(f"{where} is {path}, which is a file, not a folder: point it at a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission, read-only disk
        raise UserError(f"cannot create the cache folder {path} ({exc.strerror}): "
                        "point ADS_BENCH_CACHE_DIR or --cache-dir at a writable folder") from exc
    return path


def tasks_dir() -> Path:
    """Suite definitions and their data; ``ADS_BENCH_TASKS_DIR`` adds nothing but replaces it."""
    override = os.environ.get("ADS_BENCH_TASKS_DIR")
    return Path(override) if override else REPO_DIR / "tasks"
