"""Progress bars for long work: done/total, cache hits, tokens and dollars, live from the ledger."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ads_bench.models.ledger import Ledger


class LedgerColumn(ProgressColumn):
    """Cache hits, tokens and $ spent since the bar started."""

    def __init__(self, ledger: Ledger, start: Ledger):
        super().__init__()
        self.ledger = ledger
        self.start = start

    def render(self, task: Task) -> Text:
        spent = self.ledger.since(self.start).total()
        return Text(
            f"{spent.calls} calls · {spent.cache_hits} cached · {spent.tokens:,} tok · ${spent.cost_usd:.4f}",
            style="dim",
        )


@contextlib.contextmanager
def progress_bar(
    description: str, total: int, ledger: Ledger, console: Console | None = None
) -> Iterator[callable]:
    """``with progress_bar("judging", n, runtime.ledger) as advance: ... advance()``."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        LedgerColumn(ledger, ledger.snapshot()),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task_id = progress.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            progress.advance(task_id, steps)

        yield advance
