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


def promise_line(folder: Any) -> str:
    """One line from the run folder's ``environment.json``: can a fresh rerun reproduce it?"""
    promise = (folder.read_json("environment.json") or {}).get("reproducibility") or {}
    modes = ", ".join(f"{role} {m['determinism']}" for role, m in promise.get("models", {}).items())
    if promise.get("training"):  # train, and run with a fine-tuning learner
        modes += f", training on {promise['training']['device']}"
    if promise.get("fresh_rerun_reproduces"):
        return f"reproducible: a fresh rerun (empty cache) is expected to give identical results ({modes})"
    return f"not reproducible exactly: a fresh rerun may differ ({modes}); the response cache replays it"


class Limit(click.ParamType):
    """``--limit N`` or ``--limit all`` (every task of the suite)."""

    name = "N|all"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if str(value).strip().lower() == "all":
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of tasks or 'all'", param, ctx)
        if number < 0:
            self.fail(f"{number} is negative: give a number of tasks or 'all'", param, ctx)
        return number


LIMIT = Limit()


CHAIN_ON_RAY = "each task's acquire -> learn -> answer chain as a Ray task; judging stays here."


def executor_options(command: Any, on_ray: str = CHAIN_ON_RAY) -> Any:
    """``--executor local|ray`` and ``--ray-address``, for the commands that run tasks; ``on_ray``:
    what runs on the cluster (the option's help)."""
    command = click.option("--ray-address", default=None,
                           help="Ray cluster address (host:port from `ray start --head`; default: env "
                                "RAY_ADDRESS, else a Ray instance on this machine).")(command)
    return click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                        help=f"ray: {on_ray}")(command)


def executor_from(executor: str, ray_address: str | None, training: bool = False) -> Any:
    """None for the local executor, else a :class:`RayExecutor` (one line, exit 2, without ray);
    ``training``: the cluster ``train_optimizer`` runs its reward evaluations on."""
    if executor == "local":
        if ray_address:
            from ads_bench.errors import UserError

            raise UserError("--ray-address is for --executor ray: add --executor ray, or drop --ray-address")
        return None
    if training:
        from ads_bench.execution.ray_cluster import RayCluster

        return RayCluster(ray_address)
    from ads_bench.pipeline.ray_executor import RayExecutor

    return RayExecutor(ray_address)
