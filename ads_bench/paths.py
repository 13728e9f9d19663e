"""Where ads-bench keeps things: never inside the installed package."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent
#: the source checkout (tasks/, leaderboards/, examples/ live beside the package)
REPO_DIR = PACKAGE_DIR.parent


def cache_dir() -> Path:
    """The user's cache folder (responses, converted weights, retrieval indexes).

    Overridable with ``ADS_BENCH_CACHE_DIR`` or the CLI's ``--cache-dir``.
    """
    override = os.environ.get("ADS_BENCH_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("ads-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def tasks_dir() -> Path:
    """Suite definitions and their data; ``ADS_BENCH_TASKS_DIR`` adds nothing but replaces it."""
    override = os.environ.get("ADS_BENCH_TASKS_DIR")
    return Path(override) if override else REPO_DIR / "tasks"
