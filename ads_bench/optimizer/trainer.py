"""``ads-bench train``: the ADS optimizer trainer (the ADS paper's Algorithm 1).

For iteration t = 0..T-1 and every training task:

1. split the task's instructions into observed and held-out ones, seeded per (seed, iteration,
   task) — so the split changes across iterations (the paper's Algorithm 1 splits inside the
   iteration loop and leaves the rule open; a fresh split each iteration keeps the optimizer from
   fitting one particular held-out set);
2. sample K trajectories from the current optimizer, execute them (costed API calls);
3. teach the policy with each trajectory's data and score it on the held-out instructions
   against the un-updated policy (:mod:`.rewards`), racing where enabled (:mod:`.racing`);
4. pick chosen/rejected by cost tiers (:mod:`.selection`).

Then iteration 0 fine-tunes the optimizer on the chosen trajectories (rejection-sampling SFT);
later iterations run DPO on the (chosen, rejected) pairs (:mod:`.training`). Every sample,
reward and pair is kept in ``samples.jsonl``; each iteration's stats in ``iterations.jsonl`` and
beside its adapter; ``curve.svg`` plots reward and cost per iteration. Resumable per task.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.acquisition.items import Acquisition
from ads_bench.acquisition.trajectory import API_NAMES, Trajectory
from ads_bench.acquisition.trajectory.prompt import copied_demonstration, demonstrations
from ads_bench.learning import get_learner
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import base_policy
from ads_bench.models.client import ChatModel, Runtime
from ads_bench.models.convert import local_weights_dir
from ads_bench.models.spec import parse_spec, with_options
from ads_bench.optimizer import training
from ads_bench.optimizer.cost_tier_selection import Scored, select
from ads_bench.optimizer.curve import iteration_curve
from ads_bench.optimizer.racing import Race, reward_fields
from ads_bench.optimizer.rewards import RewardEvaluator, reward_evaluator
from ads_bench.optimizer.stage_workers import in_fresh_process, in_worker_thread, run_stage
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import RunFolder, default_run_dir
from ads_bench.store.session import close_session, open_session
from ads_bench.strategies import AcquisitionContext, run_calls
from ads_bench.strategies.acquisition_setup import AcquisitionSettings, acquisition_context
from ads_bench.strategies.optimizer_driven import optimizer_request, parse_for
from ads_bench.strategies.optimizer_provenance import parse_apis
from ads_bench.strategies.optimizer_specs import record_latest
from ads_bench.suites import Task, load_suite, split_instructions, stable_seed


@dataclass(frozen=True, kw_only=True)
class TrainConfig(AcquisitionSettings):
    suite: str = "inhouse-train"
    iterations: int = 2
    samples: int = 4
    tau: float = 0.2
    optimizer: str = "embedded"
    judge: str = "embedded"
    learner: str = "icl"
    limit: int | None = 4
    n_observed: int = 3
    # 8 with racing costs what 4 cost exhaustively (benchmarks/reward_racing.py, noise 0.5: 1.9x fewer
    # calls at 8, 1.3x at 4) and finds the true pair more often (74% vs 67%): racing where it pays
    max_held_out: int = 8
    sample_temperature: float = 0.8
    optimizer_max_tokens: int = 384
    max_tokens: int = 128
    judge_config: str = "alpaca_eval_2"
    judge_max_tokens: int | None = None
    racing: bool = True
    race_confidence: float = 0.9  # stop once P(racing's pair = exhaustive's pair) reaches this
    race_round: int = 1
    epochs: int = 2
    max_steps: int = -1
    lora_r: int = 8
    apis: tuple[str, ...] = API_NAMES  # the APIs sampled, parsed and trained with (--apis)
    reward: str | None = None  # program:KIND: a verified reward (suites with truth, e.g. wikifacts-train)
    # SFT/DPO data-parallel processes (optimizer/distributed.py); 0: one per GPU, one on a CPU.
    # Speed only: the effective batch is the same, so it stays out of the run's identity
    train_processes: int = 0

    def __post_init__(self) -> None:
        if self.reward is not None:
            from ads_bench.judging.programmatic import parse_program_judge

            parse_program_judge(self.reward)  # one line naming the kinds, before anything runs
        object.__setattr__(self, "apis", parse_apis(self.apis))  # "ir,qa" from a flag or a file

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["train_processes"]
        if data["apis"] == API_NAMES:  # left out when all: older train folders keep their digest
            del data["apis"]
        if data["reward"] is None:  # left out when the judge rewards: older train folders keep their digest
            del data["reward"]
        return data


SMOKE = {"iterations": 2, "samples": 3, "limit": 2, "max_held_out": 2, "max_calls": 2, "max_tokens": 64,
         "optimizer_max_tokens": 256}


def task_view(task: Task, config: TrainConfig, iteration: int) -> Task:
    """The task as this iteration sees it: a fresh observed/held-out split of all its instructions;
    a task that knows its held-out answers (``metadata.truth``, wikifacts) keeps its own split, whose
    observed and held-out questions are about different articles."""
    if task.metadata.get("truth"):
        return Task(task.id, task.suite, task.category, task.observed, task.held_out[: config.max_held_out],
                    metadata=task.metadata)
    instructions = task.instructions
    n_observed = min(config.n_observed, max(1, len(instructions) - 1))
    observed, held_out = split_instructions(
        instructions, n_observed=n_observed, seed=stable_seed(config.seed, iteration), key=task.id
    )
    return Task(task.id, task.suite, task.category, observed, held_out[: config.max_held_out], metadata=task.metadata)


@dataclass
class IterationContext:
    config: TrainConfig
    runtime: Runtime
    optimizer: ChatModel
    acquisition: AcquisitionContext
    base: Policy
    judge: ChatModel
    learner: Any
    iteration: int
    rewards: Any = None  # None: rewards evaluated here; else ray_rewards.RayRewards (--executor ray)


async def score_samples(evaluator: RewardEvaluator, acquisitions: list[Acquisition], usable: list[bool],
                        config: TrainConfig, n_held_out: int) -> tuple[list[float | None], list[list[float]]]:
    """Rewards per sample (mean over the held-out instructions, forecast by the race for those it
    skipped; None for a failed sample) and the per-instruction rewards behind each (racing stops
    some lists early)."""
    costs = [a.cost_usd for a in acquisitions]
    race = Race(costs, n_held_out, tau=config.tau, confidence=config.race_confidence, usable=usable,
                constant=[not a.items for a in acquisitions],  # judged as the un-updated policy: fixed reward
                round_size=config.race_round if config.racing else n_held_out)
    if not config.racing:
        race.min_evaluations = n_held_out + 1  # never eliminate: exhaustive
    while not race.done():
        alive, instructions = race.next_round()
        results = await asyncio.gather(*(evaluator.evaluate(acquisitions[k].items, instructions) for k in alive))
        for k, rewards in zip(alive, results, strict=True):
            race.observe(k, rewards)  # None (no verdict) kept in place: the race aligns by instruction
        race.end_round()
    rewards = [race.mean(k) if race.observed.get(k) else None for k in range(len(acquisitions))]
    return rewards, [list(race.observed.get(k, [])) for k in range(len(acquisitions))]


async def collect_task(task: Task, ctx: IterationContext) -> dict[str, Any]:
    config = ctx.config
    view = task_view(task, config, ctx.iteration)
    request = optimizer_request(view, ctx.acquisition, config.apis,
                                sample_seed=config.seed + 1000 * ctx.iteration, n=config.samples)
    [response] = await ctx.optimizer.generate([request])
    texts = [c.text for c in response.completions] if response.ok else []
    trajectories = [parse_for(text, ctx.acquisition, config.apis) for text in texts]
    acquisitions = list(await asyncio.gather(
        *(run_calls("ads-train", view, t.calls, ctx.acquisition, t) for t in trajectories)
    ))
    truths = view.metadata.get("truth") or ()
    offload = None
    if ctx.rewards is not None:
        from ads_bench.optimizer.ray_rewards import RewardJob

        offload = ctx.rewards.for_task(RewardJob(view.id, tuple(view.held_out), tuple(truths), config))
    evaluator = reward_evaluator(view.id, view.held_out, truths, config, ctx.runtime, ctx.base, ctx.judge,
                                 ctx.learner, offload=offload)
    await evaluator.prepare()
    # An output that does not parse is a failed sample, not a trajectory: never chosen (SFT and DPO
    # would learn its format errors) and not worth an evaluation.
    # A plan that copies one of the prompt's demonstrations is not a plan for this task: never
    # chosen either, or SFT teaches the optimizer to copy (issue 14: the smoke optimizer did).
    shown = demonstrations(config.apis)
    copies = [copied_demonstration(t, shown) if t.error is None else None for t in trajectories]
    usable = [t.error is None and copy is None for t, copy in zip(trajectories, copies, strict=True)]
    rewards, per_instruction = (
        await score_samples(evaluator, acquisitions, usable, config, len(view.held_out)) if acquisitions else ([], [])
    )
    evaluations = [len(r) for r in per_instruction]
    selection = select([Scored(k, rewards[k], a.cost_usd) for k, a in enumerate(acquisitions)], config.tau)
    samples = [
        {"k": k, "text": text, "trajectory": trajectory.to_dict(), "parse_error": trajectory.error,
         "copied_demonstration": copies[k],
         "n_calls": len(acquisition.outcomes), "api_counts": acquisition.api_counts(),
         "n_items": len(acquisition.items), "cost_usd": acquisition.cost_usd, "reward": rewards[k],
         **reward_fields(rewards[k], per_instruction[k], len(view.held_out), constant=not acquisition.items),
         "held_out_rewards": per_instruction[k], "evaluations": evaluations[k],
         "acquisition": acquisition.to_dict()}
        for k, (text, trajectory, acquisition) in enumerate(zip(texts, trajectories, acquisitions, strict=True))
    ]
    return {
        "id": f"{ctx.iteration}/{task.id}", "iteration": ctx.iteration, "task_id": task.id,
        "observed": list(view.observed), "held_out": list(view.held_out),
        "prompt": list(request.messages), "samples": samples,
        "optimizer_error": response.error, "chosen": selection.chosen, "rejected": selection.rejected,
        "selection_note": selection.reason,
        "evaluations": sum(evaluations), "evaluations_exhaustive": len(acquisitions) * len(view.held_out),
    }


def iteration_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    samples = [s for r in records for s in r["samples"]]
    rewards = [s["reward"] for s in samples if s["reward"] is not None]
    measured = [s["reward_measured"] for s in samples if s.get("reward_measured") is not None]
    api_counts: Counter[str] = Counter()
    for sample in samples:
        api_counts.update(sample["api_counts"])
    total_calls = sum(api_counts.values())
    chosen = [r["samples"][r["chosen"]] for r in records if r["chosen"] is not None]
    return {
        "tasks": len(records),
        "samples": len(samples),
        "mean_reward": sum(rewards) / len(rewards) if rewards else None,
        # the judgments alone, and how many rewards the race forecast in part (stopped early)
        "mean_reward_measured": (sum(measured) / len(measured)) if measured else None,
        "forecast_rewards": sum(1 for s in samples if s.get("reward_measured") is not None
                                and not s.get("reward_exact", True)),
        "mean_cost_usd": sum(s["cost_usd"] for s in samples) / len(samples) if samples else None,
        "chosen_mean_reward": sum(s["reward"] for s in chosen) / len(chosen) if chosen else None,
        "chosen_mean_cost_usd": sum(s["cost_usd"] for s in chosen) / len(chosen) if chosen else None,
        "api_call_share": {api: n / total_calls for api, n in api_counts.items()} if total_calls else {},
        "calls_per_sample": total_calls / len(samples) if samples else 0.0,
        "parse_failure_rate": sum(1 for s in samples if s["parse_error"]) / len(samples) if samples else None,
        "empty_trajectory_rate": sum(1 for s in samples if s["n_calls"] == 0) / len(samples) if samples else None,
        "tasks_with_chosen": len(chosen),
        "pairs": sum(1 for r in records if r["rejected"] is not None),
        "evaluations": sum(r["evaluations"] for r in records),
        "evaluations_exhaustive": sum(r["evaluations_exhaustive"] for r in records),
    }


def training_data(records: list[dict[str, Any]]) -> tuple[list, list]:
    def render(record: dict[str, Any], k: int) -> str:
        return Trajectory.from_dict(record["samples"][k]["trajectory"]).render()

    sft = [(r["prompt"], render(r, r["chosen"])) for r in records if r["chosen"] is not None]
    dpo = [(r["prompt"], render(r, r["chosen"]), render(r, r["rejected"])) for r in records if r["rejected"] is not None]
    return sft, dpo


def optimizer_weights(spec: str) -> tuple[Path, Path | None]:
    """(base weights folder, adapter folder or None) behind an optimizer spec."""
    parsed = parse_spec(spec)
    adapter = parsed.options.get("adapter")
    return local_weights_dir(spec), Path(adapter) if adapter else None


def train_iteration(iteration: int, spec: str, records: list[dict[str, Any]], config: TrainConfig,
                    folder: RunFolder) -> tuple[str, dict[str, Any]]:
    """Fit the optimizer on this iteration's data; returns the next optimizer's weights spec
    (``hf:BASE?adapter=DIR``, what later iterations train on) and the stats."""
    from ads_bench.optimizer.distributed import device_count

    lora = training.TrainingConfig(r=config.lora_r, alpha=2 * config.lora_r, epochs=config.epochs,
                                   max_steps=config.max_steps, seed=config.seed,
                                   processes=config.train_processes or device_count())
    sft_data, dpo_data = training_data(records)
    base, adapter = optimizer_weights(spec)
    out = adapter_dir(folder, iteration)
    # iteration 0 (or a later one whose optimizer never got an adapter and has no pair yet): SFT
    if iteration == 0 or (adapter is None and not dpo_data):
        if not sft_data:
            return spec, {"skipped": "no chosen trajectory"}
        stats = run_stage("sft", base, sft_data, out, lora)
        return f"hf:{base}?adapter={out}", stats
    if not dpo_data:
        return spec, {"skipped": "no (chosen, rejected) pair"}
    start = base
    if adapter is not None:
        start = in_fresh_process(training.merge_adapter, base, adapter, folder.path / "merged" / f"iteration-{iteration}")
    stats = run_stage("dpo", start, dpo_data, out, lora)
    return f"hf:{start}?adapter={out}", stats


def adapter_dir(folder: RunFolder, iteration: int) -> Path:
    return folder.path / "adapters" / f"iteration-{iteration}"


def serving_spec(sampling: str, weights: str) -> str:
    """How the freshly trained optimizer samples, given how the previous one did.

    On llama.cpp (``embedded``/``gguf:``) the new adapter is exported to GGUF and stacked on the
    previous ones: sampling stays fast and schema-constrained (transformers can do neither). On
    vLLM the adapter is served as a LoRA request on the weights it was trained on. Otherwise the
    weights spec itself (``hf:``) samples.
    """
    parsed, trained = parse_spec(sampling), parse_spec(weights)
    adapter = trained.options.get("adapter")
    if adapter is None:
        return sampling
    if parsed.backend == "embedded":
        from ads_bench.models.embedded import engine_config
        from ads_bench.models.lora_gguf import export_lora_gguf

        exported = export_lora_gguf(adapter, engine_config(parsed).path)
        loras = [*(str(parsed.options["lora"]).split(",") if parsed.options.get("lora") else []), str(exported)]
        return with_options(sampling, lora=",".join(loras))
    if parsed.backend == "vllm":
        return with_options(f"vllm:{trained.target}?" + sampling.partition("?")[2], adapter=adapter)
    return weights


async def collect_iteration(iteration: int, spec: str, tasks: list[Task], config: TrainConfig, runtime: Runtime,
                            folder: RunFolder, console: Console | None, executor: Any = None) -> list[dict[str, Any]]:
    """``executor``: None evaluates every reward here; a ``RayCluster`` runs them as Ray tasks
    (``optimizer/ray_rewards.py``), their ledger records streamed into this runtime's ledger."""
    done = folder.log("samples").index()
    if executor is None or all(f"{iteration}/{t.id}" in done for t in tasks):  # nothing to evaluate
        return await _collect_iteration(iteration, spec, tasks, config, runtime, folder, console)
    from ads_bench.optimizer.ray_rewards import RayRewards

    def write(drained: list[tuple[str, dict[str, Any]]]) -> None:
        for _, record in drained:  # a reward task emits ledger records only
            runtime.ledger.absorb(record)

    async with executor.streaming(runtime, write) as hub:
        return await _collect_iteration(iteration, spec, tasks, config, runtime, folder, console,
                                        RayRewards(executor, hub, runtime))


async def _collect_iteration(iteration: int, spec: str, tasks: list[Task], config: TrainConfig, runtime: Runtime,
                             folder: RunFolder, console: Console | None, rewards: Any = None) -> list[dict[str, Any]]:
    log = folder.log("samples")
    done = log.index()
    acquisition = acquisition_context(config, runtime, optimizer=None,
                                      optimizer_temperature=config.sample_temperature)
    policy_model = acquisition.policy
    base = await base_policy(config.learner, policy_model, runtime)  # same engine as the taught side
    ctx = IterationContext(config, runtime, runtime.model(spec, role="optimizer"), acquisition, base,
                           None if config.reward else runtime.model(config.judge, role="judge"),
                           get_learner(config.learner), iteration, rewards)
    gate = asyncio.Semaphore(2)
    with progress_bar(f"iteration {iteration}: sampling, executing, rewarding", len(tasks), runtime.ledger,
                      console) as advance:
        advance(sum(f"{iteration}/{t.id}" in done for t in tasks))

        async def one(task: Task) -> None:
            async with gate:
                record = await collect_task(task, ctx)
            log.append(record)
            done[record["id"]] = record
            advance()

        await asyncio.gather(*(one(t) for t in tasks if f"{iteration}/{t.id}" not in done))
    return [done[f"{iteration}/{t.id}"] for t in tasks]


async def train_optimizer(config: TrainConfig, runtime: Runtime, *, out: str | Path | None = None,
                          console: Console | None = None, executor: Any = None) -> tuple[RunFolder, list[dict[str, Any]]]:
    """``executor``: None runs everything here; an ``execution.ray_cluster.RayCluster`` (``--executor
    ray``) runs each reward evaluation as a Ray task; the SFT/DPO stages stay here either way."""
    started = time.time()
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed)
    tasks = [t for t in suite.tasks if len(t.instructions) >= 2]
    folder = RunFolder.open(out or default_run_dir("train", config.to_dict(), config.suite), config.to_dict(),
                            kind="train", reproducibility=train_promise(config, runtime))
    session = open_session(folder, runtime.ledger, "train", started)  # every call on disk as it happens
    iterations_log = folder.log("iterations")
    finished = {r["iteration"]: r for r in iterations_log}
    # ``spec`` samples (on the engine the optimizer was given); ``weights`` is what the next
    # iteration trains on (a transformers folder plus adapter). Both start as the given optimizer.
    spec = weights = config.optimizer
    for iteration in range(config.iterations):
        if iteration in finished:
            spec = finished[iteration]["optimizer_out"]
            weights = finished[iteration].get("optimizer_weights", spec)
            continue
        before = runtime.ledger.snapshot()
        records = await collect_iteration(iteration, spec, tasks, config, runtime, folder, console, executor)
        stats = iteration_stats(records)
        # prefix reuse: of the prompt tokens sent this session, how many the engines served from
        # their prefix caches (a resumed iteration reports only what it computed now)
        spent = runtime.ledger.since(before).total()
        stats["prompt_tokens"] = spent.prompt_tokens
        stats["engine_cached_prompt_tokens"] = spent.engine_cached_prompt_tokens
        if console is not None:
            mean = stats["mean_reward"]
            console.print(f"iteration {iteration}: mean reward {'–' if mean is None else f'{mean:.3f}'}, "
                          f"{stats['tasks_with_chosen']} chosen, {stats['pairs']} pairs — training")
        next_weights, training_stats = await in_worker_thread(
            train_iteration, iteration, weights, records, config, folder
        )
        next_spec = spec if next_weights == weights else await asyncio.to_thread(serving_spec, spec, next_weights)
        row = {"iteration": iteration, "optimizer_in": spec, "optimizer_out": next_spec,
               "optimizer_weights": next_weights, "apis": list(config.apis), "stats": stats,
               "training": training_stats}
        if adapter_dir(folder, iteration).is_dir():
            folder.write_json(f"adapters/iteration-{iteration}/ads_stats.json", row)
        iterations_log.append(row)
        finished[iteration] = row
        spec, weights = next_spec, next_weights
    rows = [finished[i] for i in sorted(finished)]
    iteration_curve(rows, folder.path / "curve.svg")
    if config.apis == API_NAMES:  # `run --strategy ads` must never pick up a one-API optimizer
        record_latest(spec, {"run": str(folder.path), "iterations": len(rows)})
    close_session(session)
    return folder, rows


def train_promise(config: TrainConfig, runtime: Runtime) -> dict[str, Any]:
    """What a fresh rerun of this training can promise: its models' engines and the SFT/DPO steps
    (the optimizer's next iterations sample on llama.cpp with the trained LoRA: the same engine)."""
    from ads_bench.learning.reproducibility import training_promise, with_training
    from ads_bench.models.backend import reproducibility

    models = reproducibility(runtime, {"optimizer": config.optimizer, "policy": config.policy,
                                       "expert": config.expert, "judge": config.judge})
    rewards = ", and the policy LoRA of every reward (finetune learner)" if "finetune" in config.learner else ""
    return with_training(models, training_promise(f"optimizer SFT, then DPO{rewards}"))


def smoke_config(**overrides: Any) -> TrainConfig:
    """The small budget ``run --strategy ads`` trains with when no trained optimizer exists."""
    return replace(TrainConfig(), **{**SMOKE, **overrides})
