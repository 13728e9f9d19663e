"""``ads-bench evaluate --suite S --model SPEC --judge SPEC [--limit N]``."""

from __future__ import annotations

import click

from ads_bench.cli.common import (
    console,
    executor_from,
    executor_options,
    prices_option,
    promise_line,
    run_async,
    runtime_from,
)
from ads_bench.cli.tables import ledger_table, metrics_table
from ads_bench.errors import UserError
from ads_bench.judging.configs import load_judge_config
from ads_bench.judging.engine import ORDER_MODES
from ads_bench.pipeline.evaluate import EvalConfig, run_evaluation
from ads_bench.pipeline.lm_eval_scoring import is_lm_eval
from ads_bench.pipeline.prompts import prompts_of
from ads_bench.pipeline.repeats import REPEAT_STAGES
from ads_bench.suites import load_suite


def check_judgeable(config: EvalConfig) -> None:
    """Refuse, before any model call, a suite that ``evaluate`` cannot judge.

    A pairwise judge compares each answer with a reference answer. In-house suites have none:
    their tasks are judged against the un-updated policy's answers, which ``ads-bench run``
    makes. Evaluating one would answer every prompt, judge none and still exit 0.
    """
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed)
    if is_lm_eval(suite):  # lm-eval's own metrics score these; no judge, no reference needed
        return
    forced_mode = load_judge_config(config.judge_config).mode if config.judge_config else None
    prompts = prompts_of(suite.tasks)
    unjudgeable = [p for p in prompts if (forced_mode or p.judge_mode) == "pairwise" and not p.reference]
    if unjudgeable:
        raise UserError(
            f"suite '{suite.name}' needs `run`: {len(unjudgeable)} of {len(prompts)} prompts have no reference "
            f"answer, so they are judged against the un-updated policy; use `ads-bench run --suite {config.suite} "
            f"--strategy S`, or evaluate a suite with references (e.g. alpacaeval)"
        )


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
@click.option("--orders", type=click.Choice(ORDER_MODES), default=None,
              help="Pairwise: judge both orders, one random order, or reference first (default: the suite's "
              "published protocol: random on alpacaeval, else both).")
@click.option("--retries", type=int, default=2, show_default=True, help="Re-asks of a judge whose output does not parse.")
@click.option("--repeats", type=int, default=1, show_default=True,
              help="Compute the answers and/or judgments this many times, the response cache bypassed for "
              "repeats 2..N, and report the between-run SD and a CI over prompts and runs.")
@click.option("--repeat-stage", type=click.Choice(REPEAT_STAGES), default="both", show_default=True,
              help="What --repeats computes again: the answers, the judgments, or both.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default: results/evaluate-...).")
@click.option("--dry-run", is_flag=True, help="Print what the evaluation would cost (calls, tokens, seconds, $) and stop.")
@prices_option
@executor_options
@click.pass_context
def evaluate(ctx: click.Context, out: str | None, prices: str | None, dry_run: bool, executor: str,
             ray_address: str | None, **options) -> None:
    """Answer a suite's prompts with a model and judge them; rerun to resume."""
    config = EvalConfig(**options)
    check_judgeable(config)
    runtime = runtime_from(ctx, prices)
    if dry_run:
        from ads_bench.cli.estimate_cmd import show_estimate
        from ads_bench.cli.estimates import estimate_evaluate
        from ads_bench.pipeline.preflight import preflight

        show_estimate(estimate_evaluate, runtime, config=preflight(config), out=out)
        return
    chains = executor_from(executor, ray_address)  # not an evaluation option: the run folder is the same

    async def go():
        from ads_bench.cli.estimate_cmd import estimate_before
        from ads_bench.cli.estimates import estimate_evaluate
        from ads_bench.pipeline.preflight import preflight

        try:
            estimate = estimate_before(estimate_evaluate, runtime, config=preflight(config), out=out)
            if chains is not None:
                chains.connect()  # an unreachable cluster fails here, before anything is spent
            return await run_evaluation(config, runtime, out=out, console=console, estimate=estimate,
                                        executor=chains)
        finally:
            await runtime.aclose()
            if chains is not None:
                chains.close()

    folder, metrics = run_async(go())
    console.print(metrics_table(metrics, f"{config.suite}: {config.model} judged by {config.judge}"))
    console.print(ledger_table(runtime.ledger, "this execution spent", metrics.get("cost")))
    console.print(f"run folder: {folder.path}")
    console.print(promise_line(folder), highlight=False)
