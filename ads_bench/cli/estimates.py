"""The estimate of each command that spends (``run``, ``evaluate``, ``train``, ``sweep``): what its
configuration implies, stage by stage, priced by :mod:`ads_bench.pipeline.estimate`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import API_NAMES, Budget
from ads_bench.models.client import Runtime
from ads_bench.pipeline.estimate import (
    Estimate,
    Estimator,
    History,
    acquired_tokens,
    optimizer_plan,
    optimizer_prompt_tokens,
    tokens,
)
from ads_bench.pipeline.prompts import prompts_of
from ads_bench.pipeline.scoring import resolve_orders
from ads_bench.strategies import OPTIMIZER_STRATEGIES
from ads_bench.strategies.oracle import source_documents
from ads_bench.suites import Task, load_suite
from ads_bench.utils.jsonl import JsonlLog

#: what no estimate includes, said under every table
LEFT_OUT = ("left out: LoRA training time (fine-tune learners, `train`'s SFT/DPO), retries, and "
            "judge resamples of unparsable outputs")
STRATEGY_APIS = {"ir-only": (INFORMATION_RETRIEVAL,), "demo-only": (DEMONSTRATION_GENERATION,),
                 "qa-only": (QUESTION_ANSWERING,)}


def _done(folder: Path | None, name: str) -> int:
    """Records a resumed command will not compute again (non-failed ones in its log)."""
    if folder is None or not (folder / f"{name}.jsonl").is_file():
        return 0
    return sum(1 for r in JsonlLog(folder / f"{name}.jsonl").index().values() if not r.get("failed"))


def _acquisition(estimator: Estimator, config: Any, strategy: str, tasks: list[Task], answer_tokens: float,
                 covered_tasks: int, suite: str, samples: int = 1) -> float:
    """Adds a strategy's acquisition calls for ``tasks``, each task acquiring ``samples`` times
    (``train``'s K trajectories: one optimizer request with n=K, K executions); returns the
    context tokens one acquisition gives the policy."""
    costs = CostModel.from_file(config.api_costs)
    n_tasks = len(tasks)
    if n_tasks == 0:
        return 0.0
    if any(not t.observed for t in tasks):
        # a public-benchmark task whose observed set is not built yet: count it as three
        # instructions as long as its prompt (a Self-Instruct set is made that way); nothing is sent
        tasks = [t if t.observed else dataclasses.replace(t, observed=("x" * len(t.held_out[0]),) * 3)
                 for t in tasks]
        estimator.estimate.notes.append("tasks without an observed set counted as 3 instructions of their "
                                        "prompt's length (build them: `ads-bench suites build-observed`)")
    observed = sum(len(t.observed) for t in tasks) / n_tasks
    max_calls = config.max_calls if config.max_calls is not None else 4
    if strategy in OPTIMIZER_STRATEGIES:
        allowed = STRATEGY_APIS.get(strategy, tuple(getattr(config, "apis", API_NAMES)))
        per_task, basis = optimizer_plan(strategy, allowed, config.max_calls, estimator.history, config.optimizer)
        budget = Budget(max_calls=config.max_calls, max_cost=config.budget_usd, max_acquired_tokens=config.budget_tokens)
        prompt = sum(optimizer_prompt_tokens(t.observed, costs, budget, allowed) for t in tasks) / n_tasks
        completion, optimizer_basis = estimator.completion(suite, config.optimizer, "optimizer", "-",
                                                           config.optimizer_max_tokens)
        estimator.add(config.optimizer, "optimizer", "-", calls=n_tasks, prompt_tokens=prompt,
                      completion_tokens=completion * samples, basis=optimizer_basis, covered=covered_tasks)
        estimator.estimate.notes.append(f"{strategy}'s calls per task: {basis}")
    elif strategy == "rule-qa":  # its observed instructions, then variants the policy writes
        target = config.budget_items if config.budget_items is not None else observed
        per_task = {QUESTION_ANSWERING: min(target, max_calls)}
        variants = max(0.0, per_task[QUESTION_ANSWERING] - min(observed, target))
        completion, basis = estimator.completion(suite, config.policy, "policy", QUESTION_ANSWERING, 64)
        estimator.add(config.policy, "policy", QUESTION_ANSWERING, calls=variants * n_tasks * samples,
                      prompt_tokens=60, completion_tokens=completion, basis=basis)
    elif strategy == "rag":  # one query per observed instruction, no more queries than budgeted items
        items = observed if config.budget_items is None else config.budget_items
        per_task = {INFORMATION_RETRIEVAL: min(observed, max_calls, items)}
    elif strategy == "self-instruct":  # one call, none at an item budget of 0
        per_task = {DEMONSTRATION_GENERATION: 1.0} if config.budget_items != 0 else {}
    elif strategy == "oracle":  # one retrieval fee per source document of the answered held-out prompts
        documents = sum(len(source_documents(t)) for t in tasks) / n_tasks
        items = documents if config.budget_items is None else config.budget_items
        per_task = {INFORMATION_RETRIEVAL: min(documents, max_calls, items)}
    elif strategy == "none":
        per_task = {}
    else:
        known = strategy in estimator.history.api_mix
        per_task = estimator.history.api_mix.get(strategy, {})
        estimator.estimate.notes.append(
            f"{strategy}: calls per task {'measured in earlier runs' if known else 'unknown (no earlier run): none counted'}")
    context = 0.0
    question = sum(tokens(q) for t in tasks for q in t.observed) / max(1, sum(len(t.observed) for t in tasks))
    for api, calls_per_task in per_task.items():
        calls = calls_per_task * n_tasks * samples
        covered = calls_per_task * covered_tasks * samples
        estimator.add_fees(costs, api, calls, covered)
        demos = config.demos_per_call
        if api == QUESTION_ANSWERING:
            completion, basis = estimator.completion(suite, config.expert, "expert", api, config.max_tokens)
            estimator.add(config.expert, "expert", api, calls=calls, prompt_tokens=question + 8,
                          completion_tokens=completion, basis=basis, covered=covered)
        elif api == DEMONSTRATION_GENERATION:
            # each demonstration is two policy calls: one writes an instruction (≤ 96 tokens) from
            # the scenario, one answers it (acquisition/api_implementations.py)
            if strategy == "self-instruct":
                demos = config.budget_items if config.budget_items is not None else round(observed)
            completion, basis = estimator.completion(suite, config.policy, "policy", api,
                                                     (96 + config.max_tokens) // 2)
            scenario = observed * question + 40
            estimator.add(config.policy, "policy", api, calls=2 * demos * calls,
                          prompt_tokens=(scenario + completion) / 2, completion_tokens=completion, basis=basis,
                          covered=2 * demos * covered)
        context += acquired_tokens(api, calls_per_task, retrieval_k=config.retrieval_k,
                                   demos_per_call=demos, answer_tokens=answer_tokens)
    measured = estimator.history.context_tokens.get(strategy)
    if measured and getattr(config, "learner", "icl") == "icl":
        context = sum(measured) / len(measured)  # what the learner packed, duplicates dropped
    if config.budget_tokens:
        context = min(context, float(config.budget_tokens))
    return context


def estimate_run(config: Any, runtime: Runtime, history: History, out: str | Path | None = None, *,
                 count_smoke_training: bool = True) -> Estimate:
    """``ads-bench run``: acquire, teach, answer, answer un-updated (in-house), judge. An ``ads``
    run with no trained optimizer yet counts the smoke training it starts with (once in a sweep:
    ``count_smoke_training``)."""
    from ads_bench.pipeline.run import held_out_slice
    from ads_bench.store.run_folder import default_run_dir

    estimate = Estimate("run")
    estimator = Estimator(runtime, history, estimate)
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed, n_observed=config.n_observed)
    tasks = held_out_slice(suite.tasks, config.max_held_out)
    prompts = prompts_of(tasks)
    in_house = not any(task.references for task in suite.tasks)
    orders = resolve_orders(config.orders, suite.name)
    estimate.scope = (f"{config.strategy} on {suite.name}: {len(tasks)} tasks, {len(prompts)} held-out prompts, "
                      f"learner {config.learner}")
    if config.strategy in OPTIMIZER_STRATEGIES and config.optimizer is None:
        from ads_bench.strategies.optimizer_specs import UNTRAINED_DEFAULT, latest_trained

        trained = None if config.strategy == "prompting" else latest_trained()
        if config.strategy != "prompting" and trained is None:
            from ads_bench.optimizer.shipped import shipped_optimizer

            trained, _ = shipped_optimizer(config.policy, config.expert, config.judge)
        if config.strategy != "prompting" and trained is None and count_smoke_training:
            from ads_bench.optimizer.trainer import smoke_config

            smoke = smoke_config(optimizer=UNTRAINED_DEFAULT, policy=config.policy, expert=config.expert,
                                 judge=config.judge, seed=config.seed)
            estimate.merge(estimate_train(smoke, runtime, history))
            estimate.notes.append("no trained optimizer yet: a smoke one is trained first (its calls are included)")
        config = dataclasses.replace(config, optimizer=trained or UNTRAINED_DEFAULT)
    folder = Path(out) if out else default_run_dir("run", config.to_dict(), config.strategy, config.suite, config.learner)
    folder = folder if folder.is_dir() else None
    answer_tokens, _ = estimator.completion(suite.name, config.policy, "policy", "-", config.max_tokens)
    context = _acquisition(estimator, config, config.strategy, tasks, answer_tokens,
                           _done(folder, "acquisitions"), suite.name)
    answer_tokens = estimator.answers(suite.name, config.policy, prompts, config.max_tokens,
                                      context_tokens=context, covered=_done(folder, "answers"))
    # taught nothing, the taught policy asks exactly what the un-updated one asks, and both judged
    # orders show the same pair: the run costs each such request once (models/ledger_replay.py)
    same_requests = in_house and context == 0
    if in_house and not same_requests:
        estimator.answers(suite.name, config.policy, prompts, config.max_tokens,
                          covered=_done(folder, "reference_answers"))
    if same_requests and orders == "both":
        orders = "fixed"
        estimate.notes.append("nothing acquired: the un-updated policy's answers and the second judged order "
                              "repeat requests already counted")
    estimator.judgments(suite.name, config.judge, prompts, judge_config=config.judge_config, orders=orders,
                        answer_tokens=answer_tokens, reference_tokens=None if in_house else answer_tokens * 1.5,
                        cap=_judge_cap(config, runtime), covered=_done(folder, "judgments"))
    estimate.notes.append(LEFT_OUT)
    return estimate


def estimate_evaluate(config: Any, runtime: Runtime, history: History, out: str | Path | None = None) -> Estimate:
    """``ads-bench evaluate``: answer a suite's prompts and judge them."""
    from ads_bench.store.run_folder import default_run_dir

    folder = Path(out) if out else default_run_dir("evaluate", config.to_dict(), config.suite, config.model)
    folder = folder if folder.is_dir() else None
    estimate = Estimate("evaluate")
    estimator = Estimator(runtime, history, estimate)
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed)
    prompts = prompts_of(suite.tasks)
    orders = resolve_orders(config.orders, suite.name)
    repeats = max(1, getattr(config, "repeats", 1))
    estimate.scope = f"{config.model} on {suite.name}: {len(prompts)} prompts" + (f", {repeats} repeats" if repeats > 1 else "")
    for _ in range(repeats):
        answer_tokens = estimator.answers(suite.name, config.model, prompts, config.max_tokens,
                                          covered=_done(folder, "answers"))
        estimator.judgments(suite.name, config.judge, prompts, judge_config=config.judge_config, orders=orders,
                            answer_tokens=answer_tokens, reference_tokens=answer_tokens * 1.5,
                            cap=_judge_cap(config, runtime), covered=_done(folder, "judgments"))
    if repeats > 1:
        estimate.notes.append(f"--repeats {repeats}: every repeat counted in full (the stage repeated may be fewer)")
    return estimate


def estimate_train(config: Any, runtime: Runtime, history: History) -> Estimate:
    """``ads-bench train``: per iteration, K sampled trajectories a task, each executed, taught and
    judged on the held-out instructions against the un-updated policy. Without racing's early stops
    (an upper bound where racing is on)."""
    from ads_bench.optimizer.trainer import task_view

    estimate = Estimate("train")
    estimator = Estimator(runtime, history, estimate)
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed)
    estimate.scope = (f"train on {suite.name}: {config.iterations} iterations × {len(suite.tasks)} tasks × "
                      f"K={config.samples} samples × H≤{config.max_held_out}")
    for iteration in range(config.iterations):
        tasks = [task_view(task, config, iteration) for task in suite.tasks]
        prompts = prompts_of(tasks)
        answer_tokens, _ = estimator.completion(suite.name, config.policy, "policy", "-", config.max_tokens)
        context = _acquisition(estimator, config, "ads", tasks, answer_tokens, 0, suite.name, samples=config.samples)
        for _ in range(config.samples):
            answer_tokens = estimator.answers(suite.name, config.policy, prompts, config.max_tokens,
                                              context_tokens=context)
            # a verified reward (--reward program:KIND) replaces the judge: no judge call
            estimator.judgments(suite.name, getattr(config, "reward", None) or config.judge, prompts,
                                judge_config=config.judge_config, orders="both", answer_tokens=answer_tokens,
                                reference_tokens=None, cap=config.judge_max_tokens, covered=0)
        estimator.answers(suite.name, config.policy, prompts, config.max_tokens)  # the un-updated policy
    if config.racing:
        estimate.notes.append("racing is on: it stops judging a task's samples early, so policy and judge "
                              "calls here are an upper bound (benchmarks/reward_racing.py measures the saving)")
    estimate.notes.append(LEFT_OUT)
    return estimate


def estimate_sweep(cells: list[tuple[str, Any]], runtime: Runtime, history: History, out: str | Path) -> Estimate:
    """``ads-bench sweep``: every cell's run, the smoke optimizer (if one is trained) counted once."""
    estimate = Estimate("sweep")
    estimate.scope = f"sweep of {len(cells)} runs"
    for index, (name, config) in enumerate(cells):
        estimate.merge(estimate_run(config, runtime, history, Path(out) / name, count_smoke_training=index == 0))
    return estimate


def _judge_cap(config: Any, runtime: Runtime) -> int | None:
    from ads_bench.judging.programmatic import is_program_judge
    from ads_bench.models.spec import parse_spec
    from ads_bench.pipeline.judging_step import EMBEDDED_JUDGE_MAX_TOKENS

    if config.judge_max_tokens:
        return config.judge_max_tokens
    if is_program_judge(config.judge):
        return None
    if parse_spec(config.judge).backend == "embedded":
        return EMBEDDED_JUDGE_MAX_TOKENS
    return None


__all__ = ["estimate_evaluate", "estimate_run", "estimate_sweep", "estimate_train"]
