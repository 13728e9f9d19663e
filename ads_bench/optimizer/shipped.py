"""The smoke optimizer shipped with the package, so the quickstart need not train one first.

``ads-bench run --strategy ads`` on a fresh machine needs a trained optimizer. Training the smoke
one (``trainer.smoke_config``) took two thirds of the quickstart's time, so this project's own
``ads-bench train`` made one once, with that same recipe on the embedded models, and its LoRA
adapters ship in ``optimizer/shipped_smoke/`` with a manifest: the command, the config, the
training run's figures, and the sha256 of every file. It is used only where it is what the smoke
training would make: the run's policy, expert and judge are the embedded model, the embedded
model is the file it was trained on, and the optimizer prompt and schema render as they did
(a prompt change makes it stale, and the run trains a fresh smoke optimizer as before).

Rebuild it with ``python scripts/build_smoke_optimizer.py`` (an empty cache, the same recipe;
the embedded engine is exact, so the same code rebuilds the same bytes).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ads_bench.strategies.optimizer_provenance import SHIPPED_MANIFEST

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped_smoke"
MANIFEST = SHIPPED_MANIFEST
#: the observed instructions whose optimizer prompt fingerprints the prompt and schema
FINGERPRINT_TASK = ("Write a haiku about autumn rain.", "Summarise the causes of the First World War.")


def prompt_fingerprint() -> str:
    """sha256 of the optimizer prompt and schema the smoke recipe samples with."""
    from ads_bench.acquisition.costs import CostModel
    from ads_bench.acquisition.trajectory import API_NAMES, Budget, optimizer_messages
    from ads_bench.acquisition.trajectory.schema import trajectory_schema_text
    from ads_bench.optimizer.trainer import smoke_config
    from ads_bench.utils.hashing import json_sha256

    smoke = smoke_config()
    costs = CostModel()
    budget = Budget(max_calls=smoke.max_calls)
    messages = optimizer_messages(FINGERPRINT_TASK, {api: costs.estimate_api(api) for api in API_NAMES}, budget,
                                  API_NAMES)
    return json_sha256([messages, trajectory_schema_text(API_NAMES, smoke.max_calls)])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest() -> dict[str, Any] | None:
    try:
        return json.loads((SHIPPED_DIR / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def shipped_optimizer(policy: str, expert: str, judge: str) -> tuple[str | None, str]:
    """(the shipped optimizer's spec, or None; why) for a run with these models."""
    if (policy, expert, judge) != ("embedded", "embedded", "embedded"):
        return None, "the shipped smoke optimizer was trained with the embedded policy, expert and judge"
    recorded = manifest()
    if recorded is None:
        return None, "no shipped smoke optimizer in this install"
    from ads_bench.models.embedded import embedded_gguf_path
    from ads_bench.models.fingerprint import file_sha256

    if file_sha256(embedded_gguf_path()) != recorded["base_sha256"]:
        return None, "the embedded model is not the file the shipped smoke optimizer was trained on"
    if prompt_fingerprint() != recorded["prompt_sha256"]:
        return None, "the optimizer prompt changed since the shipped smoke optimizer was trained"
    adapters = [SHIPPED_DIR / name for name in recorded["adapters"]]
    for adapter in adapters:
        if not adapter.is_file() or _sha256(adapter) != recorded["sha256"][adapter.name]:
            return None, f"the shipped adapter {adapter.name} is missing or altered"
    return "embedded?lora=" + ",".join(str(a) for a in adapters), "shipped"


def ship(train_folder: Path, rows: list[dict[str, Any]], command: str) -> Path:
    """Copy a smoke training's GGUF adapters into the package, with their manifest."""
    import shutil

    from ads_bench.models.embedded import embedded_gguf_path
    from ads_bench.models.fingerprint import file_sha256
    from ads_bench.utils.atomic import write_json_atomic

    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    for old in SHIPPED_DIR.glob("*.gguf"):
        old.unlink()
    # the folder's own adapters, in iteration order (the spec's paths may be relative to where it ran)
    sources = [train_folder / "adapters" / f"iteration-{row['iteration']}" / "adapter.gguf" for row in rows]
    adapters = []
    for index, source in enumerate(sources):
        target = SHIPPED_DIR / f"iteration-{index}.gguf"
        shutil.copyfile(source, target)
        adapters.append(target)
    config = json.loads((train_folder / "config.json").read_text())
    write_json_atomic(SHIPPED_DIR / MANIFEST, {
        "what": "the smoke ADS optimizer: SmolLM2-135M-Instruct with these LoRA adapters (llama.cpp GGUF), "
                "stacked in order; a pipeline check, not a useful optimizer",
        "command": command,
        "config": config,
        "iterations": [{"iteration": r["iteration"], "stats": r["stats"]} for r in rows],
        "adapters": [a.name for a in adapters],
        "sha256": {a.name: _sha256(a) for a in adapters},
        "base_sha256": file_sha256(embedded_gguf_path()),
        "prompt_sha256": prompt_fingerprint(),
    })
    return SHIPPED_DIR
