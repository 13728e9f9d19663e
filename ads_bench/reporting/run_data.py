"""A run folder as the leaderboard and the report read it (config, metrics, ledger, logs), and
where run folders are under a path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.models.ledger_replay import read_run_ledger
from ads_bench.utils.jsonl import JsonlLog


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc}): repair it or remove that run folder") from None


@dataclass
class RunData:
    """What a run folder holds, read lazily: config, metrics, ledger and its JSONL logs."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any] | None
    ledger: dict[str, Any] | None

    @classmethod
    def load(cls, path: str | Path) -> RunData:
        folder = Path(path)
        config = _read_json(folder / "config.json")
        if not isinstance(config, dict):
            raise UserError(f"{folder} is not a run folder (no config.json): pass folders that "
                            "`ads-bench run`, `evaluate` or `train` wrote")
        # the ledger log replayed, so a run killed and never resumed still shows what it spent
        return cls(folder, config, _read_json(folder / "metrics.json"), read_run_ledger(folder))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def estimate(self) -> dict[str, Any] | None:
        """What the command expected the run to cost before its first call (``estimate.json``)."""
        estimate = _read_json(self.path / "estimate.json")
        return estimate if isinstance(estimate, dict) else None

    @property
    def kind(self) -> str:
        return str(self.config.get("kind", "run"))

    @property
    def suite(self) -> str:
        return str((self.metrics or {}).get("suite") or self.config.get("suite") or "-")

    @property
    def strategy(self) -> str:
        # an evaluation answers with the un-taught model: the `none` strategy on that suite
        return str(self.config.get("strategy") or ("none" if self.kind == "evaluate" else "-"))

    @property
    def policy(self) -> str:
        return str(self.config.get("policy") or self.config.get("model") or "-")

    @property
    def learner(self) -> str:
        return str(self.config.get("learner") or "-")

    @property
    def judge(self) -> str:
        return f"{self.config.get('judge', '-')}/{self.config.get('judge_config') or 'default'}"

    @property
    def complete(self) -> bool:
        if self.kind == "train":
            return len(self.indexed("iterations", "iteration")) >= int(self.config.get("iterations", 1))
        return self.metrics is not None

    def log(self, name: str) -> list[dict[str, Any]]:
        return JsonlLog(self.path / f"{name}.jsonl").records() if (self.path / f"{name}.jsonl").is_file() else []

    def indexed(self, name: str, key: str = "id") -> dict[Any, dict[str, Any]]:
        if not (self.path / f"{name}.jsonl").is_file():
            return {}
        return JsonlLog(self.path / f"{name}.jsonl").index(key)


def _is_run_config(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True  # ours but broken: RunData.load names the file
    return isinstance(data, dict) and "kind" in data


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Each path is a run folder (holds config.json) or a results folder holding run folders at
    any depth; run folders inside a run folder (a train run's adapters) are not runs."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise UserError(f"{path} is not a folder: pass run folders or a results folder")
        if (path / "config.json").is_file():
            found.append(path)
            continue
        # a config.json without "kind" is not ours (a merged model's, say): not a run folder
        nested = sorted(p.parent for p in path.rglob("config.json") if _is_run_config(p))
        found.extend(p for p in nested if not any(q in p.parents for q in nested))
    if not found:
        raise UserError(f"no run folders (with a config.json) under {', '.join(map(str, paths))}: "
                        "point at folders that `ads-bench run`/`evaluate`/`train` wrote")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique
