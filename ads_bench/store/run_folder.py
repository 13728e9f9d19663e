"""One folder per run: resolved config, environment, JSONL logs, metrics and the cost ledger.

The folder's name derives from the run's configuration, so the same command finds its own
folder again and resumes; a folder holding another configuration is never overwritten.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.paths import checkout_dir
from ads_bench.records import check_version, stamp
from ads_bench.utils.atomic import write_json_atomic
from ads_bench.utils.hashing import json_sha256
from ads_bench.utils.jsonl import JsonlLog

PACKAGES = (
    "ads-bench", "torch", "transformers", "trl", "peft", "xllamacpp", "openai", "vllm",
    "numpy", "scipy", "bm25s", "sentence-transformers", "lm_eval", "alpaca_eval",
)

#: what the command expected the run to cost, written before its first call (cli/estimate_cmd.py)
ESTIMATE_FILE = "estimate.json"


def config_digest(config: dict[str, Any]) -> str:
    return json_sha256(config, 10, default=str, separators=(",", ":"))


def git_commit() -> dict[str, Any]:
    checkout = checkout_dir()
    if checkout is None:  # an installed wheel: the version in environment.json says which code ran
        return {"commit": None, "dirty": None}
    try:
        commit = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=5,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty if commit else None}


def environment() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "gpu": gpu,
        "packages": versions,
        "git": git_commit(),
        "argv": [a for a in sys.argv if "key" not in a.lower()],
    }


@dataclass
class RunFolder:
    path: Path

    @classmethod
    def open(cls, path: str | Path, config: dict[str, Any], *, kind: str,
             reproducibility: dict[str, Any] | None = None) -> RunFolder:
        """Create the folder, or resume it if it holds a run of the same ``config``.

        ``reproducibility`` (:func:`ads_bench.models.backend.reproducibility`) is what the run
        can promise; it goes into ``environment.json`` beside the versions.
        """
        folder = cls(Path(path))
        config_path = folder.path / "config.json"
        stamped = {"kind": kind, **config}
        if config_path.is_file():
            existing = json.loads(config_path.read_text())
            if existing.get("config_digest") != config_digest(stamped):
                raise UserError(
                    f"{folder.path} holds a run with another configuration: choose a new --out folder "
                    "(or delete that one to start over)"
                )
        else:
            folder.path.mkdir(parents=True, exist_ok=True)
            write_json_atomic(config_path, {**stamped, "config_digest": config_digest(stamped),
                                            "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        stated = environment()
        if reproducibility is not None:
            stated["reproducibility"] = reproducibility
        write_json_atomic(folder.path / "environment.json", stated)
        return folder

    @property
    def config(self) -> dict[str, Any]:
        return json.loads((self.path / "config.json").read_text())

    def log(self, name: str) -> JsonlLog:
        return RecordLog(self.path / f"{name}.jsonl", name)

    def write_json(self, name: str, data: Any) -> Path:
        target = self.path / name
        write_json_atomic(target, stamp(name, data, target) if isinstance(data, dict) else data)
        return target

    def read_json(self, name: str) -> Any:
        target = self.path / name
        if not target.is_file():
            return None
        data = json.loads(target.read_text())
        if isinstance(data, dict):
            check_version(data, target)
        return data


class RecordLog(JsonlLog):
    """A run folder's log: each record appended is checked against its schema and stamped with
    ``schema_version`` (``ads_bench/records.py``); reading checks the version (``JsonlLog``)."""

    def __init__(self, path: str | Path, name: str):
        super().__init__(path)
        self.name = name

    def append(self, record: dict[str, Any]) -> None:
        super().append(stamp(self.name, record, self.path))


def default_run_dir(kind: str, config: dict[str, Any], *parts: str, root: str | Path = "results") -> Path:
    """``results/<kind>-<parts>-<digest>``: the same command maps to the same folder."""
    slug = "-".join(p.replace("/", "_").replace(":", "_").replace("?", "_")[:40] for p in parts if p)
    return Path(root) / f"{kind}-{slug}-{config_digest({'kind': kind, **config})}"
