"""Scores at matched spend: each strategy's score-vs-$ curve over a budget ladder, read at common $.

A fixed cap (``budget_items: 2``) gives every strategy the same limit, not the same spend: in
one run rule-qa may pay six times what ADS pays. A sweep that runs each strategy at several
budgets (a *ladder*, ``examples/equal-budget-baselines.yaml``) traces each strategy's score
against what it spent; this module reads every curve at common spend levels.

- **Spend** is a run's acquisition cost per task from its ledger's *run costs*
  (``models/ledger_replay.py``: every call the run needed, cached or not, each request once): the model
  calls the acquisition APIs made, their fees, and the optimizer's calls. Answering and judging
  are left out: they are the evaluation's cost, not the strategy's.
- **A curve** is the complete runs that differ only in their budget (:data:`LADDER_KEYS`);
  runs of one curve that spent the same are one point (their per-prompt scores averaged).
- **Interpolation** is linear in $ between the two neighbouring points: it is what a mix of the
  two rungs would score (each task run at one rung or the other, at random, so that the expected
  spend is the level). There is no extrapolation: below a curve's cheapest or above its dearest
  point the cell says "outside its range" (a ladder with a 0-item rung reaches down to what the
  strategy spends with nothing to acquire: $0 for a baseline).
- **Uncertainty**: the rungs of a ladder answer the same held-out prompts, so their scores are
  correlated. The interpolated score ``(1 - l) R_a + l R_b`` is a linear combination of two
  weighted means over the prompts both rungs judged; its SE is the delete-one-task jackknife of
  that combination (each task left out of both rungs at once, so the pairing is kept) and its 95%
  interval the t interval with tasks - 1 degrees of freedom: the same method and the same
  :data:`~ads_bench.judging.metrics.MIN_CLUSTERS` rule as every other interval in the
  leaderboard (``judging/metrics/clustered.py``). A run's spend is treated as fixed: with one
  seed and cached calls it is the same on every rerun. Checked on synthetic curves in
  ``tests/test_matched_spend.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ads_bench.judging.metrics import clustered_difference

if TYPE_CHECKING:
    from ads_bench.reporting.entries import Entry
    from ads_bench.reporting.prompt_scores import PromptScores
    from ads_bench.reporting.run_data import RunData

#: the run options a budget ladder varies: runs that differ only in these form one curve
LADDER_KEYS = frozenset({"budget_items", "budget_usd", "budget_tokens", "max_calls"})
#: what a run folder's config.json records about itself, not about the run (store/run_folder.py)
FOLDER_KEYS = frozenset({"config_digest", "created"})
#: most spend levels in one table (more would not fit a page)
MAX_LEVELS = 6
OUTSIDE = "outside its range"


def acquisition_spend(ledger: dict[str, Any] | None) -> float | None:
    """The run costs of acquisition in a replayed ledger: API-labelled calls and fees, and the
    optimizer's calls (None without a ledger)."""
    if not ledger:
        return None
    return sum(float(e.get("cost_usd", 0.0)) for e in ledger.get("entries", [])
               if e.get("api", "-") != "-" or e.get("role") in ("acquisition", "optimizer"))


@dataclass(frozen=True)
class Point:
    spend: float  # $ per task
    values: dict[str, float]  # per-prompt scores (id -> score)
    clusters: dict[str, str]
    weights: dict[str, float]
    runs: tuple[str, ...]


@dataclass
class Curve:
    label: str
    suite: str
    metric: str
    points: list[Point]  # by spend, one per distinct spend
    warnings: tuple[str, ...] = ()  # what makes its runs' scores unreliable (the leaderboard's)

    @property
    def low(self) -> float:
        return self.points[0].spend

    @property
    def high(self) -> float:
        return self.points[-1].spend


@dataclass(frozen=True)
class MatchedScore:
    spend: float
    estimate: float | None = None  # None: outside the curve's range
    ci_lower: float | None = None
    ci_upper: float | None = None
    note: str = ""
    n_items: int = 0
    n_tasks: int = 0
    between: tuple[str, ...] = ()  # the runs it is read from


def _merge(spend: float, scores: Sequence[tuple[str, PromptScores]]) -> Point:
    """Runs of one curve that spent the same: one point, each prompt's scores averaged over the
    runs that judged it in all of them."""
    common = [i for i in scores[0][1].values if all(i in s.values for _, s in scores)]
    first = scores[0][1]
    return Point(spend, {i: sum(s.values[i] for _, s in scores) / len(scores) for i in common},
                 {i: first.clusters[i] for i in common}, {i: first.weight(i) for i in common},
                 tuple(name for name, _ in scores))


def interpolate(curve: Curve, spend: float, *, tolerance: float = 1e-9) -> MatchedScore:
    """``curve``'s score at ``spend``: linear between the neighbouring points, with the jackknife
    t interval of that combination (module docstring); ``OUTSIDE`` beyond its points."""
    slack = tolerance * max(1.0, abs(spend))
    if spend < curve.low - slack or spend > curve.high + slack:
        return MatchedScore(spend, note=OUTSIDE)
    points = curve.points
    upper = next((k for k, p in enumerate(points) if p.spend >= spend - slack), len(points) - 1)
    b = points[upper]
    a = points[upper - 1] if upper > 0 and b.spend > spend + slack else b
    share = 0.0 if a is b else (spend - a.spend) / (b.spend - a.spend)
    common = [i for i in a.values if i in b.values]
    if not common:
        return MatchedScore(spend, note=f"no prompt judged by both {a.runs[0]} and {b.runs[0]}")
    # (1 - l) R_a + l R_b == R_{(1 - l) a} - R_{-l b}: a paired difference of rescaled scores, so
    # the clustered difference's joint jackknife gives the combination's interval
    result = clustered_difference(
        [(1 - share) * a.values[i] for i in common], [-share * b.values[i] for i in common],
        [a.clusters[i] for i in common], [a.weights[i] for i in common], [b.weights[i] for i in common],
    )
    between = a.runs if a is b else a.runs + b.runs
    return MatchedScore(spend, result.estimate, result.ci_lower, result.ci_upper, result.note,
                        len(common), result.n_clusters, between)


#: two levels closer than this factor say the same thing: one of them is enough
LEVEL_SPACING = 1.5


def spend_levels(curves: Sequence[Curve], most: int = MAX_LEVELS) -> list[float]:
    """Common spend levels, chosen among the points' own positive spends ($0 is every baseline's
    0-item rung: a curve's lower end, not a comparison): all of them when there are at most
    ``most``; else the spends of one-point curves (a strategy whose spend does not move with the
    budget: the others are read at its spend), then, one at a time, the spend inside the most
    curves' ranges, ties going to the one farthest (in log $) from those already chosen, none
    within a factor :data:`LEVEL_SPACING` of a chosen one."""
    spends = sorted({round(p.spend, 12) for c in curves for p in c.points if p.spend > 0})
    if len(spends) <= most:
        return spends
    chosen = sorted({round(c.low, 12) for c in curves if len(c.points) == 1 and c.low > 0})[:most]

    def coverage(spend: float) -> int:
        return sum(c.low - 1e-12 <= spend <= c.high + 1e-12 for c in curves)

    def distance(spend: float) -> float:
        return min((abs(math.log10(spend / c)) for c in chosen), default=math.inf)

    while len(chosen) < most:
        left = [s for s in spends if distance(s) >= math.log10(LEVEL_SPACING) - 1e-12]
        if not left:
            break
        chosen.append(max(left, key=lambda s: (coverage(s), distance(s), -s)))
    return sorted(chosen)


@dataclass
class MatchedSpend:
    curves: list[Curve]
    levels: list[float]
    cells: list[list[MatchedScore]] = field(default_factory=list)  # per curve, per level

    def headers(self) -> list[str]:
        return ["strategy", "suite", "metric", "its spends ($/task)",
                *(f"at ${level:.4g}/task" for level in self.levels), "warnings"]

    def rows(self) -> list[list[str]]:
        out = []
        for curve, scores in zip(self.curves, self.cells, strict=True):
            cells = [cell_text(c) for c in scores]
            spends = ", ".join(f"{p.spend:.4g}" + (f" ({len(p.runs)} runs)" if len(p.runs) > 1 else "")
                               for p in curve.points)
            out.append([curve.label, curve.suite, curve.metric, spends, *cells, "; ".join(curve.warnings) or "–"])
        return out

    def footnotes(self) -> list[str]:
        return [
            "Scores at matched spend: each strategy's score read off its score-vs-$ curve over the "
            "budget ladder, linearly between the two rungs around each level; no extrapolation "
            f"(\"{OUTSIDE}\"). Spend: acquisition $ per task from the ledger's run costs (API calls, "
            "their models and fees, and the optimizer; cached calls counted; answering and judging "
            "left out). 95% CI: task-clustered jackknife t interval of the interpolated score over "
            "the prompts both rungs judged (the rungs are paired); the spend is taken as fixed.",
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"levels_usd_per_task": self.levels, "method": self.footnotes()[0], "curves": [
            {"label": c.label, "suite": c.suite, "metric": c.metric,
             "points": [{"spend_usd_per_task": p.spend, "runs": list(p.runs)} for p in c.points],
             "at_levels": [asdict(score) for score in scores]}
            for c, scores in zip(self.curves, self.cells, strict=True)]}

    def to_markdown(self) -> str:
        headers = self.headers()
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.rows()]
        return "\n".join([*lines, "", *self.footnotes()]) + "\n"


def cell_text(score: MatchedScore, digits: int = 1) -> str:
    if score.estimate is None:
        return score.note
    text = f"{score.estimate:.{digits}f}"
    if score.ci_lower is not None and score.ci_upper is not None:
        return f"{text} [{score.ci_lower:.{digits}f}, {score.ci_upper:.{digits}f}]"
    return f"{text} ({score.note})" if score.note else text


def _curve_key(entry: Entry) -> tuple:
    config = {k: v for k, v in entry.config.items() if k not in LADDER_KEYS | FOLDER_KEYS}
    return (entry.suite, entry.metric, tuple(sorted((k, repr(v)) for k, v in config.items())))


def _labels(groups: dict[tuple, list[Entry]]) -> dict[tuple, str]:
    """The strategy, plus the settings that tell two curves of one strategy apart."""
    by_strategy: dict[str, list[tuple]] = {}
    for key, entries in groups.items():
        by_strategy.setdefault(entries[0].strategy, []).append(key)
    labels = {}
    for strategy, keys in by_strategy.items():
        for key in keys:
            if len(keys) == 1:
                labels[key] = strategy
                continue
            mine = dict(key[2])
            differing = sorted(k for k in mine if any(dict(other[2]).get(k) != mine[k] for other in keys))
            extra = ", ".join(f"{k}={groups[key][0].config.get(k)}" for k in differing if k != "strategy")
            labels[key] = f"{strategy} ({extra})" if extra else strategy
    return labels


def matched_spend_table(runs: Sequence[RunData], entries: Sequence[Entry],
                        scores_of: dict[str, PromptScores | None]) -> MatchedSpend | None:
    """The matched-spend table of a leaderboard's rows; None unless some curve has two or more
    spend levels (a sweep without a budget ladder)."""
    ledger_of = {str(run.path): run for run in runs}
    groups: dict[tuple, list[Entry]] = {}
    spend_of: dict[str, float] = {}
    for entry in entries:
        run = ledger_of.get(entry.path)
        scores = scores_of.get(entry.name)
        if entry.status != "complete" or entry.metric is None or run is None or scores is None or not scores.values:
            continue
        spend = acquisition_spend(run.ledger)
        tasks = int(((run.metrics or {}).get("acquisition") or {}).get("tasks") or len(set(scores.clusters.values())))
        if spend is None or tasks <= 0:
            continue
        spend_of[entry.name] = spend / tasks
        groups.setdefault(_curve_key(entry), []).append(entry)
    labels = _labels(groups)
    curves = []
    for key, members in groups.items():
        by_spend: dict[float, list[Entry]] = {}
        for entry in members:
            by_spend.setdefault(round(spend_of[entry.name], 12), []).append(entry)
        points = [_merge(spend, [(e.name, scores_of[e.name]) for e in same])
                  for spend, same in sorted(by_spend.items())]
        warnings = tuple(dict.fromkeys(w for e in members for w in e.warnings))
        curves.append(Curve(labels[key], members[0].suite, str(members[0].metric), points, warnings))
    if not any(len(c.points) > 1 for c in curves):
        return None
    curves.sort(key=lambda c: (c.suite, c.metric, c.label))
    levels = spend_levels(curves)
    table = MatchedSpend(curves, levels)
    table.cells = [[interpolate(c, level) for level in levels] for c in curves]
    return table
