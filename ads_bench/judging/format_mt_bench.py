"""FastChat's MT-Bench single-answer judgment JSONL (``gen_judgment.py``, mode single:
``{question_id, model, judge: [judge, prompt], user_prompt, judgment, score, turn, tstamp}``,
``score`` 1-10 or -1 when unparsed) and its questions file.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ads_bench.errors import UserError
from ads_bench.judging.format_text import (
    _jsonl_files,
    _jsonl_lines,
)


@dataclass(frozen=True)
class SingleJudgment:
    """One FastChat single-answer grade; ``score`` None when the judge gave no rating (-1)."""

    question_id: Hashable
    model: str
    turn: int
    score: float | None
    judge: str | None


def read_mt_bench(paths: Sequence[Path]) -> list[SingleJudgment]:
    """Read FastChat ``*_single.jsonl`` judgment files."""
    expected = "MT-Bench single-answer judgment"
    judgments: list[SingleJudgment] = []
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            missing = [
                key for key in ("question_id", "model", "score", "turn") if key not in record
            ]
            if missing:
                raise UserError(
                    f"{path}, line {line}: judgment lacks {', '.join(missing)}; FastChat single "
                    f"judgments have question_id, model, score (-1 = no rating) and turn"
                )
            score, turn = record["score"], record["turn"]
            if score is not None and (
                isinstance(score, bool) or not isinstance(score, (int, float))
            ):
                raise UserError(
                    f"{path}, line {line}: score {score!r} is not a number; use the 1-10 rating, "
                    f"or -1 when the judge gave none"
                )
            if score is not None and score != -1 and not 1 <= score <= 10:  # NaN fails this too
                raise UserError(
                    f"{path}, line {line}: score {score!r} is outside MT-Bench's 1-10 scale; fix the "
                    f"file (-1 means the judge gave no rating)"
                )
            if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
                raise UserError(f"{path}, line {line}: turn {turn!r} must be 1 or 2")
            judge = record.get("judge")
            if isinstance(judge, list):
                judge = "/".join(str(part) for part in judge)
            judgments.append(
                SingleJudgment(
                    question_id=record["question_id"],
                    model=str(record["model"]),
                    turn=turn,
                    score=None if score is None or score == -1 else float(score),
                    judge=judge if isinstance(judge, str) else None,
                )
            )
    if not judgments:
        raise UserError(f"no judgment in {', '.join(map(str, paths))}; pass non-empty JSONL files")
    return judgments


@dataclass(frozen=True)
class Question:
    question_id: Hashable
    category: str | None
    cluster: str | None = None


def read_questions(path: Path) -> dict[str, Question]:
    """A ``question.jsonl`` (MT-Bench or Arena-Hard), keyed by ``str(question_id)``."""
    questions: dict[str, Question] = {}
    for line, record in _jsonl_lines(path, "question"):
        question = record.get("question_id", record.get("uid"))
        if question is None:
            raise UserError(
                f"{path}, line {line}: question lacks question_id; pass the benchmark's "
                f"question.jsonl"
            )
        category, cluster = record.get("category"), record.get("cluster")
        questions[str(question)] = Question(
            question_id=question,
            category=category if isinstance(category, str) else None,
            cluster=cluster if isinstance(cluster, str) else None,
        )
    return questions
