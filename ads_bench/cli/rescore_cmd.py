"""``ads-bench rescore RUN --judge SPEC``: re-judge a finished run (no regeneration)."""

from __future__ import annotations

import click

from ads_bench.cli.common import console, prices_option, run_async, runtime_from
from ads_bench.cli.tables import ledger_table, metrics_table
from ads_bench.judging.engine import ORDER_MODES


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--judge", required=True, help="Model spec of the new judge.")
@click.option("--judge-config", default=None, help="Judge config (default: the run's own).")
@click.option("--orders", type=click.Choice(ORDER_MODES), default="both", show_default=True)
@click.option("--retries", type=int, default=2, show_default=True)
@click.option("--judge-max-tokens", type=int, default=None)
@click.option("--out", type=click.Path(file_okay=False), default=None)
@prices_option
@click.pass_context
def rescore(ctx, run_dir, judge, judge_config, orders, retries, judge_max_tokens, out, prices) -> None:
    """Judge a finished run's answers with another judge, into a new run folder."""
    from ads_bench.pipeline.rescore import rescore_run

    runtime = runtime_from(ctx, prices)

    async def go():
        try:
            return await rescore_run(run_dir, judge, runtime, judge_config=judge_config, orders=orders,
                                     retries=retries, judge_max_tokens=judge_max_tokens, out=out, console=console)
        finally:
            await runtime.aclose()

    folder, metrics = run_async(go())
    console.print(metrics_table(metrics, f"{run_dir} re-judged by {judge}"))
    console.print(ledger_table(runtime.ledger, "this session's cost"))
    console.print(f"run folder: {folder.path}")
