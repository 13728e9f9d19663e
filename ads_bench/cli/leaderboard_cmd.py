"""``ads-bench leaderboard [RUN_DIRS... | --results DIR] [--baseline NAME] [--format md|csv|html|json]``."""

from __future__ import annotations

from pathlib import Path

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from ads_bench.cli.common import console, err_console
from ads_bench.errors import UserError
from ads_bench.reporting.entries import Entry, estimate_text
from ads_bench.reporting.leaderboard import (
    ARENA_HARD,
    FORMATS,
    P_HOLM,
    WIN_RATE,
    Leaderboard,
    load_leaderboard,
    table_row,
)
from ads_bench.utils.atomic import write_text_atomic

SIGNIFICANCE_STYLES = {"***": "bold green", "**": "green", "*": "green", "n.s.": "dim", "baseline": "cyan"}


def _two_lines(value: float | None, lower: float | None, upper: float | None, digits: int, signed: bool,
               note: str = "") -> str:
    if value is None:
        return "–"
    sign = "+" if signed else ""
    text = f"{value:{sign}.{digits}f}"
    if lower is not None and upper is not None:
        return text + f"\n[{lower:{sign}.{digits}f}, {upper:{sign}.{digits}f}]"
    return text + (f"\n{note}" if note else "")


def _score_cell(entry: Entry, digits: int) -> str:
    """Warnings above the score (nobody should quote it without them), then score, CI, LC, metric."""
    text = _two_lines(entry.score, entry.ci_lower, entry.ci_upper, digits, False, entry.ci_note)
    if entry.lc_win_rate is not None:
        text += f"\nLC {entry.lc_win_rate:.{digits}f}"
    if entry.metric not in (None, WIN_RATE):
        text += f"\n{entry.metric}"
    warnings = "".join(f"[bold red]{escape(w)}[/bold red]\n" for w in entry.warnings)
    return warnings + escape(text)


def rich_leaderboard(board: Leaderboard) -> Table:
    """The table for a terminal: several facts per cell, so it stays readable at 80 columns
    (``--format`` writes one fact per column)."""
    table = Table(title="ads-bench leaderboard", box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
    for column, justify, width in (("#", "right", None), ("run", "left", None), ("score (95% CI)", "right", 12),
                                   ("Δ vs baseline (95% CI)", "right", 14), ("p\np (Holm)", "right", None),
                                   ("cost", "right", None), ("API mix", "left", None)):
        table.add_column(column, justify=justify, overflow="fold", min_width=width)
    for rank, entry in enumerate(board.entries, start=1):
        row = table_row(rank, entry)
        digits = 2 if entry.metric and entry.metric not in (WIN_RATE, ARENA_HARD) else 1
        style = SIGNIFICANCE_STYLES.get(entry.significance, "")
        if style and entry.significance.startswith("*") and (entry.difference or 0) < 0:
            style = style.replace("green", "red")
        mark = f"\n[{style}]{escape(entry.significance)}[/{style}]" if style else ""
        run = f"{escape(entry.name)}\n[dim]{escape(f'{entry.strategy}/{entry.learner} · {entry.suite} · {entry.policy}')}[/dim]"
        if entry.n_failed or entry.n_failed_answers:
            run += f"\n[yellow]failed {escape(row['failed'])}[/yellow]"
        if entry.repeats:
            run += f"\n[dim]repeats {escape(row['repeats'])}[/dim]"
        cost = "–" if entry.cost_usd is None else f"${entry.cost_usd:.4f}\n{row['tokens']} tok\n{row['calls']} calls"
        if entry.estimated_usd is not None:
            cost += f"\n{estimate_text(entry)}"
        table.add_row(
            row["#"], run,
            _score_cell(entry, digits),
            escape(_two_lines(entry.difference, entry.difference_lower, entry.difference_upper, digits, True)),
            escape(row["p"] + (f"\n{row[P_HOLM]}" if entry.p_holm is not None else "")) + mark, escape(cost),
            escape(row["API mix"]),
            style="yellow" if entry.status != "complete" else None,
        )
    return table


def _format_of(fmt: str | None, out: str | None) -> str | None:
    if fmt or not out:
        return fmt
    suffix = Path(out).suffix.lstrip(".").lower()
    suffix = {"markdown": "md", "htm": "html"}.get(suffix, suffix)
    if suffix not in FORMATS:
        raise UserError(f"cannot tell the format of {out}: pass --format {'|'.join(FORMATS)}")
    return suffix


@click.command()
@click.argument("run_dirs", nargs=-1, type=click.Path())
@click.option("--results", type=click.Path(), default=None,
              help="A results folder: every run folder under it (default: ./results when no RUN_DIRS).")
@click.option("--baseline", default=None,
              help="Strategy (or run folder name) to compare against (default: `none` on the same suite).")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default=None,
              help="Write the table as md, csv, html or json (to --out, else stdout).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="File to write (atomically).")
@click.option("--rounds", type=click.IntRange(min=100), default=1000, show_default=True,
              help="Bootstrap rounds for the CIs and p-values.")
@click.option("--seed", type=int, default=0, show_default=True)
def leaderboard(run_dirs: tuple[str, ...], results: str | None, baseline: str | None, fmt: str | None,
                out: str | None, rounds: int, seed: int) -> None:
    """Compare run folders: score with 95% CI, paired difference vs a baseline, cost, API mix."""
    paths = [*run_dirs, *([results] if results else [])]
    if not paths:
        if not Path("results").is_dir():
            raise UserError("no run folders given and no ./results folder: pass RUN_DIRS or --results DIR")
        paths = ["results"]
    for path in paths:
        if not Path(path).exists():
            raise UserError(f"{path} does not exist: pass run folders or a results folder")
    board = load_leaderboard(paths, baseline=baseline, rounds=rounds, seed=seed)
    fmt = _format_of(fmt, out)
    if fmt and not out:
        click.echo(FORMATS[fmt](board), nl=False)
        return
    console.print(rich_leaderboard(board))
    for entry in board.entries:
        if entry.note:
            console.print(f"{entry.name}: {entry.note}", style="yellow", markup=False, highlight=False)
    for note in board.footnotes():
        console.print(note, style="dim", markup=False, highlight=False)
    if fmt and out:
        write_text_atomic(Path(out), FORMATS[fmt](board))
        err_console.print(f"wrote {out}")
