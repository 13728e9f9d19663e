"""``ads-bench rescore RUN --judge SPEC``: re-judge a finished run (no regeneration)."""

from __future__ import annotations

import click

from ads_bench.cli.common import console, prices_option, promise_line, run_async, runtime_from
from ads_bench.cli.tables import ledger_table, metrics_table
from ads_bench.config import canonical_judge_config, canonical_spec
from ads_bench.judging.configs import load_judge_config
from ads_bench.judging.engine import ORDER_MODES
from ads_bench.models.spec import parse_spec


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--judge", required=True,
              help="Model spec of the new judge, or a programmatic judge program:exact|f1|numeric|regex.")
@click.option("--judge-config", default=None, help="Judge config (default: the run's own).")
@click.option("--orders", type=click.Choice(ORDER_MODES), default=None,
              help="Pairwise: judge both orders, one random order, or reference first (default: the suite's "
              "published protocol: random on alpacaeval, else both).")
@click.option("--retries", type=int, default=2, show_default=True)
@click.option("--judge-max-tokens", type=int, default=None)
@click.option("--repeats", type=int, default=1, show_default=True,
              help="Judge the answers this many times, the response cache bypassed for repeats 2..N, and report "
              "the between-run SD and a CI over prompts and runs (only the judging is repeated).")
@click.option("--out", type=click.Path(file_okay=False), default=None)
@prices_option
@click.pass_context
def rescore(ctx, run_dir, judge, judge_config, orders, retries, judge_max_tokens, repeats, out, prices) -> None:
    """Judge a finished run's answers with another judge, into a new run folder."""
    # checked and spelled canonically before the first judge call and the new run folder
    from ads_bench.judging.programmatic import is_program_judge, parse_program_judge
    from ads_bench.pipeline.rescore import rescore_run

    if is_program_judge(judge):
        parse_program_judge(judge)  # one line naming the kinds when it is not one
    else:
        judge = canonical_spec(judge)
        parse_spec(judge)
    if judge_config is not None:
        judge_config = canonical_judge_config(judge_config)
        load_judge_config(judge_config)
    runtime = runtime_from(ctx, prices)

    async def go():
        try:
            return await rescore_run(run_dir, judge, runtime, judge_config=judge_config, orders=orders,
                                     retries=retries, judge_max_tokens=judge_max_tokens, out=out, console=console,
                                     repeats=repeats)
        finally:
            await runtime.aclose()

    folder, metrics = run_async(go())
    console.print(metrics_table(metrics, f"{run_dir} re-judged by {judge}"))
    console.print(ledger_table(runtime.ledger, "this session's cost"))
    console.print(f"run folder: {folder.path}")
    console.print(promise_line(folder), highlight=False)
