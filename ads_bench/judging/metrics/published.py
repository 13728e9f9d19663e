"""Scores of published judgment files, computed as each benchmark's own scripts compute them.

* AlpacaEval: :func:`.winrate.win_rate_summary` (``alpaca_eval.main.evaluate`` leaderboard row).
* Arena-Hard: battles (``show_result.py::get_battles_from_row``) then Bradley–Terry with
  bootstrap CIs (:mod:`.bradley_terry`).
* MT-Bench: FastChat ``show_result.py::display_result_single``: rows with score -1 are dropped
  (we count them as ``n_failed``), then the mean score per model for turn 1, turn 2 and both
  turns together ("Average": the mean over all rows, not the mean of the two turn means); per
  category when the questions' categories are known.

Every function returns plain JSON-ready dicts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import replace

import numpy as np

from ads_bench.judging.format_alpaca_eval import AlpacaEvalAnnotations
from ads_bench.judging.format_arena_hard import ArenaHardJudgment
from ads_bench.judging.format_mt_bench import Question, SingleJudgment
from ads_bench.judging.metrics.battles import battles_from_games, is_verdict
from ads_bench.judging.metrics.bradley_terry import bradley_terry
from ads_bench.judging.metrics.length_control import GamedAnnotations
from ads_bench.judging.metrics.winrate import win_rate_summary

#: arena-hard v0.1's judge_config.yaml baseline
ARENA_HARD_BASELINE = "gpt-4-0314"


def summarize_alpaca_eval(
    annotations: AlpacaEvalAnnotations,
    *,
    instruction_difficulty: dict[int, float] | None = None,
    gamed: GamedAnnotations | None = None,
) -> dict:
    """AlpacaEval 2.0's leaderboard row for the file's model (keys as in its leaderboard CSV)."""
    difficulty = None
    if instruction_difficulty is not None:
        missing = [
            i for i in range(annotations.preferences.size) if i not in instruction_difficulty
        ]
        if missing:
            raise ValueError(
                f"the difficulty table has no value for instructions {missing[:5]} (indexed by "
                f"position in the AlpacaEval set)"
            )
        difficulty = [instruction_difficulty[i] for i in range(annotations.preferences.size)]
    summary = win_rate_summary(
        annotations.preferences,
        lengths_model=annotations.lengths_model,
        lengths_reference=annotations.lengths_reference,
        instruction_difficulty=difficulty,
        gamed=gamed,
        model_is_reference=(
            annotations.model is not None and annotations.model == annotations.reference
        ),
    )
    return {
        "format": "alpaca_eval",
        "model": annotations.model,
        "reference": annotations.reference,
        "annotator": annotations.annotator,
        **summary,
    }


def summarize_arena_hard(
    judgments: Sequence[ArenaHardJudgment],
    *,
    baseline: str | None = None,
    rounds: int = 100,
    seed: int = 42,
    strong_weight: int = 3,
    first_game_only: bool = False,
    style: Sequence[str] = (),
    style_counts: dict[str, dict[Hashable, np.ndarray]] | None = None,
    clusters: dict[str, Question] | None = None,
    normalize: bool = False,
) -> dict:
    """Arena-Hard's leaderboard: per model the win rate against the baseline (``score``, %) with
    its 95% CI, the Bradley–Terry rating (Elo scale, baseline = 1000) and the failed games.

    ``clusters``: questions with their ``cluster``, to resample whole clusters instead of
    battles (arena-hard resamples battles; its 500 prompts come two per topic cluster).
    ``normalize``: also read the other spellings of a verdict (``B=A``, ``A<B`` ...); by
    default, as v0.1's ``show_result.py``, only its five labels count and any other drops the game.
    """
    if baseline is None:
        named = {judgment.baseline for judgment in judgments if judgment.baseline}
        baseline = named.pop() if len(named) == 1 else ARENA_HARD_BASELINE
    games = [judgment.game for judgment in judgments if judgment.game.model != baseline]
    games_per_model: Counter[str] = Counter()
    failed_per_model: Counter[str] = Counter()
    for game in games:
        verdicts = game.verdicts[:1] if first_game_only else game.verdicts[:2]
        games_per_model[game.model] += len(verdicts)
        failed_per_model[game.model] += sum(not is_verdict(verdict, normalize) for verdict in verdicts)
    result = battles_from_games(
        games,
        baseline,
        strong_weight=strong_weight,
        first_game_only=first_game_only,
        style=style_counts if style else None,
        normalize=normalize,
    )
    battles = result.battles
    resample = "battle"
    if clusters is not None:
        missing = sorted({str(p) for p in battles.prompt.tolist()} - set(clusters))  # type: ignore[union-attr]
        if missing:
            raise ValueError(f"questions {missing[:3]} are not in the questions file")
        labels = [clusters[str(p)].cluster or str(p) for p in battles.prompt.tolist()]  # type: ignore[union-attr]
        battles = replace(battles, prompt=np.array(labels, dtype=object))
        resample = "prompt"
    if len(battles) == 0:
        raise ValueError("no usable verdict: every game failed")
    fit = bradley_terry(
        battles, baseline=baseline, rounds=rounds, seed=seed, style=style, resample=resample
    )
    models = []
    for rating in fit.ratings:
        models.append(
            {
                "model": rating.model,
                "score": rating.win_rate,
                "lower": rating.win_rate_lower,
                "upper": rating.win_rate_upper,
                "rating": rating.rating,
                "rating_lower": rating.rating_lower,
                "rating_upper": rating.rating_upper,
                "n_battles": rating.n_battles,
                "n_games": games_per_model.get(rating.model, 0),
                "n_failed_games": failed_per_model.get(rating.model, 0),
            }
        )
    for model in sorted(set(games_per_model) - set(fit.models)):
        # every verdict of this model failed: no rating, but its failures are shown
        models.append(
            {
                "model": model,
                "score": None,
                "lower": None,
                "upper": None,
                "rating": None,
                "rating_lower": None,
                "rating_upper": None,
                "n_battles": 0,
                "n_games": games_per_model[model],
                "n_failed_games": failed_per_model[model],
            }
        )
    judges = sorted({judgment.judge for judgment in judgments if judgment.judge})
    contenders = [model for model in fit.models if model != baseline]
    return {
        "format": "arena_hard",
        "baseline": baseline,
        "judges": judges,
        "rounds": rounds,
        "seed": seed,
        "strong_weight": strong_weight,
        "resample": resample,
        "normalize_labels": normalize,
        "style_control": list(style),
        "style_coefficients": fit.style_coefficients,
        "separability": fit.separability() if len(contenders) >= 2 else None,
        "n_games": result.n_games,
        "n_failed_games": result.n_failed_games,
        "models": models,
    }


def _mean_block(scores: list[float], n_failed: int) -> dict:
    return {
        "score": float(np.mean(scores)) if scores else None,
        "n": len(scores),
        "n_failed": n_failed,
    }


def summarize_mt_bench(
    judgments: Sequence[SingleJudgment], questions: dict[str, Question] | None = None
) -> dict:
    """FastChat's single-answer MT-Bench scores per model (turn 1, turn 2, average, category)."""
    scores: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    failed: dict[str, Counter[int]] = defaultdict(Counter)
    by_category: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    unknown_questions: set[str] = set()
    for judgment in judgments:
        if judgment.score is None:
            failed[judgment.model][judgment.turn] += 1
            continue
        scores[judgment.model][judgment.turn].append(judgment.score)
        if questions is not None:
            question = questions.get(str(judgment.question_id))
            if question is None or question.category is None:
                unknown_questions.add(str(judgment.question_id))
                continue
            by_category[judgment.model][question.category].append(judgment.score)
    if unknown_questions:
        raise ValueError(
            f"questions {sorted(unknown_questions)[:3]} have no category in the questions file"
        )
    models = []
    for model in sorted(set(scores) | set(failed)):
        turns = sorted(set(scores[model]) | set(failed[model]))
        entry: dict = {"model": model}
        for turn in turns:
            entry[f"turn_{turn}"] = _mean_block(scores[model][turn], failed[model][turn])
        every = [score for turn in turns for score in scores[model][turn]]
        entry["average"] = _mean_block(every, sum(failed[model].values()))
        if questions is not None:
            entry["categories"] = {
                category: _mean_block(values, 0)
                for category, values in sorted(by_category[model].items())
            }
        models.append(entry)
    models.sort(
        key=lambda entry: (
            -np.inf if entry["average"]["score"] is None else entry["average"]["score"]
        ),
        reverse=True,
    )
    judges = sorted({judgment.judge for judgment in judgments if judgment.judge})
    return {"format": "mt_bench", "judges": judges, "models": models}
