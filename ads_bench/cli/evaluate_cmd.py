"""``ads-bench evaluate --suite S --model SPEC --judge SPEC [--limit N]``."""

from __future__ import annotations

import click

from ads_bench.cli.common import console, prices_option, run_async, runtime_from
from ads_bench.cli.tables import ledger_table, metrics_table
from ads_bench.judging.engine import ORDER_MODES
from ads_bench.pipeline.evaluate import EvalConfig, run_evaluation


@click.command()
@click.option("--suite", required=True, help="Suite name (ads-bench list suites) or a suite YAML path.")
@click.option("--model", default="embedded", show_default=True, help="Model spec that answers.")
@click.option("--judge", default="embedded", show_default=True, help="Model spec that judges.")
@click.option("--judge-config", default=None, help="Judge config name or YAML (default: the suite's own).")
@click.option("--limit", type=int, default=None, help="Only the first N tasks.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True, help="Answer length limit.")
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--judge-max-tokens", type=int, default=None, help="Cap on the judge's output (default: the judge config's).")
@click.option("--orders", type=click.Choice(ORDER_MODES), default="both", show_default=True,
              help="Pairwise: judge both orders, one random order, or reference first.")
@click.option("--retries", type=int, default=2, show_default=True, help="Re-asks of a judge whose output does not parse.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: results/evaluate-...).")
@prices_option
@click.pass_context
def evaluate(ctx: click.Context, out: str | None, prices: str | None, **options) -> None:
    """Answer a suite's prompts with a model and judge them; rerun to resume."""
    runtime = runtime_from(ctx, prices)
    config = EvalConfig(**options)

    async def go():
        try:
            return await run_evaluation(config, runtime, out=out, console=console)
        finally:
            await runtime.aclose()

    folder, metrics = run_async(go())
    console.print(metrics_table(metrics, f"{config.suite}: {config.model} judged by {config.judge}"))
    console.print(ledger_table(runtime.ledger, "this session's cost"))
    console.print(f"run folder: {folder.path}")
