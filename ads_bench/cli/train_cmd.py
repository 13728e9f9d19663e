"""``ads-bench train``: rejection-sampling SFT then iterative DPO of the ADS optimizer."""

from __future__ import annotations

import click
from rich.table import Table

from ads_bench.cli.common import (
    console,
    executor_from,
    executor_options,
    prices_option,
    promise_line,
    run_async,
    runtime_from,
)
from ads_bench.cli.tables import ledger_table
from ads_bench.config import build_config
from ads_bench.optimizer.trainer import TrainConfig, train_optimizer
from ads_bench.strategies.optimizer_provenance import ABLATION_OF, apis_text


@click.command()
@click.option("--suite", default="inhouse-train", show_default=True)
@click.option("--iterations", type=int, default=2, show_default=True, help="Iteration 0 is SFT, later ones DPO.")
@click.option("--samples", type=int, default=4, show_default=True, help="Trajectories sampled per task (K).")
@click.option("--tau", type=float, default=0.2, show_default=True, help="Cost-tier width; 0 = pure reward maximisation.")
@click.option("--optimizer", default="embedded", show_default=True, help="Optimizer to start from (local weights).")
@click.option("--policy", default="embedded", show_default=True)
@click.option("--expert", default="embedded", show_default=True)
@click.option("--judge", default="embedded", show_default=True)
@click.option("--reward", default=None,
              help="program:exact|f1|numeric|regex: train on a verified reward (a suite with known answers, "
                   "e.g. --suite wikifacts-train --reward program:numeric); default: the judge's verdict.")
@click.option("--learner", type=click.Choice(["icl", "finetune"]), default="icl", show_default=True)
@click.option("--limit", type=int, default=4, show_default=True, help="Training tasks (the first N).")
@click.option("--n-observed", type=int, default=3, show_default=True)
@click.option("--max-held-out", type=int, default=8, show_default=True, help="Held-out instructions per reward (raced: see --no-racing).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sample-temperature", type=float, default=0.8, show_default=True)
@click.option("--max-calls", type=int, default=4, show_default=True)
@click.option("--optimizer-format", type=click.Choice(["schema", "free"]), default="schema", show_default=True,
              help="schema: engines that can (llama.cpp, vLLM, OpenAI) constrain trajectories to their JSON schema.")
@click.option("--budget-usd", type=float, default=None)
@click.option("--max-tokens", type=int, default=128, show_default=True, help="Policy answer length.")
@click.option("--racing/--no-racing", default=True, show_default=True, help="Race rewards (judge only while the chosen/rejected pair is uncertain).")
@click.option("--race-confidence", type=float, default=0.9, show_default=True,
              help="Racing stops once its pair is exhaustive evaluation's with this posterior probability.")
@click.option("--apis", default="ir,dg,qa", show_default=True,
              help="APIs the optimizer is prompted with, may call and is trained on: a comma-separated "
                   "subset of ir, dg, qa (an ablation's optimizer trained with one API: --apis ir).")
@click.option("--epochs", type=int, default=2, show_default=True)
@click.option("--max-steps", type=int, default=-1, show_default=True)
@click.option("--train-processes", type=click.IntRange(0), default=0, show_default=True,
              help="SFT/DPO data-parallel processes under torchrun (0: one per GPU, one on a CPU).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--out", type=click.Path(file_okay=False), default=None)
@click.option("--dry-run", is_flag=True, help="Print what training would cost (calls, tokens, seconds, $) and stop.")
@prices_option
@lambda command: executor_options(command, "each trajectory's reward evaluation as a Ray task; sampling, "
                                  "executing trajectories and SFT/DPO stay here.")
@click.pass_context
def train(ctx: click.Context, config_file: str | None, out: str | None, prices: str | None, dry_run: bool,
          executor: str, ray_address: str | None, **options) -> None:
    """Train an optimizer; its adapters work as --optimizer for `ads-bench run --strategy ads`."""
    config = build_config(TrainConfig, ctx, options, config_file)
    cluster = executor_from(executor, ray_address, training=True)  # not a training option: the folder is the same
    runtime = runtime_from(ctx, prices)
    if dry_run:
        from ads_bench.cli.estimate_cmd import show_estimate
        from ads_bench.cli.estimates import estimate_train

        show_estimate(estimate_train, runtime, config=config)
        return

    async def go():
        try:
            return await train_optimizer(config, runtime, out=out, console=console, executor=cluster)
        finally:
            await runtime.aclose()

    folder, rows = run_async(go())
    table = Table(title=f"ADS optimizer training ({folder.path})")
    for column in ("iteration", "mean reward", "mean $", "chosen reward", "pairs", "parse failures",
                   "evals / exhaustive", "prompt tok (engine-cached)", "training"):
        table.add_column(column)
    for row in rows:
        stats, trained = row["stats"], row["training"]
        table.add_row(
            str(row["iteration"]),
            _fmt(stats["mean_reward"]), _fmt(stats["mean_cost_usd"], 4), _fmt(stats["chosen_mean_reward"]),
            str(stats["pairs"]), _fmt(stats["parse_failure_rate"]),
            f"{stats['evaluations']} / {stats['evaluations_exhaustive']}",
            f"{stats.get('prompt_tokens', 0):,} ({stats.get('engine_cached_prompt_tokens', 0):,})",
            trained.get("skipped") or f"{trained['kind']} loss {trained['train_loss']:.3f}",
        )
    console.print(table)
    console.print(ledger_table(runtime.ledger, "this session's cost"))
    console.print(f"optimizer: [bold]{rows[-1]['optimizer_out']}[/bold] (trained with {apis_text(config.apis)})")
    console.print(promise_line(folder), highlight=False)
    trained = [r["iteration"] for r in rows if "kind" in r["training"]]
    if trained:
        strategy = ABLATION_OF.get(config.apis, "ads")  # a one-API optimizer drives that API's ablation
        console.print(f"use it with `ads-bench run --strategy {strategy} --optimizer "
                      f"{folder.path}/adapters/iteration-{trained[-1]}`")


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
