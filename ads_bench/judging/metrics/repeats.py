"""How much of a score is the run itself: prompts judged in R repeats (``--repeats``).

A score has two sources of uncertainty. The bootstrap CI over prompts answers "other prompts
from the same population"; it cannot see a shift that moves every prompt of one run together
(a judge whose numerics drift, a sampled answer set, a trained policy that came out otherwise).
Repeating the same computation R times with the response cache bypassed measures that part.

Model, per prompt i = 1..n and repeat r = 1..R (a two-way random-effects layout without
replication)::

    y_ir = mu + a_i + b_r + e_ir,   var a = s_prompt^2, var b = s_run^2, var e = s_residual^2

- ``a_i``: how the prompt itself scores; ``b_r``: a shift shared by every prompt of repeat r;
  ``e_ir``: a prompt's own noise in one repeat.
- Mean squares: MS_run = n sum_r (ybar_.r - ybar)^2 / (R-1) and
  MS_res = sum_ir (y_ir - ybar_i. - ybar_.r + ybar)^2 / ((n-1)(R-1)); then
  s_residual^2 = MS_res and s_run^2 = max(0, (MS_run - MS_res) / n) (the ANOVA estimators).
- The score over repeats is ybar; its variance is s_prompt^2/n + s_run^2/R + s_residual^2/(nR).
  The prompts' part, with the residual, is estimated directly by the spread of the prompts'
  repeat means: se_prompts^2 = var_i(ybar_i.) / n (what a bootstrap over prompts of the repeat
  means estimates). The CI over prompts is ybar +- t * se_prompts; the CI that includes the runs
  adds the shared shift: se_total^2 = se_prompts^2 + s_run^2 / R, ybar +- t' * se_total. t has
  n - 1 degrees of freedom, t' the Welch-Satterthwaite degrees of freedom of that sum (n - 1 and
  R - 1 for its parts), so that a run component resting on few repeats widens the interval.
- ``between_run_sd`` is the plain standard deviation of the R per-repeat scores ybar_.r: how
  far one run's number moves when the same command runs again (it estimates
  sqrt(s_run^2 + s_residual^2 / n)).

tests/test_repeats_statistics.py checks the coverage of both intervals by simulation (n = 40,
sd_prompt 20, sd_residual 8, sd_run 8: the interval with runs covered 94% at R = 5, 93% at R = 3,
89% at R = 2; the one over prompts 82%). What makes these numbers unreliable: with few repeats the
run component rests on R - 1 degrees of freedom and is itself uncertain; prompts are taken as independent units here (the headline's own CI clusters by
task); only prompts scored in every repeat enter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class RepeatStats:
    n_prompts: int  # scored in every repeat (the ones the decomposition uses)
    n_repeats: int
    mean: float  # over prompts and repeats
    per_repeat: list[float]  # each repeat's mean over the same prompts
    between_run_sd: float  # SD of per_repeat (0 when every repeat agreed)
    sd_prompt: float
    sd_run: float
    sd_residual: float
    se_prompts: float
    se_total: float
    ci_prompts: tuple[float, float] | None  # None below 2 prompts
    ci_total: tuple[float, float] | None
    n_prompts_differing: int  # prompts whose score was not the same in every repeat

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("ci_prompts", "ci_total"):
            out[key] = None if out[key] is None else list(out[key])
        return out


def satterthwaite_df(part_a: float, df_a: int, part_b: float, df_b: int) -> float:
    """Degrees of freedom of a sum of two variance estimates (Welch-Satterthwaite)."""
    if part_b <= 0 or df_b <= 0:
        return float(df_a)
    if part_a <= 0:
        return float(df_b)
    return (part_a + part_b) ** 2 / (part_a**2 / df_a + part_b**2 / df_b)


def decompose(scores: np.ndarray, level: float = 0.95) -> RepeatStats:
    """The statistics of a (prompts x repeats) score matrix without missing values."""
    y = np.asarray(scores, dtype=float)
    if y.ndim != 2 or y.shape[1] < 2 or y.shape[0] < 1:
        raise ValueError(f"need a prompts x repeats matrix with at least 2 repeats, got shape {y.shape}")
    n, repeats = y.shape
    grand = float(y.mean())
    prompt_means, repeat_means = y.mean(axis=1), y.mean(axis=0)
    ms_run = n * float(((repeat_means - grand) ** 2).sum()) / (repeats - 1)
    residual = y - prompt_means[:, None] - repeat_means[None, :] + grand
    ms_res = float((residual**2).sum()) / ((n - 1) * (repeats - 1)) if n > 1 else 0.0
    var_run = max(0.0, (ms_run - ms_res) / n)
    var_prompt_means = float(prompt_means.var(ddof=1)) if n > 1 else 0.0
    # var(ybar_i.) = s_prompt^2 + s_residual^2 / R
    var_prompt = max(0.0, var_prompt_means - ms_res / repeats)
    se_prompts = (var_prompt_means / n) ** 0.5
    se_total = (se_prompts**2 + var_run / repeats) ** 0.5
    ci_prompts = ci_total = None
    if n > 1:
        t = float(stats.t.ppf(0.5 + level / 2, n - 1))
        ci_prompts = (grand - t * se_prompts, grand + t * se_prompts)
        t_total = float(stats.t.ppf(0.5 + level / 2, satterthwaite_df(se_prompts**2, n - 1, var_run / repeats, repeats - 1)))
        ci_total = (grand - t_total * se_total, grand + t_total * se_total)
    return RepeatStats(
        n_prompts=n, n_repeats=repeats, mean=grand, per_repeat=[float(v) for v in repeat_means],
        between_run_sd=float(repeat_means.std(ddof=1)), sd_prompt=var_prompt**0.5, sd_run=var_run**0.5,
        sd_residual=ms_res**0.5, se_prompts=se_prompts, se_total=se_total, ci_prompts=ci_prompts,
        ci_total=ci_total, n_prompts_differing=int((y.max(axis=1) != y.min(axis=1)).sum()),
    )


def complete_matrix(by_repeat: Sequence[Mapping[str, float | None]]) -> tuple[list[str], np.ndarray]:
    """The prompts scored (not None) in every repeat, and their (prompts x repeats) scores."""
    ids = sorted(set.intersection(*(
        {pid for pid, score in repeat.items() if score is not None} for repeat in by_repeat)))
    return ids, np.array([[repeat[pid] for repeat in by_repeat] for pid in ids], dtype=float).reshape(len(ids), -1)


def repeats_text(block: Mapping[str, Any] | None, digits: int = 1) -> str:
    """One cell for tables: N repeats, the between-run SD and the CI that includes the runs."""
    if not block:
        return "–"
    n = block.get("n_repeats", 0)
    score = block.get("score") or {}
    if score.get("between_run_sd") is None:
        return f"{n} ({block.get('note') or 'no prompt scored in every repeat'})"
    text = f"{n} ({block.get('stage')}): run SD {score['between_run_sd']:.{digits}f}"
    if score.get("ci_total"):
        lower, upper = score["ci_total"]
        text += f" · {score['mean']:.{digits}f} [{lower:.{digits}f}, {upper:.{digits}f}] incl. runs"
    return text


def repeats_rows(block: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows for a run's end-of-run table."""
    if not block:
        return []
    score = block.get("score") or {}
    rows = [("repeats", f"{block['n_repeats']} ({block['stage']}; cache bypassed per repeat)")]
    headline = block.get("headline") or {}
    if headline.get("between_run_sd") is not None:
        per_repeat = ", ".join("–" if v is None else f"{v:.1f}" for v in headline["per_repeat"])
        rows.append((f"{headline.get('metric') or 'headline'} per repeat", per_repeat))
        rows.append(("between-run SD of the headline", f"{headline['between_run_sd']:.2f}"))
    if score.get("mean") is None:
        rows.append(("repeats", block.get("note") or "no prompt scored in every repeat"))
        return rows
    rows.append((f"{score['metric']} over repeats", f"{score['mean']:.1f}  (n={score['n_prompts']} prompts)"))
    if score.get("ci_prompts"):
        rows.append(("  95% CI over prompts", "[{:.1f}, {:.1f}]".format(*score["ci_prompts"])))
        rows.append(("  95% CI over prompts and runs", "[{:.1f}, {:.1f}]".format(*score["ci_total"])))
    rows.append(("  SD: prompts / runs / residual",
                 f"{score['sd_prompt']:.2f} / {score['sd_run']:.2f} / {score['sd_residual']:.2f}"))
    rows.append(("  prompts whose score changed between repeats", f"{score['n_prompts_differing']} of {score['n_prompts']}"))
    return rows


def retest_agreement(first: Sequence[float | None], second: Sequence[float | None]) -> dict[str, Any]:
    """A judge's test-retest agreement: the same pairs judged twice (preferences for the second
    side, None where a judgment failed). ``retest_agreement``: the share of pairs judged both
    times whose verdict (second better, first better, tie) was the same; ``retest_mean_abs_difference``:
    the mean |p1 - p2| of their preferences (0 for a judge that repeats itself exactly)."""
    both = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]

    def verdict(p: float) -> int:
        return (p > 0.5) - (p < 0.5)

    return {
        "retest_n": len(both),
        "retest_agreement": sum(verdict(a) == verdict(b) for a, b in both) / len(both) if both else None,
        "retest_mean_abs_difference": float(np.mean([abs(a - b) for a, b in both])) if both else None,
    }
