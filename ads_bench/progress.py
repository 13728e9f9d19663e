"""Progress bars for long work: done/total, cache hits, tokens and dollars, live from the ledger."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich import get_console
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

#: below this many columns a bar line drops the bar and the remaining-time estimate, so that it
#: stays one line instead of wrapping into columns (80-column terminals, piped output)
WIDE_PROGRESS_COLUMNS = 110


class LedgerColumn(ProgressColumn):
    """Cache hits, tokens and $ spent since the bar started."""

    def __init__(self, ledger: Ledger, start: Ledger, compact: bool = False):
        super().__init__()
        self.ledger = ledger
        self.start = start
        self.compact = compact

    def render(self, task: Task) -> Text:
        spent = self.ledger.since(self.start).total()
        if self.compact:
            tokens = f"{spent.tokens / 1000:.1f}k" if spent.tokens >= 1000 else str(spent.tokens)
            return Text(f"{spent.calls} calls · {tokens} tok · ${spent.cost_usd:.4f}", style="dim")
        return Text(
            f"{spent.calls} calls · {spent.cache_hits} cached · {spent.tokens:,} tok · ${spent.cost_usd:.4f}",
            style="dim",
        )


@contextlib.contextmanager
def progress_bar(
    description: str, total: int, ledger: Ledger, console: Console | None = None
) -> Iterator[callable]:
    """``with progress_bar("judging", n, runtime.ledger) as advance: ... advance()``.

    On a terminal the line is redrawn in place; elsewhere (a file, a pipe) rich draws it once, when
    the stage ends, so a log gets one line per stage."""
    console = console or get_console()
    wide = console.width >= WIDE_PROGRESS_COLUMNS
    columns = [
        TextColumn("[bold]{task.description}"),
        *([BarColumn()] if wide else []),
        MofNCompleteColumn(),
        LedgerColumn(ledger, ledger.snapshot(), compact=not wide),
        TimeElapsedColumn(),
        *([TimeRemainingColumn()] if wide else []),
    ]
    progress = Progress(*columns, console=console, transient=False)
    with progress:
        task_id = progress.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            progress.advance(task_id, steps)

        yield advance
