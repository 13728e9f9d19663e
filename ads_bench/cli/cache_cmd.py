"""``ads-bench cache stats`` and ``ads-bench cache clear``."""

from __future__ import annotations

import click
from rich.table import Table

from ads_bench.cli.common import console
from ads_bench.models.cache import (
    CacheCorrupt,
    ResponseCache,
    default_cache_path,
    delete_cache_files,
)


@click.group()
def cache() -> None:
    """The persistent response cache (one SQLite file in the user cache folder)."""


@cache.command()
def stats() -> None:
    """Entries per model, size on disk and where the file is."""
    result = ResponseCache().stats()
    console.print(f"response cache: {result.path}", highlight=False)
    table = Table()
    table.add_column("model")
    table.add_column("entries", justify="right")
    for model, count in result.by_model.items():
        table.add_row(model, str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{result.entries}[/bold]")
    console.print(table)
    console.print(f"size on disk: {result.size_bytes / 1e6:.2f} MB")


@cache.command()
@click.option("--model", default=None, help="Only this model's entries (its spec, as stats lists it).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(model: str | None, yes: bool) -> None:
    """Delete cached responses (all, or one model's)."""
    target = f"the entries of {model}" if model else "every cached response"
    if not yes and not click.confirm(f"delete {target}?", default=False):
        return
    try:
        removed = ResponseCache().clear(model)
    except CacheCorrupt:
        # a damaged file cannot be opened to be emptied: delete it, and the next command starts a
        # new one; this must work, or the tool could not repair itself
        path = default_cache_path()
        if model and not yes and not click.confirm(
            f"the cache at {path} is corrupt, so {model}'s entries cannot be picked out: delete all of it?",
            default=False,
        ):
            return
        delete_cache_files(path)
        ResponseCache(path).close()
        console.print(f"the response cache at {path} was corrupt: deleted it and started an empty one",
                      highlight=False)
        return
    console.print(f"removed {removed} entries")
