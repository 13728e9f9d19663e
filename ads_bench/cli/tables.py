"""Rich tables shared by commands: metrics of a run and its cost ledger."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ads_bench.models.ledger import Ledger


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    pairwise = metrics.get("pairwise")
    if pairwise:
        if "win_rate" in pairwise:
            ci = ""
            if pairwise.get("ci_lower") is not None:
                ci = f"  [{pairwise['ci_lower']:.1f}, {pairwise['ci_upper']:.1f}]"
            table.add_row("win rate % (95% CI)", f"{pairwise['win_rate']:.1f}{ci}")
            table.add_row("standard error", _fmt(pairwise.get("standard_error"), 2))
            table.add_row("length-controlled win rate %", _fmt(pairwise.get("length_controlled_winrate")))
            table.add_row("discrete win rate %", _fmt(pairwise.get("discrete_win_rate")))
            table.add_row("wins / draws / losses",
                          f"{pairwise['n_wins']} / {pairwise['n_draws']} / {pairwise['n_wins_base']}")
            table.add_row("judge order agreement", _fmt(pairwise.get("order_agreement"), 2))
            table.add_row("P(judge prefers first position)", _fmt(pairwise.get("p_prefer_first_position"), 2))
        if pairwise.get("arena_hard"):
            arena = pairwise["arena_hard"]
            table.add_row("Arena-Hard score % (95% CI)",
                          f"{arena['score']:.1f}  [{arena['lower']:.1f}, {arena['upper']:.1f}]")
        table.add_row("failed judgments", f"{pairwise.get('n_failed', 0)} of {pairwise.get('n_items', 0)}")
    single = metrics.get("single")
    if single:
        for key in ("turn_1", "turn_2", "average"):
            block = single.get(key)
            if block:
                table.add_row(f"MT-Bench {key.replace('_', ' ')} (1–10)",
                              f"{_fmt(block['score'], 2)}  (n={block['n']}, failed={block['n_failed']})")
        for category, block in (single.get("categories") or {}).items():
            table.add_row(f"  {category}", f"{_fmt(block['score'], 2)}  (n={block['n']})")
    for metric, block in (metrics.get("lm_eval") or {}).items():
        table.add_row(f"lm-eval {metric}", f"{block['mean']:.3f}  (n={block['n']})")
    if metrics.get("n_unjudged"):
        table.add_row("[yellow]prompts without a judgment[/yellow]", str(metrics["n_unjudged"]))
    return table


def ledger_table(ledger: Ledger, title: str = "this execution spent", run_cost: dict[str, Any] | None = None) -> Table:
    """What ``ledger`` (one execution) spent per role, model and API, retries by cause in the caption.

    ``run_cost`` (a metrics.json ``cost`` block) adds the run's own figures below the table: what
    the run costs (each request and fee once, cached or not) and the calls left unconfirmed by a
    killed session, so the two figures are never confused.
    """
    table = Table(title=title)
    data = ledger.to_json()
    # a retries column only when there were retries: the table is wide enough already
    retried = bool(data["total"].get("retries"))
    columns = ["role", "model", "api", "calls", "cached", "failed", *(["retries"] if retried else []),
               "prompt tok", "completion tok", "seconds", "$"]
    for column in columns:
        table.add_column(column, justify="right" if column not in ("role", "model", "api") else "left")

    def cells(row: dict[str, Any]) -> list[str]:
        return [str(row["calls"]), str(row["cache_hits"]), str(row["failures"]),
                *([str(row.get("retries", 0))] if retried else []),
                f"{row['prompt_tokens']:,}", f"{row['completion_tokens']:,}", f"{row['seconds']:.1f}"]

    for row in data["entries"]:
        table.add_row(row["role"], row["model"], row["api"], *cells(row), f"{row['cost_usd']:.4f}")
    total = data["total"]
    table.add_row("[bold]total[/bold]", "", "", *cells(total), f"[bold]{total['cost_usd']:.4f}[/bold]")
    lines = []
    retries = ledger.retries_by("role")
    if retries:
        lines.append("retries: " + "; ".join(
            f"{role} " + ", ".join(f"{cause} ×{n}" for cause, n in causes.items()) for role, causes in retries.items()
        ))
    if run_cost is not None:
        lines.append(
            f"the run costs ${run_cost['run_usd']:.4f}: {run_cost['run_calls']} model calls, "
            f"{run_cost['run_tokens']:,} tokens, {run_cost['run_api_fees']} API fees "
            "(every call it needed, cached or not, each request and each fee once; all sessions)"
        )
        if run_cost.get("unconfirmed_calls"):
            unpriced = run_cost.get("unconfirmed_unpriced", 0)
            lines.append(
                f"[yellow]unconfirmed: {run_cost['unconfirmed_calls']} calls in flight when a session died, "
                f"maybe billed: ~${run_cost['unconfirmed_usd']:.4f} estimated"
                + (f", {unpriced} with no price known" if unpriced else "") + "[/yellow]"
            )
    if lines:
        table.caption = "\n".join(lines)
        table.caption_justify = "left"
    return table
