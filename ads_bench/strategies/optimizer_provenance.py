"""Which optimizer an optimizer-driven run used, and what kind of ablation that makes it.

A single-API ablation can mean two things (issue 17, item 3): the optimizer trained with all
APIs and told about one at inference, or an optimizer trained with that API alone
(``ads-bench train --apis ir``). A checkpoint records the APIs it was trained with in its
``ads_stats.json`` (written by :mod:`.trainer`); older checkpoints, made before ``--apis``
existed, were all trained with every API. :func:`describe_optimizer` reads that back for a
spec and says, in the words a leaderboard row shows, which of the two a run is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import API_NAMES
from ads_bench.errors import UserError
from ads_bench.models.spec import parse_spec
from ads_bench.strategies.optimizer_specs import adapter_paths

SHORT_NAMES = {"ir": INFORMATION_RETRIEVAL, "dg": DEMONSTRATION_GENERATION, "qa": QUESTION_ANSWERING}
_ABBREVIATION = {full: short.upper() for short, full in SHORT_NAMES.items()}
#: the single-API strategy an optimizer trained with one API drives
ABLATION_OF = {(INFORMATION_RETRIEVAL,): "ir-only", (DEMONSTRATION_GENERATION,): "demo-only",
               (QUESTION_ANSWERING,): "qa-only"}
STATS_FILE = "ads_stats.json"


def parse_apis(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"ir,qa"`` (short or full API names, any order) as full names in the canonical order;
    None or empty means every API."""
    if value is None:
        return tuple(API_NAMES)
    parts = [p.strip().lower() for p in (value.split(",") if isinstance(value, str) else value)]
    parts = [p for p in parts if p]
    if not parts:
        return tuple(API_NAMES)
    chosen = set()
    for part in parts:
        name = SHORT_NAMES.get(part, part)
        if name not in API_NAMES:
            raise UserError(f"unknown API '{part}' in --apis: use a comma-separated subset of "
                            f"{', '.join(SHORT_NAMES)} (or {', '.join(API_NAMES)})")
        chosen.add(name)
    return tuple(api for api in API_NAMES if api in chosen)


def apis_text(apis: Iterable[str], only: bool = False) -> str:
    """``IR``, ``IR+QA`` (``IR only`` with ``only``) or ``all APIs``."""
    apis = tuple(apis)
    if set(apis) == set(API_NAMES):
        return "all APIs"
    return "+".join(_ABBREVIATION.get(api, api) for api in apis) + (" only" if only else "")


def checkpoint_stats(spec: str) -> dict[str, Any] | None:
    """The ``ads_stats.json`` of the last adapter a spec names (an adapter folder, or the folder
    of an exported GGUF adapter), or None when it has none."""
    paths = adapter_paths(spec)
    if not paths:
        return None
    last = paths[-1]
    folder = last if last.is_dir() else last.parent
    stats = folder / STATS_FILE
    if not stats.is_file():
        return _shipped_stats(folder)
    # the checkpoint lives in <train run>/adapters/iteration-N
    return {**json.loads(stats.read_text()), "train_run": str(folder.resolve().parent.parent)}


#: beside a shipped optimizer's GGUF adapters: the `ads-bench train` config that made them
#: (written by optimizer/shipped.py, which ships the smoke optimizer)
SHIPPED_MANIFEST = "manifest.json"


def _shipped_stats(folder: Path) -> dict[str, Any] | None:
    """The training record of the smoke optimizer shipped with the package, read from the
    manifest beside its GGUF adapters; None for any other folder."""
    manifest = folder / SHIPPED_MANIFEST
    try:
        config = json.loads(manifest.read_text()).get("config") if manifest.is_file() else None
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("kind") != "train":
        return None
    return {"apis": config.get("apis") or list(API_NAMES), "train_run": None,
            "shipped": f"shipped smoke optimizer (trained {config.get('iterations')} iterations on "
                       f"{config.get('suite')}, judge {config.get('judge')})"}


def checkpoint_sha(spec: str) -> str | None:
    """A short content hash of every adapter the spec names (None for untrained weights)."""
    from ads_bench.models.fingerprint import file_sha256, tree_sha256

    paths = adapter_paths(spec)
    if not paths:
        return None
    sha = hashlib.sha256()
    for path in paths:
        if path.exists():
            sha.update((tree_sha256(path) if path.is_dir() else file_sha256(path)).encode())
        else:
            sha.update(f"missing:{path}".encode())
    return sha.hexdigest()[:12]


def describe_optimizer(spec: str, inference_apis: Iterable[str]) -> dict[str, Any]:
    """What the run's optimizer is: trained or not, with which APIs, its hash, and the ablation
    it makes (``description``: the words a leaderboard row shows)."""
    inference = tuple(inference_apis)
    sha = checkpoint_sha(spec)
    stats = checkpoint_stats(spec) if sha else None
    if sha is None:
        trained_apis = None
        kind = "untrained optimizer"
    elif stats is None:
        trained_apis = None
        kind = f"optimizer of unrecorded training ({STATS_FILE} missing)"
    else:
        trained_apis = tuple(stats.get("apis") or API_NAMES)  # before --apis: always all APIs
        kind = None
    restricted = f" restricted to {apis_text(inference)} at inference" if set(inference) != set(API_NAMES) else ""
    if kind is not None:
        description = kind + restricted
    elif stats.get("shipped"):
        description = stats["shipped"] + restricted
    elif set(trained_apis) == set(inference):
        description = f"optimizer trained with {apis_text(trained_apis, only=True)}"
    elif set(trained_apis) == set(API_NAMES):
        description = "all-API optimizer" + restricted
    else:
        description = (f"optimizer trained with {apis_text(trained_apis, only=True)}, "
                       f"asked for {apis_text(inference)} at inference")
    description += f" · checkpoint {sha}" if sha else f" ({parse_spec(spec).label})"
    return {
        "spec": spec,
        "trained": sha is not None,
        "trained_apis": list(trained_apis) if trained_apis is not None else None,
        "inference_apis": list(inference),
        "checkpoint_sha": sha,
        "train_run": (stats or {}).get("train_run"),
        "description": description,
    }



def run_optimizer_info(strategy: str, spec: str | None) -> dict[str, Any] | None:
    """:func:`describe_optimizer` for a run of ``strategy`` (None when no optimizer writes its
    trajectories); the APIs at inference are the strategy's own."""
    from ads_bench.strategies import OPTIMIZER_STRATEGIES, get_strategy

    if strategy not in OPTIMIZER_STRATEGIES or not spec:
        return None
    return describe_optimizer(spec, getattr(get_strategy(strategy), "allowed", API_NAMES))
