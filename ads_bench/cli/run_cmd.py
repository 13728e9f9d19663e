"""``ads-bench run --strategy S``: acquire, teach, answer, judge — for every task of a suite."""

from __future__ import annotations

from pathlib import Path

import click

from ads_bench.cli.common import (
    LIMIT,
    console,
    executor_from,
    executor_options,
    prices_option,
    promise_line,
    run_async,
    runtime_from,
)
from ads_bench.cli.tables import ledger_table, metrics_table
from ads_bench.config import build_config
from ads_bench.judging.engine import ORDER_MODES
from ads_bench.pipeline.repeats import REPEAT_STAGES
from ads_bench.pipeline.run import RunConfig, run_strategy


def with_suite_defaults(ctx: click.Context, config: RunConfig, config_file: str | None) -> RunConfig:
    """The suite's recommended judge and retrieval depth (its YAML's ``metadata.default_*``)
    for each of them the user set neither on the command line nor in --config."""
    from click.core import ParameterSource

    from ads_bench.pipeline.suite_defaults import SUITE_DEFAULT_KEYS
    from ads_bench.pipeline.suite_defaults import with_suite_defaults as apply

    given = {name for name in SUITE_DEFAULT_KEYS
             if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}
    if config_file:
        from ads_bench.config import read_config_file

        given |= set(read_config_file(config_file)) & set(SUITE_DEFAULT_KEYS)  # keys already in snake_case
    return apply(config, given)


@click.command()
@click.option("--strategy", default=None, help="none, prompting, rule-qa, rag, self-instruct, ir-only, demo-only, qa-only, ads (ads-bench list strategies).")
@click.option("--suite", default="inhouse", show_default=True)
@click.option("--policy", default="embedded", show_default=True, help="Model spec of the policy being taught.")
@click.option("--optimizer", default=None, help="Model spec of the optimizer (a trained one: hf:...?adapter=DIR).")
@click.option("--expert", default="embedded", show_default=True, help="Model spec answering the QA API.")
@click.option("--judge", default="embedded", show_default=True,
              help="Model spec, or a programmatic judge program:exact|f1|numeric|regex (default: the "
                   "suite's own default_judge if its YAML names one, e.g. wikifacts: program:numeric).")
@click.option("--learner", type=click.Choice(["icl", "finetune", "source-finetune"]), default="icl", show_default=True)
@click.option("--limit", type=LIMIT, default=3, show_default=True, help="Tasks to run: the first N, or all.")
@click.option("--max-held-out", type=int, default=2, show_default=True, help="Held-out prompts judged per task.")
@click.option("--n-observed", type=int, default=None, help="Re-split tasks with this many observed instructions.")
@click.option("--grouping", type=click.Choice(["careful", "random"]), default="careful", show_default=True,
              help="random: the same instructions dealt into tasks at random (robustness check).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-calls", type=int, default=4, show_default=True, help="API calls per task.")
@click.option("--budget-usd", type=float, default=None, help="Acquisition $ per task (equal-cost comparisons).")
@click.option("--budget-items", type=int, default=None, help="Acquired items per task (equal-data comparisons).")
@click.option("--budget-tokens", type=int, default=None, help="Acquired tokens per task.")
@click.option("--retrieval-k", type=int, default=2, show_default=True)
@click.option("--retrieval-mode", type=click.Choice(["bm25", "dense", "hybrid"]), default="hybrid", show_default=True)
@click.option("--corpus", default=None, help="JSONL/parquet corpus for retrieval (default: shipped Wikipedia summaries).")
@click.option("--demos-per-call", type=int, default=2, show_default=True)
@click.option("--optimizer-max-tokens", type=int, default=512, show_default=True, help="Trajectory length limit.")
@click.option("--optimizer-temperature", type=float, default=0.0, show_default=True)
@click.option("--optimizer-format", type=click.Choice(["schema", "free"]), default="schema", show_default=True,
              help="schema: engines that can (llama.cpp, vLLM, OpenAI) constrain trajectories to their JSON schema.")
@click.option("--max-tokens", type=int, default=256, show_default=True, help="Answer length limit.")
@click.option("--judge-config", default=None)
@click.option("--judge-max-tokens", type=int, default=None)
@click.option("--orders", type=click.Choice(ORDER_MODES), default=None,
              help="Pairwise judging orders (default: the suite's published protocol: random on alpacaeval, else both).")
@click.option("--retries", type=int, default=2, show_default=True)
@click.option("--repeats", type=int, default=1, show_default=True,
              help="Compute the answers and/or judgments this many times, the response cache bypassed for "
              "repeats 2..N, and report the between-run SD and a CI over prompts and runs.")
@click.option("--repeat-stage", type=click.Choice(REPEAT_STAGES), default="both", show_default=True,
              help="What --repeats computes again: the answers, the judgments, or both.")
@click.option("--api-costs", type=click.Path(exists=True, dir_okay=False), default=None, help="YAML of $ fees per API call.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help="YAML with any of these options.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: results/run-...).")
@click.option("--dry-run", is_flag=True, help="Print what the run would cost (calls, tokens, seconds, $) and stop.")
@prices_option
@executor_options
@click.pass_context
def run(ctx: click.Context, config_file: str | None, out: str | None, prices: str | None, dry_run: bool,
        executor: str, ray_address: str | None, **options) -> None:
    """Run one strategy end to end; rerun the same command to resume."""
    config = build_config(RunConfig, ctx, options, config_file)
    config = with_suite_defaults(ctx, config, config_file)
    runtime = runtime_from(ctx, prices)
    if dry_run:
        from ads_bench.cli.estimate_cmd import show_estimate
        from ads_bench.cli.estimates import estimate_run
        from ads_bench.pipeline.preflight import preflight

        show_estimate(estimate_run, runtime, config=preflight(config), out=out)
        return
    chains = executor_from(executor, ray_address)  # not a run option: the run folder is the same either way

    async def go():
        from ads_bench.cli.estimate_cmd import estimate_before
        from ads_bench.cli.estimates import estimate_run
        from ads_bench.optimizer.checkpoints import resolve_optimizer
        from ads_bench.pipeline.preflight import preflight
        from ads_bench.pipeline.repeats import check_repeats

        try:
            checked = preflight(config)  # every check before the first paid call, smoke training included
            check_repeats(checked.repeats, checked.repeat_stage)
            if chains is not None:
                chains.connect()  # an unreachable cluster fails here, before anything is spent
            # which optimizer drives an ads run: the last trained, the shipped smoke one, or a smoke
            # one trained now, before the run
            chosen = await resolve_optimizer(checked, runtime, console)
            estimate = estimate_before(estimate_run, runtime, config=chosen, out=out)
            return await run_strategy(chosen, runtime, out=out, console=console, estimate=estimate,
                                      executor=chains)
        finally:
            await runtime.aclose()
            if chains is not None:
                chains.close()

    folder, metrics = run_async(go())
    console.print(metrics_table(metrics, f"{config.strategy} ({config.learner}) on {config.suite}: "
                                         f"{config.policy} vs {metrics['reference']}"))
    if metrics.get("optimizer"):
        console.print(f"optimizer: {metrics['optimizer']}")
    acquisition = metrics["acquisition"]
    calls = ", ".join(f"{api} {n}" for api, n in acquisition["api_calls"].items()) or "none"
    console.print(f"API calls: {calls} · {acquisition['items_per_task']:.1f} items/task · "
                  f"acquisition ${acquisition['acquisition_usd']:.4f}")
    if metrics.get("optimizer"):
        for line in example_trajectory(folder.path):
            console.print(line, highlight=False, markup=False)
    console.print(ledger_table(runtime.ledger, "this execution spent", metrics.get("cost")))
    console.print(f"run folder: {folder.path}")
    console.print(promise_line(folder), highlight=False)


def example_trajectory(folder: Path, width: int = 80) -> list[str]:
    """What the optimizer decided to acquire for the run's first task, a line a call, so the user
    sees the plan and not only the figures."""
    from ads_bench.utils.jsonl import JsonlLog

    log = folder / "acquisitions.jsonl"
    records = list(JsonlLog(log).index().values()) if log.is_file() else []
    if not records:
        return []
    first = records[0]
    calls = (first.get("trajectory") or {}).get("calls") or []
    lines = [f"the optimizer's trajectory for {first['id']} ({len(calls)} calls):"]
    for call in calls:
        line = f"  {call['api']}: " + "; ".join(str(v) for v in (call.get("args") or {}).values())
        lines.append(line if len(line) <= width else line[: width - 3] + "...")
    return lines if calls else [*lines[:1], "  (no call: it acquired nothing)"]
