"""``ads-bench leaderboard``: one row per run folder, with CIs and paired significance tests.

Each row is a run's headline score, its suite's own (Arena-Hard's Bradley–Terry score against
the baseline when the judge wrote 5-level verdicts; AlpacaEval's win rate %, with its LC win rate
beside it; MT-Bench's mean 1–10 grade; or an lm-eval metric) with its 95% CI, its cost from the
ledger and its API-call mix. Against a baseline run on the same suite (by default the one whose
strategy is ``none``) it shows the paired difference over the prompts both runs judged, with a
task-clustered CI and p-value (:mod:`~ads_bench.judging.metrics.clustered`: clusters = task ids,
so a task's held-out prompts move together; none below ``MIN_CLUSTERS`` tasks). Two runs
compared on the same prompts differ far less by chance than their separate CIs suggest, which
is why the paired test and not CI overlap decides the significance mark; the marks come from
Holm-adjusted p-values, since one table compares many runs with the baseline. A headline whose
judge is unreliable (position bias) says so in the score itself. The table's separability is
Arena-Hard's (fraction of row pairs whose CIs do not overlap).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.judging.headline import ARENA_HARD, MT_BENCH, WIN_RATE
from ads_bench.judging.metrics import (
    MIN_CLUSTERS,
    ClusteredMean,
    clustered_difference,
    holm,
    separability,
)
from ads_bench.judging.metrics.repeats import repeats_text
from ads_bench.reporting.entries import Entry, estimate_text, make_entry
from ads_bench.reporting.matched_spend import MatchedSpend, matched_spend_table
from ads_bench.reporting.prompt_scores import PromptScores
from ads_bench.reporting.run_data import RunData, find_run_dirs

API_ABBREVIATIONS = {
    "information_retrieval": "IR",
    "demonstration_generation": "DG",
    "question_answering": "QA",
}



# -- baseline and paired differences ------------------------------------------------------------

def _pick_baseline(entry: Entry, candidates: Sequence[Entry]) -> Entry | None:
    same = [c for c in candidates if c.suite == entry.suite and c.metric == entry.metric and c.name != entry.name]
    if not same:
        return None
    return max(same, key=lambda c: (c.policy == entry.policy, c.judge == entry.judge, c.learner == entry.learner))


def paired_difference(scores: PromptScores, baseline: PromptScores) -> tuple[ClusteredMean, int] | None:
    """``scores`` minus ``baseline`` over the items both judged: the difference of the two
    weighted means, with the task-clustered CI and p-value (None below ``MIN_CLUSTERS`` tasks)."""
    common = [i for i in scores.values if i in baseline.values]
    if not common:
        return None
    diff = clustered_difference(
        [scores.values[i] for i in common], [baseline.values[i] for i in common],
        [scores.clusters[i] for i in common],
        [scores.weight(i) for i in common], [baseline.weight(i) for i in common],
    )
    return diff, len(common)


def _compare(entry: Entry, base: Entry, scores: PromptScores | None, base_scores: PromptScores | None) -> None:
    entry.baseline = base.name
    if scores is None or base_scores is None or scores.metric != base_scores.metric:
        entry.note = entry.note or "no per-prompt scores to pair with the baseline"
        return
    result = paired_difference(scores, base_scores)
    if result is None:
        entry.note = entry.note or f"no prompt judged by both this run and {base.name}"
        return
    diff, n = result
    entry.difference, entry.difference_lower, entry.difference_upper = diff.estimate, diff.ci_lower, diff.ci_upper
    entry.p_value, entry.n_paired, entry.n_paired_tasks = diff.p_value, n, diff.n_clusters
    if base.judge != entry.judge:
        entry.note = entry.note or f"judged by {entry.judge}, the baseline by {base.judge}"
    if base.policy != entry.policy:
        entry.note = entry.note or f"policy {entry.policy}, the baseline's {base.policy}"


# -- the table -----------------------------------------------------------------------------------

@dataclass
class Leaderboard:
    entries: list[Entry]
    baseline: str
    separability: dict[str, float] = field(default_factory=dict)
    rounds: int = 1000
    skipped: list[str] = field(default_factory=list)  # folders that are not leaderboard rows, and why
    matched_spend: MatchedSpend | None = None  # a budget ladder's scores at matched spend (reporting/matched_spend.py)

    @property
    def complete(self) -> list[Entry]:
        return [e for e in self.entries if e.status == "complete"]

    def to_json(self) -> str:
        data = {"baseline": self.baseline, "rounds": self.rounds, "separability": self.separability,
                "entries": [e.as_dict() for e in self.entries], "skipped": self.skipped}
        if self.matched_spend is not None:
            data["matched_spend"] = self.matched_spend.to_dict()
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"

    def rows(self) -> list[dict[str, str]]:
        return [table_row(rank, e) for rank, e in enumerate(self.entries, start=1)]

    def columns(self) -> list[str]:
        """The table's columns; ``repeats`` only where a row had --repeats."""
        if not any(e.repeats for e in self.entries):
            return list(COLUMNS)
        columns = list(COLUMNS)
        return [*columns[: columns.index("failed")], "repeats", *columns[columns.index("failed"):]]

    def to_markdown(self) -> str:
        rows = self.rows()
        columns = self.columns()
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        for row in rows:
            lines.append("| " + " | ".join(row[c].replace("|", "\\|").replace("\n", " ") for c in columns) + " |")
        lines.append("")
        lines.extend(self.footnotes())
        if self.matched_spend is not None:
            lines += ["", "### Scores at matched spend", "", self.matched_spend.to_markdown().rstrip("\n")]
        return "\n".join(lines) + "\n"

    def footnotes(self) -> list[str]:
        tests = sum(e.p_value is not None for e in self.entries)
        notes = [f"Δ: paired difference vs the baseline (`{self.baseline}` on the same suite) over the "
                 "prompts both judged; 95% CI and two-sided p from a task-clustered t test (jackknife SE "
                 f"over tasks, tasks − 1 degrees of freedom). With fewer than {MIN_CLUSTERS} tasks there is "
                 "no CI and no p: \"n too small\". p (Holm): p adjusted by Holm's method over the "
                 f"{tests} comparison(s) in this table; the marks use it: * p<0.05, ** p<0.01, *** p<0.001, "
                 "n.s. not significant.",
                 "Scores: Arena-Hard's Bradley–Terry score % against the suite's baseline when the judge "
                 "wrote 5-level verdicts; else the win rate % (LC: AlpacaEval's length-controlled win "
                 "rate), MT-Bench's mean grade or an lm-eval metric. Δ pairs the per-prompt scores behind "
                 "the headline: preferences (the raw win rate; LC has no per-prompt score), each question's "
                 "share of battle points weighted by its battles (against one baseline the BT score is that "
                 "share), grades. \"judge unreliable\" marks a score whose judge mostly picked a position: "
                 "do not quote it."]
        for group, value in self.separability.items():
            notes.append(f"Separability ({group}): {100 * value:.1f}% of row pairs have non-overlapping 95% CIs.")
        notes.extend(f"Not a row: {reason}" for reason in self.skipped)
        if any(e.repeats for e in self.entries):
            notes.append(REPEATS_NOTE)
        return notes

    def to_csv(self) -> str:
        buffer = io.StringIO()
        columns = list(CSV_COLUMNS)
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for entry in self.entries:
            data = entry.as_dict()
            data["api_mix"] = ";".join(f"{api}={share:.4f}" for api, share in sorted(entry.api_mix.items()))
            data["warnings"] = "; ".join(entry.warnings)
            data["repeats"] = repeats_text(entry.repeats) if entry.repeats else None
            writer.writerow({c: "" if data.get(c) is None else data[c] for c in columns})
        return buffer.getvalue()

    def to_html(self) -> str:
        from ads_bench.extras import require

        require("report", "the leaderboard as HTML")
        from ads_bench.reporting.report import leaderboard_page  # the page shares the report's look

        return leaderboard_page(self)


CSV_COLUMNS = (
    "name", "kind", "suite", "strategy", "learner", "policy", "judge", "status", "metric", "score", "ci_lower",
    "ci_upper", "ci_note", "lc_win_rate", "warnings", "n_judged", "n_failed", "n_failed_answers", "baseline",
    "difference", "difference_lower", "difference_upper", "p_value", "p_holm", "significance", "n_paired",
    "n_paired_tasks", "cost_usd", "estimated_usd", "acquisition_usd", "tokens", "model_calls", "api_calls", "api_mix", "path",
    "note", "optimizer", "repeats",
)
REPEATS_NOTE = ("repeats: N (what was computed again, the response cache bypassed): the between-run SD of the "
                "prompts' scores and their mean over repeats with a 95% CI over prompts and runs "
                "(ads_bench/judging/metrics/repeats.py); the score column is the first repeat's. A row "
                "without repeats has only the CI over prompts, blind to a shift shared by a whole run.")
P_HOLM = "p (Holm)"
COLUMNS = ("#", "run", "suite", "strategy", "learner", "policy", "score [95% CI]", "failed",
           "Δ vs baseline [95% CI]", "p", P_HOLM, "sig.", "$", "tokens", "calls", "API mix", "note")


def _number(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _interval(value: float | None, lower: float | None, upper: float | None, digits: int, signed: bool) -> str:
    if value is None:
        return "–"
    text = _number(value, digits, signed)
    if lower is not None and upper is not None:
        text += f" [{_number(lower, digits, signed)}, {_number(upper, digits, signed)}]"
    return text


def p_text(p_value: float | None) -> str:
    if p_value is None:
        return "–"
    return f"{p_value:.3f}" if p_value >= 0.0095 else f"{p_value:.2g}"


def too_few_tasks_text(n_tasks: int) -> str:
    return f"n too small ({n_tasks} task{'s' if n_tasks != 1 else ''})"


def score_text(entry: Entry, digits: int) -> str:
    """The headline cell: warnings first (nobody should quote a score without them), the metric
    when it is not the win rate, the score with its CI (or why there is none), the LC win rate."""
    text = _interval(entry.score, entry.ci_lower, entry.ci_upper, digits, False)
    if entry.score is not None and entry.ci_lower is None and entry.ci_note:
        text += f" ({entry.ci_note})"
    if entry.lc_win_rate is not None:
        text += f" · LC {_number(entry.lc_win_rate, digits)}"
    if entry.metric and entry.metric != WIN_RATE:
        text = f"{entry.metric}: {text}"
    return "".join(f"{warning} — " for warning in entry.warnings) + text


def failed_text(entry: Entry) -> str:
    text = f"{entry.n_failed} of {entry.n_failed + entry.n_judged}"
    if entry.metric == ARENA_HARD:
        text += " games"
    if entry.n_failed_answers:
        text += f"; {entry.n_failed_answers} failed answers not judged"
    return text


def api_mix_text(mix: dict[str, float]) -> str:
    return " ".join(f"{API_ABBREVIATIONS.get(api, api)} {100 * share:.0f}%"
                    for api, share in sorted(mix.items(), key=lambda kv: -kv[1])) or "–"


def table_row(rank: int, entry: Entry) -> dict[str, str]:
    digits = 2 if entry.metric == MT_BENCH or (entry.metric or "").startswith("lm-eval") else 1
    return {
        "#": str(rank) if entry.status == "complete" else "–",
        "run": entry.name,
        "suite": entry.suite,
        "strategy": entry.strategy + (f" ({entry.optimizer})" if entry.optimizer else ""),
        "learner": entry.learner,
        "policy": entry.policy,
        "score [95% CI]": score_text(entry, digits),
        "failed": failed_text(entry) if entry.metric else "–",
        "Δ vs baseline [95% CI]": _interval(entry.difference, entry.difference_lower, entry.difference_upper,
                                            digits, True),
        "p": too_few_tasks_text(entry.n_paired_tasks) if entry.too_few_to_test else p_text(entry.p_value),
        P_HOLM: p_text(entry.p_holm),
        "sig.": entry.significance,
        "$": ("–" if entry.cost_usd is None else f"{entry.cost_usd:.4f}")
        + (f" · {estimate_text(entry)}" if entry.estimated_usd is not None else ""),
        "tokens": "–" if entry.tokens is None else f"{entry.tokens:,}",
        "calls": "–" if entry.model_calls is None else f"{entry.model_calls}"
        + (f" + {entry.api_calls} API" if entry.api_calls else ""),
        "API mix": api_mix_text(entry.api_mix),
        "note": entry.note or ("" if entry.status == "complete" else entry.status),
        "repeats": repeats_text(entry.repeats, digits),
    }


def _sort_key(entry: Entry) -> tuple:
    return (entry.status != "complete", entry.metric is None, entry.suite, entry.metric or "",
            -(entry.score if entry.score is not None else -math.inf), entry.name)


def table_separability(entries: Sequence[Entry]) -> dict[str, float]:
    """Arena-Hard's separability per (suite, metric) among the rows that have a CI."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.status == "complete" and entry.ci_lower is not None and entry.ci_upper is not None:
            groups.setdefault(f"{entry.suite}, {entry.metric}", []).append(entry)
    return {
        group: separability([e.ci_lower for e in rows], [e.ci_upper for e in rows])
        for group, rows in groups.items() if len(rows) >= 2
    }


def _unique_names(entries: Sequence[Entry]) -> None:
    """Folder names label rows; two folders of one name (under different parents) get the parent too."""
    counts = Counter(e.name for e in entries)
    for entry in entries:
        if counts[entry.name] > 1:
            path = Path(entry.path)
            entry.name = f"{path.parent.name}/{path.name}"


def build_leaderboard(
    runs: Sequence[RunData], *, baseline: str | None = None, rounds: int = 1000, seed: int = 0
) -> Leaderboard:
    """Rows for the run/evaluate folders in ``runs`` (train folders are left to ``ads-bench report``).

    ``baseline`` names the baseline strategy (or a run folder's name); default ``none``. Naming
    one that no run has is an error; a missing default baseline only leaves Δ empty. ``rounds``
    and ``seed`` are kept for callers; the intervals are analytic (no resampling).
    """
    rated = [r for r in runs if r.kind != "train"]
    if not rated:
        raise UserError("only train folders given: a leaderboard compares `run`/`evaluate` folders "
                        "(use `ads-bench report` for a train folder)")
    scored = [make_entry(run) for run in rated]
    entries = [e for e, _ in scored]
    _unique_names(entries)
    scores_of = {e.name: s for e, s in scored}
    name = baseline or "none"
    candidates = [e for e in entries if e.status == "complete" and e.metric and name in (e.strategy, e.name)]
    if baseline and not candidates:
        known = sorted({e.strategy for e in entries} | {e.name for e in entries})
        raise UserError(f"no complete run with strategy or name {baseline!r}: pass --baseline one of "
                        f"{', '.join(known)}")
    for entry in entries:
        if entry.status != "complete" or entry.metric is None:
            continue
        if any(entry is c for c in candidates):
            entry.baseline = entry.name
            continue
        base = _pick_baseline(entry, candidates)
        if base is None:
            if not entry.note:
                entry.note = f"no baseline run (strategy {name}) on {entry.suite}"
            continue
        _compare(entry, base, scores_of[entry.name], scores_of[base.name])
    # one table compares many runs with their baselines: the marks must hold for the family
    for entry, adjusted in zip(entries, holm([e.p_value for e in entries]), strict=True):
        entry.p_holm = adjusted
    entries.sort(key=_sort_key)
    skipped = [f"{r.name} is a train folder (see `ads-bench report` for it)" for r in runs if r.kind == "train"]
    return Leaderboard(entries, name, table_separability(entries), rounds, skipped,
                       matched_spend_table(rated, entries, scores_of))


def load_leaderboard(paths: Iterable[str | Path], **kwargs: Any) -> Leaderboard:
    return build_leaderboard([RunData.load(p) for p in find_run_dirs(paths)], **kwargs)


FORMATS: dict[str, Callable[[Leaderboard], str]] = {
    "md": Leaderboard.to_markdown,
    "csv": Leaderboard.to_csv,
    "json": Leaderboard.to_json,
    "html": Leaderboard.to_html,
}
