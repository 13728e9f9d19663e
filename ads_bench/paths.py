"""Where ads-bench keeps things: never inside the installed package."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ads_bench.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
#: the source checkout (tasks/, leaderboards/, examples/ live beside the package)
REPO_DIR = PACKAGE_DIR.parent
#: where a built wheel carries tasks/ and corpora/: setup.py copies them in at build time, so
#: the repository keeps one copy and an installed package still has its suites and corpus
BUNDLED_DATA_DIR = PACKAGE_DIR / "_data"


def data_root() -> Path:
    """The folder holding ``tasks/`` and ``corpora/``: the copy inside an installed wheel, or
    else the checkout beside the package (an editable install or a plain clone).

    The wheel's copy wins: an installed package's parent is site-packages, where a top-level
    ``tasks`` folder would belong to someone else."""
    return BUNDLED_DATA_DIR if BUNDLED_DATA_DIR.is_dir() else REPO_DIR


def checkout_dir() -> Path | None:
    """The source checkout this package runs from, or None for an installed wheel (whose parent
    folder may sit inside an unrelated git repository, e.g. a project's own ``.venv``)."""
    return None if BUNDLED_DATA_DIR.is_dir() else REPO_DIR


def corpora_dir() -> Path:
    """The shipped corpora and their precomputed embeddings."""
    return data_root() / "corpora"


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
    return Path(override) if override else data_root() / "tasks"
