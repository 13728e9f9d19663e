"""What the paper's experiments would cost with the full-size recipe, from `ads-bench estimate`'s
own estimators (issue 14, item 4): no model call, the price table the ledger bills with.

    python benchmarks/paper_scale_estimate.py [--history results]

- **Evaluation**: 7 strategies × 2 policies (Qwen-2-7B-Instruct, Gemma-2-9B-Instruct served by
  vLLM, at the price table's hosted-equivalent for their size) × the in-house suite and the three
  public ones, every task, every held-out prompt (in-house: as shipped, 3–20 per task; `--held-out
  N` subsamples), the optimizer Qwen-2-7B, the expert Llama-3.1-70B-Instruct, the judge
  gpt-4o-mini (AlpacaEval 2.0's one-token logprob judge on the in-house and AlpacaEval suites,
  each suite's own judge elsewhere; `--written-judge` makes the in-house one Arena-Hard's
  written judgment instead).
- **Training**: 1,000 tasks × 3 iterations × K = 8 × H = 8 (the in-house training suite's per-task
  figures scaled to 1,000 tasks), exhaustive, and with racing at the saving
  `benchmarks/reward_racing.py` measured at H = 8 (1.88× fewer policy and judge calls, noise 0.5).

Completion lengths and speeds come from earlier run folders' ledgers where they hold these models
(they do not, on a CPU machine), else the estimator's documented defaults. GPU seconds are not
estimated here: they need a measured GPU run (docs: `ads-bench estimate` on your own ledgers).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ads_bench.cli.estimates import estimate_run, estimate_train
from ads_bench.models.client import Runtime
from ads_bench.models.local_price import local_price
from ads_bench.pipeline.estimate import History
from ads_bench.pipeline.run import RunConfig
from ads_bench.suites import load_suite

STRATEGIES = ["none", "prompting", "rule-qa", "rag", "self-instruct", "ads", "source-finetune"]
SUITES = ["inhouse", "alpacaeval", "arena-hard", "mt-bench"]
POLICIES = {"Qwen-2-7B": "Qwen2-7B-Instruct", "Gemma-2-9B": "gemma-2-9b-it"}
EXPERT = "http://expert:8000/v1::meta-llama/Llama-3.1-70B-Instruct"
JUDGE = "http://judge.invalid/v1::gpt-4o-mini?price_in=0.15&price_out=0.6"  # gpt-4o-mini's list price
TRAIN_TASKS = 1000
RACING_SAVING_AT_H8 = 1.88  # benchmarks/reward_racing.py --held-out 8 --noise 0.5 --confidence 0.9


def served(name: str, runtime: Runtime) -> str:
    """A vLLM server of ``name``, priced at the hosted equivalent of its size."""
    price, _ = local_price(runtime.prices, name)
    return (f"http://gpu:8000/v1::{name}?context_window=32768&price_in={price.input_per_million}"
            f"&price_out={price.output_per_million}")


def run_cost(runtime: Runtime, history: History, strategy: str, suite: str, policy: str, args) -> float:
    learner = "source-finetune" if strategy == "source-finetune" else "icl"
    judge_config = "arena_hard_v0.1" if args.written_judge and suite == "inhouse" else None
    config = RunConfig(strategy=strategy, suite=suite, policy=policy, expert=EXPERT, judge=JUDGE,
                       optimizer=served("Qwen2-7B-Instruct", runtime), learner=learner, limit=None,
                       max_held_out=args.held_out, judge_config=judge_config, max_tokens=512)
    estimate = estimate_run(config, runtime, history, out="/nonexistent", count_smoke_training=False)
    return estimate.total().usd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=Path, default=Path("results"))
    parser.add_argument("--held-out", type=int, default=None, help="held-out prompts per in-house task (all)")
    parser.add_argument("--written-judge", action="store_true", help="in-house judged by written judgments")
    args = parser.parse_args()
    runtime = Runtime.create(use_cache=False)
    history = History.read([args.history])
    judge_kind = "written (Arena-Hard)" if args.written_judge else "logprob (AlpacaEval 2.0)"
    print(f"evaluation, $ per run (judge gpt-4o-mini, in-house {judge_kind}, "
          f"held-out {'all' if args.held_out is None else args.held_out} per in-house task)\n")
    print("| policy | strategy | " + " | ".join(SUITES) + " | total |")
    print("|---|---|" + "---|" * (len(SUITES) + 1))
    grand = 0.0
    for label, name in POLICIES.items():
        policy = served(name, runtime)
        for strategy in STRATEGIES:
            costs = [run_cost(runtime, history, strategy, suite, policy, args) for suite in SUITES]
            grand += sum(costs)
            print(f"| {label} | {strategy} | " + " | ".join(f"{c:,.2f}" for c in costs) + f" | {sum(costs):,.2f} |")
    print(f"\nevaluation total: ${grand:,.2f}\n")

    from ads_bench.optimizer.trainer import TrainConfig

    config = TrainConfig(suite="inhouse-train", limit=None, iterations=3, samples=8, max_held_out=8,
                         optimizer=served("Qwen2-7B-Instruct", runtime), policy=served("Qwen2-7B-Instruct", runtime),
                         expert=EXPERT, judge=JUDGE, max_tokens=512, optimizer_max_tokens=1024)
    estimate = estimate_train(config, runtime, history)
    tasks = len(load_suite("inhouse-train").tasks)
    scale = TRAIN_TASKS / tasks
    print(f"training: {TRAIN_TASKS} tasks × 3 iterations × K=8 × H=8 (inhouse-train's {tasks} tasks × {scale:.2f})\n")
    print("| role | calls | prompt tokens | completion tokens | $ exhaustive | $ with racing |")
    print("|---|---|---|---|---|---|")
    total = raced = 0.0
    for line in estimate.lines.values():
        saving = RACING_SAVING_AT_H8 if line.role in ("policy", "judge") and line.api == "-" else 1.0
        usd = line.usd * scale
        total, raced = total + usd, raced + usd / saving
        print(f"| {line.role} {line.api if line.api != '-' else ''} | {math.ceil(line.calls * scale):,} | "
              f"{line.prompt_tokens * scale:,.0f} | {line.completion_tokens * scale:,.0f} | {usd:,.2f} | "
              f"{usd / saving:,.2f} |")
    print(f"| total | | | | {total:,.2f} | {raced:,.2f} |")
    print("\n(the un-updated policy's answers are counted once per task and iteration; racing's saving at H=8 "
          "is applied to the taught policy's answers and the judge's calls, an upper bound where a task has "
          "fewer than 8 held-out instructions)")


if __name__ == "__main__":
    main()
