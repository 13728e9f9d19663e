"""``ads-bench estimate COMMAND ...`` (and ``--dry-run`` on ``run``, ``evaluate``, ``train`` and
``sweep``): what the command would cost, before any model call or run folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ads_bench.cli.common import console

COMMANDS = ("run", "evaluate", "train", "sweep")
JSON_META = "ads_bench.estimate.json"


def history_roots(*extra: str | Path | None) -> list[Path]:
    """Where earlier run folders' ledgers are read for measured per-call figures."""
    roots = [Path("results")]
    roots += [Path(p) for p in extra if p]
    return roots


def show_estimate(make: Callable[..., Any], runtime: Any, *, roots: list[Path] | None = None, **kwargs: Any) -> None:
    """Build an estimate with ``make(config..., runtime, history, ...)`` and print it (as one JSON
    line under ``ads-bench estimate --json``)."""
    from ads_bench.cli.tables import estimate_table
    from ads_bench.pipeline.estimate import History

    as_json = bool(click.get_current_context().meta.get(JSON_META))
    history = History.read(roots or history_roots())
    estimate = make(runtime=runtime, history=history, **kwargs).to_json()
    estimate["history_folders"] = history.folders
    if as_json:
        click.echo(json.dumps(estimate, allow_nan=False))
        return
    console.print(estimate_table(estimate))
    console.print(f"measured figures from {history.folders} earlier run folder(s) under "
                  + ", ".join(str(r) for r in (roots or history_roots())), highlight=False)


def estimate_before(make: Callable[..., Any], runtime: Any, *, out: str | Path | None, **kwargs: Any) -> dict[str, Any]:
    """What the command is about to cost, as ``estimate.json`` records it in its run folder (the
    first start only; a resumed run keeps its first estimate), so that ``leaderboard`` and
    ``report`` can show estimate against actual. An estimate that cannot be made is recorded as
    such, never allowed to stop the run."""
    from ads_bench.pipeline.estimate import History

    try:
        estimate = make(runtime=runtime, history=History.read(history_roots()), out=out, **kwargs).to_json()
    except Exception as exc:  # the run itself reports bad input; an estimate is only advice
        return {"error": f"no estimate: {type(exc).__name__}: {exc}"}
    total = estimate["total"]
    return {**estimate, "usd": total["usd"], "calls": total["calls"], "covered_calls": total["covered_calls"]}


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--json", "as_json", is_flag=True, help="One JSON line instead of the table.")
@click.argument("command", type=click.Choice(COMMANDS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def estimate(ctx: click.Context, as_json: bool, command: str, args: tuple[str, ...]) -> None:
    """What COMMAND would cost before it runs: calls, tokens, model seconds and $ per role, model
    and API. Takes COMMAND's own options: `ads-bench estimate run --strategy ads --limit 10`."""
    ctx.meta[JSON_META] = as_json
    target = ctx.parent.command.get_command(ctx.parent, command)
    with target.make_context(command, [*args, "--dry-run"], parent=ctx.parent) as sub:
        target.invoke(sub)
