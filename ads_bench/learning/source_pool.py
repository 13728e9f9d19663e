"""The in-house training pool's instruction–response pairs: the data ``source-finetune`` trains on.

The paper's Appendix F fine-tunes the policy on its training pool (Magpie). Ours is the pool the
optimizer trains on: every instruction of the ``inhouse-train`` tasks
(``tasks/data/inhouse/inhouse-train.jsonl.gz``), each traced by its ``instruction_sources`` to
the source row it came from (``suites/inhouse/pool.py``), with that row's response:

- Stanford Alpaca rows (``alpaca_5000``) have an ``output``;
- Self-Instruct seed tasks (``self_instruct_seed``) have ``instances[0].output``;
- Dynosaur rows are task descriptions without a response: they cannot be trained on and are
  counted as such.

The evaluation suite (``inhouse``) shares no instruction with the training tasks by
construction; :func:`training_pool_pairs` checks it anyway and drops (and counts) any that would,
so fine-tuning never sees a held-out prompt. The same pairs serve every task: the adapter is
trained once per (policy weights, pairs, settings) and reused (``learning/source_finetune.py``).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench import paths
from ads_bench.errors import UserError
from ads_bench.suites._records import get_path, read_records
from ads_bench.suites.inhouse.pool import default_pool_sources, load_pool
from ads_bench.utils.hashing import json_sha256

TRAIN_FILE = "inhouse-train.jsonl.gz"
EVALUATION_FILE = "inhouse.jsonl.gz"
#: source label -> (file under tasks/data/inhouse/source, the response field of its rows)
RESPONSES = {
    "alpaca_5000": ("alpaca_5000_subset.json.gz", "output"),
    "self_instruct_seed": ("self_instruct_seed_tasks.jsonl", "instances.0.output"),
}


@dataclass(frozen=True)
class SourcePairs:
    pairs: tuple[tuple[str, str], ...]  # (instruction as the tasks ask it, the source's response)
    summary: dict[str, Any]  # what data this is, for the run folder


def training_pool_pairs() -> SourcePairs:
    """Every instruction of the in-house training tasks that has a response in its source row,
    once each, in file order; the summary says where they came from and what was left out."""
    return _pairs_in(paths.tasks_dir() / "data" / "inhouse")


def _responses(folder: Path, source: str) -> list[Any]:
    name, field = RESPONSES[source]
    return [get_path(row, field, default=None) for row in read_records(folder / "source" / name)]


@functools.lru_cache(maxsize=2)  # every task of a run asks for the same pairs
def _pairs_in(folder: Path) -> SourcePairs:
    train_path = folder / TRAIN_FILE
    if not train_path.is_file():
        raise UserError(f"{train_path} is missing: source-finetune trains on the in-house training pool; "
                        "rebuild it with `ads-bench suites build-inhouse`")
    pool = {item.provenance: item for item in load_pool(default_pool_sources())}
    responses = {source: _responses(folder, source) for source in RESPONSES}
    evaluation = {text for row in read_records(folder / EVALUATION_FILE) for text in row["instructions"]}
    pairs: dict[str, str] = {}
    left_out: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    for row in read_records(train_path):
        sources = row.get("metadata", {}).get("instruction_sources") or []
        for instruction, provenance in zip(row["instructions"], sources, strict=True):
            source, _, number = provenance.partition(":")
            item = pool.get(provenance)
            response = responses[source][int(number)] if source in RESPONSES else None
            if item is None or item.text != instruction:
                left_out["source row not found"] += 1
            elif not isinstance(response, str) or not response.strip():
                left_out[f"no response ({source})"] += 1
            elif instruction in evaluation:
                left_out["also in the evaluation suite"] += 1
            elif instruction in pairs:
                left_out["duplicate instruction"] += 1
            else:
                pairs[instruction] = response.strip()
                by_source[source] += 1
    if not pairs:
        raise UserError(f"{train_path} gave no instruction with a response: source-finetune has nothing to train on")
    data = tuple(pairs.items())
    summary = {
        "data": f"in-house training pool ({TRAIN_FILE}): instruction–response pairs from the source rows",
        "file": str(train_path),
        "n_pairs": len(data),
        "by_source": dict(by_source),
        "left_out": dict(left_out),
        "pairs_sha256": json_sha256(data, 16)  # pairs of strings: sorting keys changes nothing,
    }
    return SourcePairs(data, summary)


def pool_description(summary: dict[str, Any]) -> str:
    """One line for a run's acquisition record and console."""
    sources = ", ".join(f"{name} {n:,}" for name, n in summary["by_source"].items())
    return (f"no acquisition: the policy is LoRA-fine-tuned on {summary['n_pairs']:,} instruction–response "
            f"pairs of the in-house training pool ({sources}; sha {summary['pairs_sha256']})")
