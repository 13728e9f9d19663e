"""A leaderboard row: one run's headline, CI, failures, costs and API mix, read from its folder,
and its paired comparison with the baseline once the table sets it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ads_bench.judging.headline import headline
from ads_bench.reporting.prompt_scores import PromptScores, prompt_scores, run_warnings
from ads_bench.reporting.run_data import RunData

SIGNIFICANCE_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


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
    #: what the command estimated before the run's first call (estimate.json), beside cost_usd
    estimated_usd: float | None = None
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


def _estimate_figures(run: RunData) -> dict[str, Any]:
    estimate = run.estimate
    if not estimate or estimate.get("usd") is None:
        return {}
    return {"estimated_usd": float(estimate["usd"])}


def estimate_text(entry: Entry) -> str:
    """``est. $0.0300 (actual ×1.29)``: the estimate made before the run, and how far off it was."""
    if entry.estimated_usd is None:
        return ""
    text = f"est. ${entry.estimated_usd:.4f}"
    if entry.cost_usd is not None and entry.estimated_usd > 0:
        text += f" (actual ×{entry.cost_usd / entry.estimated_usd:.2f})"
    return text


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
    entry.__dict__.update(_estimate_figures(run))
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
