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


def ledger_table(ledger: Ledger, title: str = "cost ledger") -> Table:
    table = Table(title=title)
    for column in ("role", "model", "api", "calls", "cached", "failed", "prompt tok", "completion tok", "seconds", "$"):
        table.add_column(column, justify="right" if column not in ("role", "model", "api") else "left")
    data = ledger.to_json()
    for row in data["entries"]:
        table.add_row(
            row["role"], row["model"], row["api"], str(row["calls"]), str(row["cache_hits"]),
            str(row["failures"]), f"{row['prompt_tokens']:,}", f"{row['completion_tokens']:,}",
            f"{row['seconds']:.1f}", f"{row['cost_usd']:.4f}",
        )
    total = data["total"]
    table.add_row(
        "[bold]total[/bold]", "", "", str(total["calls"]), str(total["cache_hits"]), str(total["failures"]),
        f"{total['prompt_tokens']:,}", f"{total['completion_tokens']:,}", f"{total['seconds']:.1f}",
        f"[bold]{total['cost_usd']:.4f}[/bold]",
    )
    return table
