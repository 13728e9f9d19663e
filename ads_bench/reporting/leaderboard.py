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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.judging.headline import ARENA_HARD, MT_BENCH, WIN_RATE, headline
from ads_bench.judging.metrics import (
    MIN_CLUSTERS,
    ClusteredMean,
    clustered_difference,
    clustered_mean,
    holm,
    separability,
)
from ads_bench.judging.metrics.repeats import repeats_text
from ads_bench.judging.summary import arena_hard_item_score, position_bias_warning
from ads_bench.models.ledger_replay import read_run_ledger
from ads_bench.reporting.matched_spend import MatchedSpend, matched_spend_table
from ads_bench.utils.jsonl import JsonlLog

API_ABBREVIATIONS = {
    "information_retrieval": "IR",
    "demonstration_generation": "DG",
    "question_answering": "QA",
}
SIGNIFICANCE_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


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


# -- per-prompt scores ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PromptScores:
    """A run's score per judged item (id -> score; failures left out), each item's cluster and
    weight (1, or an Arena-Hard question's number of battles): the headline is the weighted mean."""

    metric: str
    values: dict[str, float]
    clusters: dict[str, str]
    weights: dict[str, float] = field(default_factory=dict)

    def weight(self, item: str) -> float:
        return self.weights.get(item, 1.0)

    def interval(self) -> ClusteredMean | None:
        if not self.values:
            return None
        ids = list(self.values)
        return clustered_mean([self.values[i] for i in ids], [self.clusters[i] for i in ids],
                              [self.weight(i) for i in ids])


def _task_of(prompt_id: str) -> str:
    return prompt_id.rsplit("#", 1)[0]


def _cluster_of(record: dict[str, Any]) -> str:
    return str(record.get("cluster") or record.get("task_id") or _task_of(record["id"]))


def _arena_hard_scores(pairwise: list[dict[str, Any]]) -> PromptScores | None:
    """Per question the share of battle points the model won (%), weighted by its battles, when
    the judge wrote Arena-Hard verdicts; a failed game drops out alone, as in metrics.json."""
    scored = {r["id"]: (r, *arena_hard_item_score(r.get("orders") or [])) for r in pairwise}
    usable = {i: (r, points, battles) for i, (r, points, battles, _) in scored.items() if battles}
    if not usable:
        return None
    return PromptScores(
        ARENA_HARD,
        {i: 100.0 * points / battles for i, (_, points, battles) in usable.items()},
        {i: _cluster_of(r) for i, (r, _, _) in usable.items()},
        {i: float(battles) for i, (_, _, battles) in usable.items()},
    )


def prompt_scores(run: RunData) -> PromptScores | None:
    """Scores from judgments.jsonl: Arena-Hard battle shares or pairwise preferences in %,
    MT-Bench grades, or the first lm-eval metric; None when the run judged nothing."""
    records = list(run.indexed("judgments").values())
    pairwise = [r for r in records if "preference" in r and "prompt_id" not in r]
    if pairwise:
        if (run.metrics or {}).get("pairwise", {}).get("arena_hard"):
            return _arena_hard_scores(pairwise)
        usable = [r for r in pairwise if r.get("preference") is not None and not r.get("failed")]
        return PromptScores(
            WIN_RATE,
            {r["id"]: 100.0 * float(r["preference"]) for r in usable},
            {r["id"]: _cluster_of(r) for r in usable},
        )
    single = [r for r in records if "prompt_id" in r and r.get("score") is not None]
    if single:
        return PromptScores(
            MT_BENCH,
            {r["id"]: float(r["score"]) for r in single},
            {r["id"]: _task_of(str(r["prompt_id"])) for r in single},
        )
    lm_eval = [r for r in records if r.get("lm_eval_scores")]
    if lm_eval:
        metric = sorted(lm_eval[0]["lm_eval_scores"])[0]
        usable = [r for r in lm_eval if metric in r["lm_eval_scores"]]
        return PromptScores(
            f"lm-eval {metric}",
            {r["id"]: float(r["lm_eval_scores"][metric]) for r in usable},
            {r["id"]: str(r.get("task_id") or _task_of(r["id"])) for r in usable},
        )
    return None


def run_warnings(metrics: dict[str, Any]) -> list[str]:
    """What makes the headline unreliable or not comparable: metrics.json's ``warnings``, and for
    older files without them the position-bias check on the judge figures they hold."""
    if "warnings" in metrics:
        return [str(w) for w in metrics["warnings"]]
    warning = position_bias_warning(metrics.get("pairwise") or {})
    return [warning] if warning else []


# -- rows ----------------------------------------------------------------------------------------

@dataclass
class Entry:
    name: str
    path: str
    kind: str
    suite: str
    strategy: str
    policy: str
    learner: str
    judge: str
    status: str  # complete | incomplete
    metric: str | None = None
    score: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_note: str = ""
    lc_win_rate: float | None = None
    warnings: list[str] = field(default_factory=list)
    n_judged: int = 0
    n_failed: int = 0
    n_failed_answers: int = 0
    baseline: str | None = None
    difference: float | None = None
    difference_lower: float | None = None
    difference_upper: float | None = None
    p_value: float | None = None
    p_holm: float | None = None  # Holm-adjusted over the table's comparisons; the stars use it
    n_paired: int = 0
    n_paired_tasks: int = 0
    cost_usd: float | None = None
    acquisition_usd: float | None = None
    tokens: int | None = None
    model_calls: int | None = None
    api_calls: int | None = None
    api_mix: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    repeats: dict[str, Any] | None = None  # metrics.json's block of a run made with --repeats N
    note: str = ""
    optimizer: str = ""  # which optimizer an ads/ablation row used (optimizer.provenance)

    @property
    def is_baseline(self) -> bool:
        return self.baseline == self.name

    @property
    def too_few_to_test(self) -> bool:
        """Paired with the baseline, but on too few tasks for a p-value."""
        return self.difference is not None and self.p_value is None

    @property
    def significance(self) -> str:
        if self.is_baseline:
            return "baseline"
        p_value = self.p_holm if self.p_holm is not None else self.p_value
        if p_value is None:
            return ""
        return next((mark for level, mark in SIGNIFICANCE_LEVELS if p_value < level), "n.s.")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "significance": self.significance}


def _ledger_figures(run: RunData) -> dict[str, Any]:
    """Cost columns: what the run costs (each request and fee once, all sessions, killed ones too).

    Replayed from the run's ledger.jsonl when it has one, so a run interrupted any number of times
    shows what an uninterrupted run shows; older folders have only ledger.json.
    """
    ledger = run.ledger
    if not ledger:
        return {}
    total = ledger.get("total", {})
    # acquisition rows are the APIs' per-call fees, not model calls: counted apart as API calls
    model_calls = sum(e.get("calls", 0) for e in ledger.get("entries", []) if e.get("role") != "acquisition")
    return {
        "cost_usd": float(total.get("cost_usd", 0.0)),
        "tokens": int(total.get("tokens", total.get("prompt_tokens", 0) + total.get("completion_tokens", 0))),
        "model_calls": int(model_calls),
    }


def _acquisition_figures(run: RunData) -> dict[str, Any]:
    block = (run.metrics or {}).get("acquisition")
    if block:
        return {"api_calls": int(sum(block.get("api_calls", {}).values())),
                "api_mix": dict(block.get("api_call_share", {})),
                "acquisition_usd": float(block.get("acquisition_usd", 0.0))}
    if run.kind == "evaluate":
        return {"api_calls": 0, "acquisition_usd": 0.0}
    return {}


def make_entry(run: RunData) -> tuple[Entry, PromptScores | None]:
    entry = Entry(run.name, str(run.path), run.kind, run.suite, run.strategy, run.policy, run.learner,
                  run.judge, "complete" if run.complete else "incomplete", config=dict(run.config))
    entry.__dict__.update(_ledger_figures(run))
    entry.__dict__.update(_acquisition_figures(run))
    entry.optimizer = str(((run.metrics or {}).get("optimizer_info") or {}).get("description") or "")
    if run.metrics is None:
        progress = ", ".join(f"{len(run.indexed(log))} {log}" for log in ("acquisitions", "answers", "judgments"))
        entry.note = f"incomplete: no metrics.json ({progress} so far); rerun the same command to resume"
        return entry, None
    scores = prompt_scores(run)
    stated = headline(run.metrics)
    entry.metric, entry.score, entry.lc_win_rate = stated.metric, stated.score, stated.lc_win_rate
    entry.n_judged, entry.n_failed = stated.n_judged, stated.n_failed
    entry.ci_lower, entry.ci_upper, entry.ci_note = stated.ci_lower, stated.ci_upper, stated.ci_note
    entry.n_failed_answers = int(run.metrics.get("n_failed_answers", 0) or 0)
    entry.warnings = run_warnings(run.metrics)
    entry.repeats = run.metrics.get("repeats")
    if scores is not None and scores.metric == stated.metric:
        # the interval of the prompts' scores, whatever method an older metrics.json used
        interval = scores.interval()
        if interval is not None:
            entry.ci_lower, entry.ci_upper, entry.ci_note = interval.ci_lower, interval.ci_upper, interval.note
    if stated.metric is None:
        entry.note = "no judged prompt: see judgments.jsonl for the judge's raw outputs"
    return entry, scores


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
        from ads_bench.reporting.report import leaderboard_page  # the page shares the report's look

        return leaderboard_page(self)


CSV_COLUMNS = (
    "name", "kind", "suite", "strategy", "learner", "policy", "judge", "status", "metric", "score", "ci_lower",
    "ci_upper", "ci_note", "lc_win_rate", "warnings", "n_judged", "n_failed", "n_failed_answers", "baseline",
    "difference", "difference_lower", "difference_upper", "p_value", "p_holm", "significance", "n_paired",
    "n_paired_tasks", "cost_usd", "acquisition_usd", "tokens", "model_calls", "api_calls", "api_mix", "path",
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
        "$": "–" if entry.cost_usd is None else f"{entry.cost_usd:.4f}",
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
