"""Win rate of a model against a reference, computed exactly as AlpacaEval 2.0 computes it.

Source: ``alpaca_eval`` 0.6.x, ``metrics/winrate.py::get_winrate`` over
``metrics/helpers.py::AbsoluteScoringRule.describe_head2head`` (the weighted win rate, its
standard error and the counts) and ``ZeroOneScoringRule`` (the discrete win rate); the average
length comes from ``main.py::evaluate`` (``int(model_outputs["output"].str.len().mean())``).

Preferences here are ``p`` = probability that the evaluated model beats the reference, in [0, 1];
a draw is 0.5 and NaN marks a failed judgment. AlpacaEval stores ``1 + p`` (see
:func:`preferences_from_alpaca_eval`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np

from ads_bench.judging.metrics.length_control import (
    GamedAnnotations,
    length_controlled_win_rate,
)


def preferences_from_alpaca_eval(values: Iterable[object]) -> np.ndarray:
    """Convert AlpacaEval ``preference`` values (1 = reference wins, 2 = model wins) to ``p``.

    Mirrors ``BaseScoringRule.describe_head2head``: the legacy value 0 means a draw (it becomes
    1.5); ``None``/NaN and anything outside [1, 2] is *not a preference* and AlpacaEval drops it
    from ``n_total``. We keep such rows as NaN so that they are counted as failures, never as ties.
    Numbers written as strings are accepted (AlpacaEval applies ``astype(float)``).
    """
    converted = []
    for value in values:
        if value is None or isinstance(value, bool):
            converted.append(math.nan)
            continue
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                converted.append(math.nan)
                continue
        if not isinstance(value, Real):
            converted.append(math.nan)
            continue
        number = float(value)
        if number == 0.0:
            number = 1.5
        converted.append(number - 1.0 if 1.0 <= number <= 2.0 else math.nan)
    return np.asarray(converted, dtype=float)


def is_failed(preferences: np.ndarray) -> np.ndarray:
    """Rows that hold no usable preference: NaN or outside [0, 1]."""
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(preferences) | (preferences < 0.0) | (preferences > 1.0)


def _pandas_sem(values: np.ndarray) -> float | None:
    """Standard error of the mean as ``pandas.Series.sem()`` computes it (ddof=1).

    Written out step by step, in pandas' ``nanops.nanvar``/``nansem`` order, so the published
    figures are reproduced to the last bit rather than to within rounding.
    """
    count = values.size
    if count < 2:
        return None
    mean = values.sum(dtype=np.float64) / count
    variance = ((mean - values) ** 2).sum(dtype=np.float64) / (count - 1)
    return float(np.sqrt(variance) / np.sqrt(count))


def lc_far_from_win_rate(win_rate: float, lc_win_rate: float, abs_diff: float = 10, rel_diff: float = 4) -> bool:
    """AlpacaEval's check that the length-controlled win rate moved suspiciously far from the raw
    one (``metrics/glm_winrate.py::get_is_extreme_changes``, which logs "This might be a sign of
    failure of the GLM"): below ``min(w - w / rel_diff, w - abs_diff)`` or above
    ``max(w + (100 - w) / rel_diff, w + abs_diff)``; e.g. from 20 to under 10 or over 40."""
    too_small = lc_win_rate < min(win_rate - win_rate / rel_diff, win_rate - abs_diff)
    too_large = lc_win_rate > max(win_rate + (100 - win_rate) / rel_diff, win_rate + abs_diff)
    return too_small or too_large


def win_rate_summary(
    preferences: Sequence[float] | np.ndarray,
    *,
    lengths_model: Sequence[float] | np.ndarray | None = None,
    lengths_reference: Sequence[float] | np.ndarray | None = None,
    instruction_difficulty: Sequence[float] | np.ndarray | None = None,
    gamed: GamedAnnotations | None = None,
    model_is_reference: bool = False,
) -> dict[str, float | int | str | None]:
    """AlpacaEval's leaderboard row for one model from its per-prompt preferences.

    ``preferences``: ``p`` in [0, 1] per prompt (NaN = failed judgment, counted in ``n_failed``
    and left out of every other figure, as AlpacaEval leaves it out of ``n_total``).
    ``lengths_model``/``lengths_reference``: characters of each output (all prompts, failed ones
    included), for ``avg_length`` and the length-controlled win rate; that one is ``None``, with
    ``lc_note`` saying why, when the GLM cannot be fitted (fewer than 5 judged prompts, or no
    length variation); ``lc_warning`` when it lands far from the raw win rate
    (:func:`lc_far_from_win_rate`). ``instruction_difficulty`` and ``gamed``: optional inputs of AlpacaEval's
    full LC GLM (see :mod:`.length_control`).

    Formulas (``helpers.py``): ``win_rate = mean(p) * 100``; ``standard_error = sem(p) * 100``
    (ddof=1); ``n_wins = #(p > 0.5)``, ``n_wins_base = #(p < 0.5)``, ``n_draws = #(p == 0.5)``;
    ``discrete_win_rate = (n_wins + n_draws / 2) / n_total * 100``.
    """
    values = np.asarray(preferences, dtype=float)
    failed = is_failed(values)
    valid = values[~failed]
    n_total = int(valid.size)
    if n_total == 0:
        raise ValueError("no successful judgment: every preference is missing or out of range")
    n_wins = int((valid > 0.5).sum())
    n_wins_base = int((valid < 0.5).sum())
    n_draws = int((valid == 0.5).sum())
    standard_error = _pandas_sem(valid)
    summary: dict[str, float | int | str | None] = {
        "win_rate": float(valid.sum(dtype=np.float64) / n_total * 100),
        "standard_error": None if standard_error is None else standard_error * 100,
        "n_wins": n_wins,
        "n_wins_base": n_wins_base,
        "n_draws": n_draws,
        "n_total": n_total,
        "discrete_win_rate": (n_wins + n_draws / 2) / n_total * 100,
    }
    if lengths_model is not None and lengths_reference is not None:
        try:
            controlled = length_controlled_win_rate(
                values,
                lengths_model,
                lengths_reference,
                instruction_difficulty=instruction_difficulty,
                gamed=gamed,
                model_is_reference=model_is_reference,
            )
        except ValueError as error:  # too few prompts, or no length variation, to fit the GLM
            summary["length_controlled_winrate"] = None
            summary["lc_standard_error"] = None
            summary["lc_method"] = None
            summary["lc_note"] = f"not computed: {error}"
        else:
            summary["length_controlled_winrate"] = controlled.win_rate
            summary["lc_standard_error"] = controlled.standard_error
            summary["lc_method"] = controlled.method
            if lc_far_from_win_rate(summary["win_rate"], controlled.win_rate):  # type: ignore[arg-type]
                summary["lc_warning"] = (
                    f"LC win rate {controlled.win_rate:.1f}% is very different from the raw "
                    f"{summary['win_rate']:.1f}%: the length GLM may have failed"
                )
    if lengths_model is not None:
        lengths = np.asarray(lengths_model, dtype=float)
        finite = lengths[np.isfinite(lengths)]
        summary["avg_length"] = int(finite.mean()) if finite.size else None
    summary["n_failed"] = int(failed.sum())
    return summary
