"""``ads-bench run``: for each task, acquire -> learn -> answer held-out prompts -> judge -> metrics.

Stages run over all tasks at once (engines batch across tasks) and each appends to its own log
in the run folder, so a killed run resumes where it stopped:

- ``acquisitions.jsonl``: per task, the trajectory (analysis, self-reflection, calls, what was
  dropped and why), every executed call with its items and cost;
- ``policies.jsonl``: per task, what the learner did (items packed or trained on, adapter);
- ``answers.jsonl``: the taught policy's answers; ``reference_answers.jsonl``: the un-updated
  policy's (in-house tasks are judged against them, as the paper does);
- ``judgments.jsonl``, ``metrics.json``, ``sessions.jsonl``;
- ``ledger.jsonl``: every model call, cache hit, acquisition fee and retry as it happens, all
  sessions (killed ones too); ``ledger.json`` and metrics.json's ``cost`` block are replays of it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.acquisition.items import Acquisition
from ads_bench.errors import UserError
from ads_bench.learning import get_learner
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import base_policy
from ads_bench.learning.reproducibility import learner_promise
from ads_bench.models.backend import reproducibility
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import fee_scope
from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.answering import answer_prompts, count_failed_answers
from ads_bench.pipeline.judging_step import judge_answers
from ads_bench.pipeline.preflight import preflight
from ads_bench.pipeline.program_judging import is_program_judge, judge_answers_programmatically
from ads_bench.pipeline.prompts import Prompt, prompts_of
from ads_bench.pipeline.repeats import check_repeats, measure_repeats, repeat_fields, taught_answers
from ads_bench.pipeline.scoring import resolve_orders, score_run
from ads_bench.pipeline.task_chain import TRAINING_LEARNERS, policy_record
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import ESTIMATE_FILE, RunFolder, default_run_dir
from ads_bench.store.session import close_session, open_session
from ads_bench.strategies import OPTIMIZER_STRATEGIES, AcquisitionContext, get_strategy
from ads_bench.strategies.acquisition_setup import AcquisitionSettings, acquisition_context
from ads_bench.strategies.optimizer_provenance import run_optimizer_info
from ads_bench.strategies.optimizer_specs import given_optimizer
from ads_bench.suites import Task, load_suite
from ads_bench.suites.grouping import GROUPINGS, random_grouping


@dataclass(frozen=True, kw_only=True)
class RunConfig(AcquisitionSettings):
    strategy: str
    suite: str = "inhouse"
    optimizer: str | None = None
    judge: str = "embedded"
    learner: str = "icl"
    limit: int | None = 3
    max_held_out: int | None = 2
    n_observed: int | None = None  # re-split tasks with this many observed instructions
    grouping: str = "careful"  # "random": the same instructions dealt into tasks at random
    optimizer_temperature: float = 0.0
    judge_config: str | None = None
    judge_max_tokens: int | None = None
    orders: str | None = None  # None: the suite's published protocol (pipeline.scoring.resolve_orders)
    retries: int = 2
    repeats: int = 1  # > 1: held-out answers and/or judgments computed again (pipeline.repeats)
    repeat_stage: str = "both"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["repeats"], out["repeat_stage"]
        return {**out, **repeat_fields(self.repeats, self.repeat_stage)}


def held_out_slice(tasks: tuple[Task, ...], max_held_out: int | None) -> list[Task]:
    """Keep at most ``max_held_out`` held-out prompts per task (the first ones: the split is seeded)."""
    if max_held_out is None:
        return list(tasks)
    out = []
    for task in tasks:
        keep = min(len(task.held_out), max_held_out)
        data = task.to_dict()
        data["held_out"] = data["held_out"][:keep]
        for key in ("references", "turns"):
            if key in data:
                data[key] = data[key][:keep]
        out.append(Task.from_dict(data))
    return out


def slice_line(suite: Any, tasks: Sequence[Task], n_prompts: int) -> str:
    """What part of the suite a run covers, said before it starts: a default run is a slice."""
    total = int(suite.metadata.get("tasks_before_limit", len(suite.tasks)))
    held_out = {len(t.held_out) for t in tasks}
    each = f"× {held_out.pop()} held-out prompts" if len(held_out) == 1 else f", {n_prompts} held-out prompts"
    whole = "the whole suite" if len(tasks) == total else "--limit all: the whole suite"
    return f"{suite.name}: {len(tasks)} of {total} tasks {each} ({whole})"


async def acquire_all(
    tasks: list[Task], strategy_name: str, context: AcquisitionContext, folder: RunFolder, advance
) -> dict[str, Acquisition]:
    log = folder.log("acquisitions")
    done = {task_id: Acquisition.from_dict(r) for task_id, r in log.index().items()}
    strategy = get_strategy(strategy_name)
    gate = asyncio.Semaphore(4)

    async def one(task: Task) -> None:
        async with gate:
            with fee_scope(task.id):  # a task re-acquired on resume pays its fees again: count them once
                acquisition = await strategy.acquire(task, context)
        log.append(acquisition.to_dict())
        done[task.id] = acquisition
        advance()

    advance(sum(t.id in done for t in tasks))
    await asyncio.gather(*(one(t) for t in tasks if t.id not in done))
    return done


async def teach_and_answer(
    tasks: list[Task], prompts: list[Prompt], acquisitions: dict[str, Acquisition], base: Policy,
    config: RunConfig, runtime: Runtime, folder: RunFolder, params: SamplingParams, advance,
) -> dict[str, dict[str, Any]]:
    learner = get_learner(config.learner)
    policies_log, answers_log = folder.log("policies"), folder.log("answers")
    taught = policies_log.index()
    by_task: dict[str, list[Prompt]] = {}
    for prompt in prompts:
        by_task.setdefault(prompt.task_id, []).append(prompt)
    answers: dict[str, dict[str, Any]] = {}

    async def one(task: Task) -> None:
        items = acquisitions[task.id].items
        policy = await learner(base, items, runtime=runtime, task_id=task.id)
        if task.id not in taught:
            policies_log.append(policy_record(task.id, config.learner, policy))
        answers.update(await answer_prompts(policy, by_task.get(task.id, []), answers_log, params,
                                            on_done=advance, extra={"strategy": config.strategy}))

    if config.learner in TRAINING_LEARNERS:  # training is CPU/GPU-bound: one task at a time
        for task in tasks:
            await one(task)
    else:
        await asyncio.gather(*(one(t) for t in tasks))
    return answers


def acquisition_summary(acquisitions: dict[str, Acquisition], tasks: list[Task]) -> dict[str, Any]:
    chosen = [acquisitions[t.id] for t in tasks if t.id in acquisitions]
    api_counts: Counter[str] = Counter()
    for acquisition in chosen:
        api_counts.update(acquisition.api_counts())
    total_calls = sum(api_counts.values())
    dropped = Counter(
        d.kind for a in chosen if a.trajectory for d in a.trajectory.dropped
    )
    return {
        "tasks": len(chosen),
        "api_calls": dict(api_counts),
        "api_call_share": {api: n / total_calls for api, n in api_counts.items()} if total_calls else {},
        "calls_per_task": total_calls / len(chosen) if chosen else 0.0,
        "items_per_task": sum(len(a.items) for a in chosen) / len(chosen) if chosen else 0.0,
        "acquisition_usd": sum(a.cost_usd for a in chosen),
        "acquisition_usd_per_task": sum(a.cost_usd for a in chosen) / len(chosen) if chosen else 0.0,
        "trajectory_errors": sum(1 for a in chosen if a.error),
        "dropped_calls": dict(dropped),
    }


async def local_stages(
    config: RunConfig, runtime: Runtime, tasks: list[Task], prompts: list[Prompt], folder: RunFolder,
    params: SamplingParams, in_house: bool, console: Console | None,
) -> tuple[dict[str, Acquisition], dict[str, dict[str, Any]], dict[str, Any] | None, Policy]:
    """The local executor: each stage over all tasks at once (engines batch across tasks)."""
    optimizer = (runtime.model(config.optimizer, role="optimizer")
                 if config.strategy in OPTIMIZER_STRATEGIES and config.optimizer else None)
    context = acquisition_context(config, runtime, optimizer=optimizer,
                                  optimizer_temperature=config.optimizer_temperature)
    policy_model = context.policy
    base = await base_policy(config.learner, policy_model, runtime)  # the taught side's engine

    with progress_bar(f"acquiring ({config.strategy})", len(tasks), runtime.ledger, console) as advance:
        acquisitions = await acquire_all(tasks, config.strategy, context, folder, advance)
    with progress_bar(f"teaching ({config.learner}) and answering", len(prompts), runtime.ledger, console) as advance:
        answers = await teach_and_answer(tasks, prompts, acquisitions, base, config, runtime, folder, params, advance)
    references = None
    if in_house:
        with progress_bar("answering with the un-updated policy", len(prompts), runtime.ledger, console) as advance:
            base_answers = await answer_prompts(base, prompts, folder.log("reference_answers"), params, on_done=advance)
        references = {pid: record["answers"] for pid, record in base_answers.items()}
    return acquisitions, answers, references, base


async def run_strategy(
    config: RunConfig, runtime: Runtime, *, out: str | Path | None = None, console: Console | None = None,
    estimate: dict[str, Any] | None = None, executor: Any = None,
) -> tuple[RunFolder, dict[str, Any]]:
    """``estimate``: what the command expected this run to cost (``estimate.json``, kept from the
    run folder's first start). ``executor``: None runs every stage here, over all tasks at once;
    a :class:`~ads_bench.pipeline.ray_executor.RayExecutor` runs each task's acquire -> learn ->
    answer chain on a Ray cluster. Judging and scoring run here either way."""
    config = preflight(config)  # every check before the first paid call or the run folder
    check_repeats(config.repeats, config.repeat_stage)
    config = given_optimizer(config)  # which optimizer is the command's decision (cli/run_cmd.py)
    optimizer_info = run_optimizer_info(config.strategy, config.optimizer)  # which ablation this is
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed, n_observed=config.n_observed)
    orders = resolve_orders(config.orders, suite.name)  # the suite's published protocol unless asked
    in_house = not any(task.references for task in suite.tasks)
    if config.grouping not in GROUPINGS:
        raise UserError(f"grouping '{config.grouping}' is unknown: use {' or '.join(GROUPINGS)}")
    if config.grouping == "random":
        if not in_house:
            raise UserError("random grouping re-deals in-house instructions: use it with an in-house suite")
        tasks = held_out_slice(tuple(random_grouping(suite.tasks, config.seed)), config.max_held_out)
    else:
        tasks = held_out_slice(suite.tasks, config.max_held_out)
    prompts = prompts_of(tasks)
    if console is not None:
        console.print(slice_line(suite, tasks, len(prompts)), highlight=False)
    folder = RunFolder.open(
        out or default_run_dir("run", config.to_dict(), config.strategy, config.suite, config.learner),
        config.to_dict(), kind="run",
        reproducibility=learner_promise(reproducibility(runtime, {
            "policy": config.policy, "expert": config.expert,
            "judge": None if is_program_judge(config.judge) else config.judge,
            "optimizer": config.optimizer if config.strategy in OPTIMIZER_STRATEGIES else None,
        }), config.learner),  # a fine-tuning learner trains: its promise too
    )
    if estimate is not None and not (folder.path / ESTIMATE_FILE).exists():
        folder.write_json(ESTIMATE_FILE, estimate)
    # from here every call and fee is in the run folder's ledger.jsonl as it happens, and the
    # session closes (ledger.json, sessions.jsonl) however it ends: a user error, a crash, Ctrl-C
    session = open_session(folder, runtime.ledger, "run")
    if optimizer_info is not None:
        folder.write_json("optimizer.json", optimizer_info)
    try:
        params = SamplingParams(temperature=0.0, max_tokens=config.max_tokens, seed=config.seed)
        if executor is None:
            acquisitions, answers, references, base = await local_stages(
                config, runtime, tasks, prompts, folder, params, in_house, console)
        else:  # each task's chain on the executor's workers; the same records land in the same logs
            acquisitions, answers, references = await executor.run_chains(
                tasks, prompts, config, runtime, folder, params, in_house, console)
            base = (await base_policy(config.learner, runtime.model(config.policy, role="policy"), runtime)
                    if config.repeats > 1 else None)  # --repeats answers again here, on the driver
        with progress_bar("judging", len(prompts), runtime.ledger, console) as advance:
            judgments = judge_answers_programmatically(  # checked against the truth, $0
                config.judge, prompts, answers, folder.log("judgments"),
                reference_answers=references, on_done=advance,
            ) if is_program_judge(config.judge) else await judge_answers(
                runtime.model(config.judge, role="judge"), prompts, answers, folder.log("judgments"),
                judge_config=config.judge_config, reference_answers=references, orders=orders,
                retries=config.retries, max_tokens=config.judge_max_tokens, on_done=advance,
            )
        reference_name = "un-updated policy" if in_house else str(tasks[0].metadata.get("reference_model", "reference"))
        metrics = score_run(prompts, judgments, model_name=f"{config.strategy}/{config.learner}",
                            reference_name=reference_name, seed=config.seed,
                            suite=suite.name, orders=orders, judge=config.judge)
        if config.repeats > 1:
            metrics["repeats"] = await run_repeats(config, runtime, tasks, prompts, acquisitions, base, params, folder,
                                                   (answers, references), judgments, suite.name, orders, reference_name,
                                                   in_house, console)
        metrics.update(
            suite=suite.name, strategy=config.strategy, learner=config.learner, policy=config.policy,
            optimizer=config.optimizer, optimizer_info=optimizer_info,
            reference=reference_name, acquisition=acquisition_summary(acquisitions, tasks),
            n_failed_answers=count_failed_answers(prompts, folder.log("answers"), folder.log("reference_answers")),
        )
    finally:
        costs = close_session(session)
    metrics["cost"] = costs.cost_block()
    folder.write_json("metrics.json", metrics)
    return folder, metrics


async def run_repeats(config: RunConfig, runtime: Runtime, tasks: list[Task], prompts: list[Prompt],
                      acquisitions: dict[str, Acquisition], base: Policy, params: SamplingParams, folder: RunFolder,
                      answered: tuple, judgments: dict[str, Any], suite: str, orders: str, reference_name: str,
                      in_house: bool, console: Console | None) -> dict[str, Any]:
    """``--repeats``: the held-out answers and/or their judgments again (:mod:`.repeats`)."""
    async def answer(repeat: int, sub: RunFolder):
        return await taught_answers(tasks, prompts, acquisitions, base, config.learner, runtime, sub, params,
                                    repeat, in_house)

    async def judge(model, answers, sub: RunFolder):
        if is_program_judge(config.judge):  # checked against the truth: nothing to repeat but the answers
            return await judge_answers_programmatically(config.judge, prompts, answers[0], sub.log("judgments"),
                                                        reference_answers=answers[1])
        return await judge_answers(model, prompts, answers[0], sub.log("judgments"), judge_config=config.judge_config,
                                   reference_answers=answers[1], orders=orders, retries=config.retries,
                                   max_tokens=config.judge_max_tokens)

    def score(judged):
        return score_run(prompts, judged, model_name=f"{config.strategy}/{config.learner}", reference_name=reference_name,
                         seed=config.seed, suite=suite, orders=orders, judge=config.judge)

    judge_model = runtime.model("embedded" if is_program_judge(config.judge) else config.judge, role="judge")
    return await measure_repeats(config.repeats, config.repeat_stage, prompts, judgments, folder=folder,
                                 answers=answered, judge_model=judge_model, answer=answer, judge=judge, score=score,
                                 console=console)
