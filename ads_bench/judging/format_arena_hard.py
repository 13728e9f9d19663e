"""Arena-Hard-Auto's judgment JSONL as its ``gen_judgment.py`` writes it, one file per model (a
folder of them is read whole): ``{question_id (v2: uid), model, judge, games: [{user_prompt,
judgment, score}, {...}]}``; game 1 shows the baseline as A, game 2 swaps; ``score`` is the
verdict label or ``null`` when none was found. Also the answers' style features.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ads_bench.errors import UserError
from ads_bench.judging.format_text import (
    _jsonl_files,
    _jsonl_lines,
)
from ads_bench.judging.metrics.battles import Game, style_counts


@dataclass(frozen=True)
class ArenaHardJudgment:
    """One judged (question, model) pair; ``game.verdicts`` baseline-first, then swapped."""

    game: Game
    judge: str | None
    baseline: str | None
    path: Path
    line: int


def read_arena_hard(paths: Sequence[Path]) -> list[ArenaHardJudgment]:
    """Read arena-hard-auto judgment JSONL files (or folders of them)."""
    expected = "arena-hard judgment"
    judgments: list[ArenaHardJudgment] = []
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            question = record.get("question_id", record.get("uid"))
            model = record.get("model")
            games = record.get("games")
            if question is None or not isinstance(model, str) or not isinstance(games, list):
                raise UserError(
                    f"{path}, line {line}: an arena-hard judgment needs question_id (or uid), "
                    f"model and games (a list of {{user_prompt, judgment, score}}); is this "
                    f"the judgment file of gen_judgment.py?"
                )
            if not 1 <= len(games) <= 2:
                raise UserError(
                    f"{path}, line {line}: {len(games)} games; arena-hard writes 2 (baseline "
                    f"first, then swapped) or 1 for single games"
                )
            verdicts: list[str | None] = []
            for game in games:
                if game is None:
                    verdicts.append(None)
                    continue
                if not isinstance(game, dict) or "score" not in game:
                    raise UserError(
                        f"{path}, line {line}: each game must be an object with a score "
                        f"(verdict label such as 'A>B', or null)"
                    )
                score = game["score"]
                if score is not None and not isinstance(score, str):
                    raise UserError(
                        f"{path}, line {line}: game score {score!r} is not a verdict label; "
                        f"use 'A>>B', 'A>B', 'A=B', 'B>A', 'B>>A' or null"
                    )
                verdicts.append(score)
            judge = record.get("judge")
            baseline = record.get("baseline")
            judgments.append(
                ArenaHardJudgment(
                    game=Game(prompt=str(question), model=model, verdicts=tuple(verdicts)),
                    judge=judge if isinstance(judge, str) else None,
                    baseline=baseline if isinstance(baseline, str) else None,
                    path=path,
                    line=line,
                )
            )
    if not judgments:
        raise UserError(f"no judgment in {', '.join(map(str, paths))}; pass non-empty JSONL files")
    return judgments


def read_arena_hard_style(paths: Sequence[Path]) -> dict[str, dict[Hashable, np.ndarray]]:
    """Style counts per model per question from arena-hard model answer JSONL files.

    Uses the answer's ``conv_metadata`` (token_len, header/list/bold counts) when present, as
    arena-hard's style control does, and otherwise counts the markdown of the first turn's
    ``content`` itself, with ``token_len`` as its length (characters when absent).
    """
    expected = "arena-hard model answer"
    style: dict[str, dict[Hashable, np.ndarray]] = {}
    for path in _jsonl_files(paths):
        for line, record in _jsonl_lines(path, expected):
            question = record.get("question_id", record.get("uid"))
            model = record.get("model_id", record.get("model"))
            if question is None or not isinstance(model, str):
                raise UserError(
                    f"{path}, line {line}: a model answer needs question_id and model_id; pass "
                    f"arena-hard model_answer files"
                )
            counts = _style_from_answer(path, line, record)
            style.setdefault(model, {})[str(question)] = counts
    return style


def _summed(value: object) -> float:
    return float(sum(value.values())) if isinstance(value, dict) else float(value)


def _style_from_answer(path: Path, line: int, record: dict) -> np.ndarray:
    metadata = record.get("conv_metadata")
    try:
        if isinstance(metadata, dict):
            return np.array(
                [
                    _summed(metadata[key])
                    for key in ("token_len", "header_count", "list_count", "bold_count")
                ]
            )
        turn = record["choices"][0]["turns"][0]
        return style_counts(str(turn["content"]), turn.get("token_len"))
    except (KeyError, IndexError, TypeError, ValueError):
        raise UserError(
            f"{path}, line {line}: cannot find the answer text (choices[0].turns[0].content) "
            f"or conv_metadata; pass arena-hard model_answer files"
        ) from None
