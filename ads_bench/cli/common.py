"""What every command shares: the console, the runtime from global flags, running async code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler

from ads_bench.models.client import Runtime

T = TypeVar("T")

console = Console(stderr=False)
err_console = Console(stderr=True)


def setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )


def runtime_from(ctx: click.Context, prices: str | None = None) -> Runtime:
    """The runtime the global flags ask for (``--no-cache``, ``--cache-dir``) plus a price file."""
    obj = ctx.find_root().obj or {}
    setup_logging(obj.get("debug", False))
    return Runtime.create(use_cache=not obj.get("no_cache", False), prices=prices)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


prices_option = click.option(
    "--prices",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML price table ($ per 1M tokens) that overrides or extends the built-in one.",
)
