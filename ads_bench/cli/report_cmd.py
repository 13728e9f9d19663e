"""``ads-bench report RUN_OR_RESULTS_DIR [--out FILE]``: one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from ads_bench.cli.common import console
from ads_bench.errors import UserError
from ads_bench.extras import require
from ads_bench.reporting import DEFAULT_MAX_TASKS


@click.command()
@click.argument("path", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default: PATH/report.html).")
@click.option("--max-tasks", type=click.IntRange(min=0), default=DEFAULT_MAX_TASKS, show_default=True,
              help="Tasks (or training records) shown per run in the browser; 0 shows all.")
def report(path: str, out: str | None, max_tasks: int) -> None:
    """Render a run folder (run, evaluate or train) or a results folder as one HTML file."""
    if not Path(path).exists():
        raise UserError(f"{path} does not exist: pass a run folder or a results folder")
    require("report")  # jinja2 renders the page, matplotlib its plots
    from ads_bench.reporting.report import write_report

    target = write_report(path, out, max_tasks=max_tasks or None)
    size = target.stat().st_size
    console.print(f"wrote {target} ({size / 1024:.0f} KiB): open it in a browser, it needs no network")
