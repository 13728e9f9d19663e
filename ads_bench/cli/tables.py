"""Rich tables shared by commands: metrics of a run and its cost ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ads_bench.judging.metrics.repeats import repeats_rows
from ads_bench.models.ledger import Ledger


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _with_interval(value: float, lower: float | None, upper: float | None, note: str | None, digits: int = 1) -> str:
    if lower is not None and upper is not None:
        return f"{value:.{digits}f}  [{lower:.{digits}f}, {upper:.{digits}f}]"
    return f"{value:.{digits}f}" + (f"  ({note})" if note else "")


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    """A run's metrics, its suite's headline first (Arena-Hard's BT score when the judge wrote
    5-level verdicts, else the win rate and LC, or MT-Bench's mean grade), each warning in it."""
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    pairwise = metrics.get("pairwise") or {}
    warnings = metrics.get("warnings", pairwise.get("warnings", []))
    for warning in warnings:
        table.add_row("[bold red]warning[/bold red]", f"[bold red]{escape(str(warning))}[/bold red]")
    headline_flag = "[bold red]judge unreliable[/bold red] " if any(
        str(w).startswith("judge unreliable") for w in warnings) else ""
    if pairwise:
        arena = pairwise.get("arena_hard")
        if arena and arena.get("score") is not None:
            table.add_row(f"{headline_flag}Arena-Hard score % (95% CI)",
                          _with_interval(arena["score"], arena.get("lower"), arena.get("upper"), arena.get("ci_note")))
            table.add_row("failed games", f"{arena.get('n_failed_games', 0)} of {arena.get('n_games', 0)}")
        if "win_rate" in pairwise:
            flag = "" if arena else headline_flag
            table.add_row(f"{flag}win rate % (95% CI)",
                          _with_interval(pairwise["win_rate"], pairwise.get("ci_lower"), pairwise.get("ci_upper"),
                                         pairwise.get("ci_note")))
            table.add_row("standard error", _fmt(pairwise.get("standard_error"), 2))
            table.add_row("length-controlled win rate %", _fmt(pairwise.get("length_controlled_winrate")))
            table.add_row("discrete win rate %", _fmt(pairwise.get("discrete_win_rate")))
            table.add_row("wins / draws / losses",
                          f"{pairwise['n_wins']} / {pairwise['n_draws']} / {pairwise['n_wins_base']}")
            table.add_row("judge order agreement", _fmt(pairwise.get("order_agreement"), 2))
            table.add_row("P(judge prefers first position)", _fmt(pairwise.get("p_prefer_first_position"), 2))
        table.add_row("failed judgments", f"{pairwise.get('n_failed', 0)} of {pairwise.get('n_items', 0)}")
    single = metrics.get("single")
    if single:
        for key in ("turn_1", "turn_2", "average"):
            block = single.get(key)
            if block:
                score = "–" if block["score"] is None else _with_interval(
                    block["score"], block.get("ci_lower"), block.get("ci_upper"), block.get("ci_note"), 2)
                table.add_row(f"MT-Bench {key.replace('_', ' ')} (1–10)",
                              f"{score}  (n={block['n']}, failed={block['n_failed']})")
        for category, block in (single.get("categories") or {}).items():
            table.add_row(f"  {category}", f"{_fmt(block['score'], 2)}  (n={block['n']})")
    for metric, block in (metrics.get("lm_eval") or {}).items():
        table.add_row(f"lm-eval {metric}", f"{block['mean']:.3f}  (n={block['n']})")
    if metrics.get("n_failed_answers"):
        table.add_row("[yellow]failed answers (not judged)[/yellow]", str(metrics["n_failed_answers"]))
    if metrics.get("n_unjudged"):
        table.add_row("[yellow]prompts without a judgment[/yellow]", str(metrics["n_unjudged"]))
    for label, value in repeats_rows(metrics.get("repeats")):  # --repeats: what varies between runs
        table.add_row(label, value)
    return table


@dataclass(frozen=True)
class FittedTable:
    """One table in the layouts a width may need, the widest that fits taken when it is drawn.

    A rich table that is too wide cuts every cell to "acqu…", "0.0…"; a figure cut so is worse
    than none. So each layout is measured at the width it is printed at (a terminal, or 80
    columns when piped) and the first one whose cells all fit whole is drawn; the last one, a
    column of "field: value" lines, fits any width.
    """

    layouts: tuple[Table, ...]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for table in self.layouts[:-1]:
            # the widest it draws: every cell whole (a folding column is capped by its max_width)
            if Measurement.get(console, options.update(width=10_000), table).maximum <= options.max_width:
                yield table
                return
        yield self.layouts[-1]


Figures = list[tuple[str, str, str]]  # (long header, short header, cell) for every figure of a row


def fitted_table(title: str, rows: list[tuple[tuple[str, str, str], Figures]], caption: list[str]) -> FittedTable:
    """Rows keyed by (role, model, api) with figures, in the three layouts of :class:`FittedTable`:
    one column per field; role, model and API stacked in one column with short headers (fits 80
    columns); one row per field and entry."""
    headers = rows[-1][1]
    wide = Table(title=title)
    for column in ("role", "model", "api"):
        wide.add_column(column, no_wrap=True)
    for header, _, _ in headers:
        wide.add_column(header, justify="right", no_wrap=True)
    stacked = Table(title=title, collapse_padding=True, show_edge=False)
    # capped, so that a long model spec folds inside its cell instead of ruling this layout out
    stacked.add_column("role · model · api", overflow="fold", max_width=24)
    for _, short, _ in headers:
        stacked.add_column(short, justify="right", no_wrap=True)
    listed = Table(title=title, show_header=False)
    listed.add_column("field", overflow="fold")
    listed.add_column("value", justify="right", no_wrap=True)
    for (role, model, api), figures in rows:
        cells = [cell for _, _, cell in figures]
        wide.add_row(role, model, api, *cells)
        who = " · ".join(part for part in (role, model, api) if part and part != "-")
        stacked.add_row(who, *cells)
        listed.add_row(f"[bold]{who}[/bold]", "", end_section=False)
        for header, _, cell in figures:
            listed.add_row(f"  {header}", cell)
        listed.add_section()
    layouts = (wide, stacked, listed)
    if caption:
        for table in layouts:
            table.caption = "\n".join(caption)
            table.caption_justify = "left"
    return FittedTable(layouts)


def ledger_table(ledger: Ledger, title: str = "this execution spent", run_cost: dict[str, Any] | None = None) -> FittedTable:
    """What ``ledger`` (one execution) spent per role, model and API, retries by cause in the caption.

    ``run_cost`` (a metrics.json ``cost`` block) adds the run's own figures below the table: what
    the run costs (each request and fee once, cached or not) and the calls left unconfirmed by a
    killed session, so the two figures are never confused.
    """
    data = ledger.to_json()
    # a retries column only when there were retries: the table is wide enough already
    retried = bool(data["total"].get("retries"))

    def figures(row: dict[str, Any]) -> Figures:
        return [
            ("calls", "calls", str(row["calls"])),
            ("cached", "hit", str(row["cache_hits"])),
            ("failed", "fail", str(row["failures"])),
            *([("retries", "retry", str(row.get("retries", 0)))] if retried else []),
            ("prompt tok", "tok in", f"{row['prompt_tokens']:,}"),
            ("completion tok", "tok out", f"{row['completion_tokens']:,}"),
            ("seconds", "s", f"{row['seconds']:.1f}"),
            ("$", "$", f"{row['cost_usd']:.4f}"),
        ]

    rows = [((row["role"], row["model"], row["api"]), figures(row)) for row in data["entries"]]
    rows.append((("[bold]total[/bold]", "", ""), figures(data["total"])))
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
    return fitted_table(title, rows, lines)


def estimate_table(estimate: dict[str, Any], title: str | None = None) -> FittedTable:
    """An ``ads-bench estimate`` (``Estimate.to_json()``): expected calls, tokens, model seconds and
    $ per role, model and API, what a resumed run folder already covers, and each line's basis."""

    def figures(row: dict[str, Any]) -> Figures:
        return [
            ("calls", "calls", f"{row['calls']:,.0f}"),
            ("done", "done", f"{row['covered_calls']:,.0f}"),
            ("prompt tok", "tok in", f"{row['prompt_tokens']:,.0f}"),
            ("completion tok", "tok out", f"{row['completion_tokens']:,.0f}"),
            ("model s", "s", f"{row['seconds']:,.0f}"),
            ("$", "$", f"{row['usd']:.4f}"),
        ]

    rows = [((row["role"], row["model"], row["api"]), figures(row)) for row in estimate["lines"]]
    rows.append((("[bold]total[/bold]", "", ""), figures(estimate["total"])))
    bases = sorted({f"{row['role']} {row['model']}: {row['basis']}" for row in estimate["lines"]
                    if row["role"] != "acquisition"})
    caption = [
        "estimated before any call; done = already in the run folder (costs nothing again); model s = "
        "seconds of model time (wall time is less where calls run in parallel)",
        "per-call figures — " + "; ".join(bases),
        *estimate["notes"],
    ]
    return fitted_table(title or f"estimate: {estimate['scope']}", rows, caption)
