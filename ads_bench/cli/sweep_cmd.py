"""``ads-bench sweep CONFIG``: a grid of runs, a leaderboard and curves (see examples/)."""

from __future__ import annotations

import click

from ads_bench.cli.common import (
    console,
    executor_from,
    executor_options,
    prices_option,
    run_async,
    runtime_from,
)
from ads_bench.cli.tables import ledger_table


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default="results", show_default=True,
              help="Folder that receives <sweep name>/<run>/ folders.")
@click.option("--dry-run", is_flag=True, help="Print what the sweep would cost (calls, tokens, seconds, $) and stop.")
@prices_option
@executor_options
@click.pass_context
def sweep(ctx: click.Context, config: str, out: str, prices: str | None, dry_run: bool, executor: str,
          ray_address: str | None) -> None:
    """Run every combination of a sweep file's grid (sharing one cache); rerun to resume."""
    from ads_bench.cli.leaderboard_cmd import rich_leaderboard
    from ads_bench.cli.sweep_run import grid_configs, read_sweep, run_sweep
    from ads_bench.extras import require
    from ads_bench.pipeline.preflight import preflight
    from ads_bench.reporting.leaderboard import load_leaderboard

    # every cell of the grid is checked before the first run spends anything, not when its turn comes
    for _, run_config in grid_configs(read_sweep(config)):
        preflight(run_config)
    require("report", "a sweep's report (written when its runs finish)")
    runtime = runtime_from(ctx, prices)
    if dry_run:
        from ads_bench.cli.estimate_cmd import show_estimate
        from ads_bench.cli.estimates import estimate_sweep

        show_estimate(estimate_sweep, runtime, cells=grid_configs(read_sweep(config)),
                      out=f"{out}/{read_sweep(config)['name']}")
        return
    chains = executor_from(executor, ray_address)

    async def go():
        try:
            if chains is not None:
                chains.connect()  # an unreachable cluster fails here, before anything is spent
            return await run_sweep(config, runtime, out=out, console=console, executor=chains)
        finally:
            await runtime.aclose()
            if chains is not None:
                chains.close()

    folder, rows = run_async(go())
    console.print(rich_leaderboard(load_leaderboard([folder], baseline=read_sweep(config).get("baseline"))))
    console.print(ledger_table(runtime.ledger, "the sweep's cost (this session)"))
    console.print(f"{len(rows)} runs in {folder}; leaderboard.md and report.html are there")
