"""``ads-bench judges check --judge SPEC``: position and length bias, agreement, cost."""

from __future__ import annotations

import json

import click
from rich.table import Table

from ads_bench.cli.common import console, prices_option, run_async, runtime_from
from ads_bench.judging.judge_check import SOURCES, check_judge


@click.group()
def judges() -> None:
    """Judge the judges (list them with `ads-bench list judges`)."""


@judges.command()
@click.option("--judge", default="embedded", show_default=True, help="Model spec of the judge.")
@click.option("--judge-config", default="alpaca_eval_2", show_default=True, help="Pairwise judge config.")
@click.option("--source", type=click.Choice([*SOURCES, "truth"]), default="both", show_default=True,
              help="truth: pairs from --runs (a suite with known answers, e.g. wikifacts) where exactly "
                   "one answer is right.")
@click.option("--runs", multiple=True, type=click.Path(file_okay=False),
              help="With --source truth: run folders judged by a program: judge (repeatable).")
@click.option("--limit", type=int, default=40, show_default=True, help="Known pairs to judge.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--judge-max-tokens", type=int, default=None)
@click.option("--retest/--no-retest", default=True, show_default=True,
              help="Judge the pairs a second time, the response cache bypassed: test-retest agreement.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@prices_option
@click.pass_context
def check(ctx, judge, judge_config, source, runs, limit, seed, judge_max_tokens, retest, as_json, prices) -> None:
    """Agreement with known preferences, P(first position), P(longer), $ per 1000 judgments."""
    from ads_bench.judging.truth_pairs import truth_pairs, with_interval

    pairs = truth_pairs(runs, limit, seed) if source == "truth" else None  # before any model loads
    runtime = runtime_from(ctx, prices)

    async def go():
        try:
            model = runtime.model(judge, role="judge")
            return await check_judge(model, judge_config, source=source, limit=limit, seed=seed,
                                     max_tokens=judge_max_tokens, retest=retest, pairs=pairs)
        finally:
            await runtime.aclose()

    report = run_async(go())
    if source == "truth":
        report = with_interval(report)
    if as_json:
        click.echo(json.dumps(report))
        return
    table = Table(title=f"judge check: {judge} with {judge_config}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in report.items():
        if value is None:  # a rate over no parsed judgment: say why there is no number
            shown = "n/a (no judgment parsed)"
        else:
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    console.print(table)
    console.print("an unbiased judge has P(first) ≈ 0.5; agreement is on pairs whose better side is known")
    if retest:
        console.print("retest: the same pairs judged again, the response cache bypassed; a judge that repeats "
                      "itself exactly has agreement 1 and mean |difference| 0")
