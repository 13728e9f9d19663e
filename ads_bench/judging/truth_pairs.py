"""Known pairs whose better side a program verified: the judge checked against the truth.

From run folders of a suite with known answers (``wikifacts``, judged by a ``program:`` judge),
every held-out prompt where exactly one of the two answers (taught policy, un-updated policy) is
right and the other wrong gives one pair. An LLM judge shown such a pair (in a seeded random
order, so position bias shows directly) should prefer the right answer; its agreement with the
truth, with a Wilson 95% interval over the judged pairs, says what its verdicts on this suite
are worth. Ties count as disagreement, as in :func:`ads_bench.judging.judge_check.check_judge`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.judging.engine import PairItem
from ads_bench.judging.judge_check import KnownPair
from ads_bench.utils.jsonl import JsonlLog

SOURCE = "truth"


def _one_right(record: dict[str, Any]) -> bool:
    scores = record.get("scores") or {}
    return {scores.get("model"), scores.get("reference")} == {0.0, 1.0}


def truth_pairs(run_dirs: Sequence[str | Path], limit: int = 40, seed: int = 0) -> list[KnownPair]:
    """Up to ``limit`` pairs (seeded sample) from the run folders' programmatic judgments."""
    if not run_dirs:
        raise UserError("--source truth needs --runs DIR: run folders of a suite with known answers "
                        "judged by a program (e.g. ads-bench run --suite wikifacts --strategy oracle)")
    candidates: dict[tuple[str, str, str], tuple[str, str, str, str]] = {}
    for run_dir in map(Path, run_dirs):
        judgments, answers = run_dir / "judgments.jsonl", run_dir / "answers.jsonl"
        if not judgments.is_file() or not answers.is_file():
            raise UserError(f"{run_dir} is not a run folder with judgments and answers: give the folder "
                            "`ads-bench run` printed")
        instructions = {k: v["turns"][0] for k, v in JsonlLog(answers).index().items() if v.get("turns")}
        for pid, record in sorted(JsonlLog(judgments).index().items()):
            if not _one_right(record) or pid not in instructions:
                continue
            right, wrong = record["model_output"], record["reference_output"]
            if record["scores"]["model"] == 0.0:
                right, wrong = wrong, right
            key = (instructions[pid], right, wrong)
            candidates.setdefault(key, (f"{SOURCE}:{run_dir.name}/{pid}", instructions[pid], right, wrong))
    if not candidates:
        raise UserError("no pair in those run folders has exactly one right answer: give runs judged by a "
                        "program: judge on a suite with known answers, with some answers right")
    rng = random.Random(seed)
    chosen = sorted(candidates.values())
    chosen = rng.sample(chosen, min(limit, len(chosen)))
    pairs = []
    for pair_id, instruction, right, wrong in chosen:
        right_second = rng.random() < 0.5
        first, second = (wrong, right) if right_second else (right, wrong)
        pairs.append(KnownPair(PairItem(pair_id, instruction, second, first), right_second, SOURCE))
    return pairs


def wilson_interval(agree: int, n: int, z: float = 1.959964) -> tuple[float | None, float | None]:
    """95% Wilson score interval of a proportion (None, None) without data."""
    if n == 0:
        return None, None
    p = agree / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def with_interval(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` (check_judge's) with the number of judged pairs and the agreement's 95% CI."""
    judged = int(report["n_pairs"]) - int(report["n_failed"])
    agreement = report.get("agreement")
    agree = round(agreement * judged) if agreement is not None else 0
    low, high = wilson_interval(agree, judged)
    return {**report, "n_judged": judged, "agreement_ci_lower": low, "agreement_ci_upper": high}
