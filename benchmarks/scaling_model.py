"""The paper-scale training run on N GPUs, from this project's own ledgers (issue 15, item 4).

    python benchmarks/scaling_model.py TRAIN_FOLDER [--lora-records DIR ...] [--gpus 1,8,32,64]

``TRAIN_FOLDER`` is an ``ads-bench train`` folder made with ``--learner finetune`` (its
``ledger.jsonl``, ``samples.jsonl``, ``iterations.jsonl``); ``--lora-records`` are the folders
holding the policy LoRA runs' ``training.json`` records (``CACHE/adapters``: the finetune learner
caches each adapter there, not in the train folder) or run folders (their ``policies.jsonl``).

It prints
1. **per-step figures** measured in that folder (optimizer samples per task, acquisition calls per
   trajectory by API, policy answers and judge calls per evaluation, LoRA runs per trajectory and
   steps per run, tokens and CPU seconds per call), each beside what ``ads-bench estimate``'s
   estimator (``estimate_train``, cold: no earlier ledger) predicts for the same configuration,
   as measured/estimated;
2. **the paper-scale run**, 1,000 tasks × 3 iterations × K = 8 × H = 8 with the fine-tune learner:
   calls and tokens per role from the same estimator on the full-size recipe (as
   ``benchmarks/paper_scale_estimate.py``), LoRA runs and their training tokens from the measured
   per-step figures, and for each N: GPU-hours, wall time with the Ray executor, the bound, and $.

What a GPU does per second is not measurable on this machine (no GPU was lent): those figures are
**assumptions**, options with the defaults below, each replacing a measured CPU figure the first
table prints. Everything that counts (calls, tokens, LoRA runs, examples) is measured or estimated
by the project's own code.

The wall-time model (each task's acquire → learn → answer chain and each trajectory's reward
evaluation is one Ray task, a LoRA learner holds one GPU, the expert and the judge are hosted
APIs):

    wall(iteration, N) = max(GPU work / N, API work / api_concurrency) + one chain's latency
                         + optimizer training on min(N, --max-train-ranks) data-parallel ranks

The optimizer's SFT/DPO between iterations is the serial part (Amdahl): the driver waits for it,
and ``train --train-processes N`` runs it data-parallel on one machine's GPUs only.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ads_bench.utils.jsonl import JsonlLog

# -- the full-size recipe and the GPU assumptions ------------------------------------------------

#: with no LoRA record: an acquired item as a training example, in tokens (a question and a
#: 128-token answer, about what pipeline/estimate.py counts for a QA item)
DEFAULT_EXAMPLE_TOKENS = 160
#: the finetune learner's "gpu" preset (learning/finetune.py): examples per optimizer step
#: (batch 4 × gradient accumulation 4) and epochs
GPU_PRESET_BATCH = 16
GPU_PRESET_EPOCHS = 3


@dataclass(frozen=True)
class Recipe:
    tasks: int = 1000
    iterations: int = 3
    samples: int = 8  # K
    held_out: int = 8  # H
    optimizer_epochs: int = 2  # train --epochs
    lora_batch: int = GPU_PRESET_BATCH
    lora_epochs: int = GPU_PRESET_EPOCHS


@dataclass(frozen=True)
class Assumptions:
    """What one GPU (H100 80 GB, bf16, a 7B model) does: stated, not measured here."""

    #: vLLM, many concurrent requests, output tokens/s summed over requests on one GPU
    decode_tokens_per_s: float = 2000.0
    #: vLLM prompt processing (prefill), tokens/s on one GPU
    prefill_tokens_per_s: float = 15000.0
    #: one request alone, output tokens/s (a chain's latency)
    stream_tokens_per_s: float = 80.0
    #: LoRA SFT of a 7B model with gradient checkpointing, training tokens/s on one GPU
    #: (≈ 17% of an H100's 989 dense bf16 TFLOP/s at ≈ 5.6e10 FLOP a token)
    lora_tokens_per_s: float = 3000.0
    #: per LoRA run: load the 7B base (15 GB bf16) to the GPU, wrap it with peft, save the adapter
    lora_setup_s: float = 25.0
    #: per optimizer stage (SFT or DPO): load, merge the previous adapter, save
    stage_setup_s: float = 120.0
    #: hosted APIs (expert, judge): requests in flight at once, and a call's latency
    #: (the estimator's DEFAULT_SPEED["other"]: 0.5 s a call + 60 output tokens/s)
    api_concurrency: int = 32
    api_call_s: float = 0.5
    api_tokens_per_s: float = 60.0
    #: data-parallel ranks optimizer training can use (torchrun --standalone: one machine)
    max_train_ranks: int = 8
    #: $ per GPU-hour (an H100 on demand, specialised clouds: about $2–4)
    gpu_hour_usd: float = 2.5


# -- measured per-step figures -------------------------------------------------------------------


@dataclass
class RoleCalls:
    calls: int = 0  # every request, cache hits included (the recipe needs each)
    computed: int = 0  # not cache hits: what tokens and seconds are measured on
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


@dataclass
class Measured:
    """Per-step figures of one train folder."""

    folder: Path
    config: dict[str, Any]
    tasks: int  # task-iterations sampled
    samples: int  # trajectories
    api_calls: Counter = field(default_factory=Counter)  # api -> calls over all trajectories
    items: int = 0  # acquired items over all trajectories
    with_items: int = 0  # trajectories that acquired something
    usable_with_items: int = 0  # of those, the ones the trainer evaluates (a LoRA run each, unless shared)
    evaluations: int = 0  # (trajectory, held-out instruction) pairs evaluated
    evaluations_exhaustive: int = 0
    roles: dict[tuple[str, str], RoleCalls] = field(default_factory=dict)  # (role, api) -> calls
    wall_s: float = 0.0  # the sessions' own seconds
    lora_runs: list[dict[str, Any]] = field(default_factory=list)  # training.json records
    optimizer_training: list[dict[str, Any]] = field(default_factory=list)  # iterations.jsonl "training"

    def role(self, role: str, api: str = "-") -> RoleCalls:
        return self.roles.get((role, api), RoleCalls())

    @property
    def lora_steps(self) -> int:
        return sum(int(r.get("steps") or 0) for r in self.lora_runs)

    @property
    def lora_examples(self) -> int:
        return sum(len(r.get("kept") or []) for r in self.lora_runs)

    @property
    def lora_example_tokens(self) -> int:
        return sum(sum((r.get("lengths") or {}).values()) for r in self.lora_runs)

    @property
    def lora_seconds(self) -> float:
        return sum(float(r.get("train_seconds") or 0.0) for r in self.lora_runs)


def pool(folders: list[Measured]) -> Measured:
    """Several train folders' counts summed: the projection's per-step figures."""
    pooled = Measured(Path("+".join(str(f.folder) for f in folders)), {}, tasks=0, samples=0)
    for found in folders:
        pooled.tasks += found.tasks
        pooled.samples += found.samples
        pooled.api_calls.update(found.api_calls)
        for name in ("items", "with_items", "usable_with_items", "evaluations", "evaluations_exhaustive", "wall_s"):
            setattr(pooled, name, getattr(pooled, name) + getattr(found, name))
        for key, calls in found.roles.items():
            mine = pooled.roles.setdefault(key, RoleCalls())
            for name in ("calls", "computed", "prompt_tokens", "completion_tokens", "seconds"):
                setattr(mine, name, getattr(mine, name) + getattr(calls, name))
        pooled.optimizer_training += found.optimizer_training
        if "finetune" in str(found.config.get("learner")):
            answers = found.role("policy")
            mine = pooled.roles.setdefault(("finetune policy", "-"), RoleCalls())
            for name in ("calls", "computed", "prompt_tokens", "completion_tokens", "seconds"):
                setattr(mine, name, getattr(mine, name) + getattr(answers, name))
    records = {json.dumps(r, sort_keys=True): r for found in folders for r in found.lora_runs}
    pooled.lora_runs = list(records.values())
    return pooled


def read_lora_records(paths: list[Path]) -> list[dict[str, Any]]:
    """Training records of policy LoRA runs: ``training.json`` under an adapters folder, or the
    ``details.training`` of a run folder's ``policies.jsonl`` (reused adapters left out: they
    trained nothing)."""
    records = []
    for path in paths:
        for found in sorted(path.glob("**/training.json")):
            records.append(json.loads(found.read_text(encoding="utf-8")))
        for log in sorted(path.glob("**/policies.jsonl")):
            for line in JsonlLog(log):
                training = (line.get("details") or {}).get("training")
                if training:
                    records.append(training)
    return [r for r in records if not r.get("reused")]


def measure(folder: Path, lora_paths: list[Path]) -> Measured:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    records = list(JsonlLog(folder / "samples.jsonl"))
    found = Measured(folder, config, tasks=len(records), samples=sum(len(r["samples"]) for r in records))
    for record in records:
        found.evaluations += int(record.get("evaluations") or 0)
        found.evaluations_exhaustive += int(record.get("evaluations_exhaustive") or 0)
        for sample in record["samples"]:
            found.api_calls.update(sample.get("api_counts") or {})
            found.items += int(sample.get("n_items") or 0)
            found.with_items += int(bool(sample.get("n_items")))
            # evaluated, so taught, by the trainer: parsed, and not a copy of the prompt's demonstration
            usable = not sample.get("parse_error") and not sample.get("copied_demonstration")
            found.usable_with_items += int(usable and bool(sample.get("n_items")))
    for line in JsonlLog(folder / "ledger.jsonl"):
        if line.get("kind") != "call":
            continue
        calls = found.roles.setdefault((str(line["role"]), str(line.get("api") or "-")), RoleCalls())
        calls.calls += 1
        if not line.get("cached"):
            calls.computed += 1
            calls.prompt_tokens += int(line.get("prompt_tokens") or 0)
            calls.completion_tokens += int(line.get("completion_tokens") or 0)
            calls.seconds += float(line.get("seconds") or 0.0)
    if (folder / "sessions.jsonl").is_file():
        found.wall_s = sum(float(s.get("seconds") or 0.0) for s in JsonlLog(folder / "sessions.jsonl"))
    if (folder / "iterations.jsonl").is_file():
        found.optimizer_training = [r["training"] for r in JsonlLog(folder / "iterations.jsonl")
                                    if isinstance(r.get("training"), dict) and r["training"].get("steps")]
    if "finetune" in str(config.get("learner")):
        found.lora_runs = read_lora_records(lora_paths)
    return found


# -- the check against the estimator -------------------------------------------------------------


def train_config(config: dict[str, Any]) -> Any:
    from dataclasses import fields

    from ads_bench.optimizer.trainer import TrainConfig

    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in config.items() if k in known})


def estimate_for(config: Any, history_roots: list[Path]) -> Any:
    from ads_bench.cli.estimates import estimate_train
    from ads_bench.models.client import Runtime
    from ads_bench.pipeline.estimate import History

    runtime = Runtime.create(use_cache=False)
    return estimate_train(config, runtime, History.read(history_roots))


def by_role(estimate: Any) -> dict[tuple[str, str], Any]:
    """The estimate's lines summed over models, keyed (role, api) as :class:`Measured` is."""
    from ads_bench.pipeline.estimate import Line

    lines: dict[tuple[str, str], Line] = {}
    for line in estimate.lines.values():
        mine = lines.setdefault((line.role, line.api), Line(line.role, "", line.api))
        for name in ("calls", "prompt_tokens", "completion_tokens", "seconds", "usd"):
            setattr(mine, name, getattr(mine, name) + getattr(line, name))
    return lines


def ratio(measured: float, estimated: float) -> str:
    return f"{measured / estimated:.2f}" if estimated else "–"


def check_table(found: Measured, estimate: Any) -> list[str]:
    """Calls, tokens and CPU seconds per (role, API): measured beside estimated."""
    rows = ["| role | API | calls meas. / est. (×) | prompt tok/call meas. / est. | completion tok/call "
            "meas. / est. | s/call meas. / est. |", "|---|---|---|---|---|---|"]
    lines = by_role(estimate)
    for key in sorted(set(found.roles) | {k for k in lines if k[0] != "acquisition"}):
        meas, est = found.role(*key), lines.get(key)
        est_calls = est.calls if est else 0.0

        def per(total: float, n: float) -> float:
            return total / n if n else 0.0

        m_p, m_c, m_s = (per(x, meas.computed) for x in (meas.prompt_tokens, meas.completion_tokens, meas.seconds))
        e_p, e_c, e_s = (per(x, est_calls) for x in (est.prompt_tokens, est.completion_tokens, est.seconds)) if est else (0, 0, 0)
        rows.append(f"| {key[0]} | {key[1]} | {meas.calls} / {est_calls:.0f} ({ratio(meas.calls, est_calls)}) | "
                    f"{m_p:.0f} / {e_p:.0f} | {m_c:.0f} / {e_c:.0f} | {m_s:.1f} / {e_s:.1f} |")
    # a call's ledger seconds include its wait for a busy engine: the run's wall time is the
    # figure to hold the estimate's summed seconds against
    model_calls = sum(line.calls for key, line in lines.items() if key[0] != "acquisition")
    seconds = sum(line.seconds for line in lines.values())
    rows.append(f"| all model calls | | {sum(r.calls for r in found.roles.values())} / {model_calls:.0f} | | | "
                f"wall {found.wall_s:.0f} s / {seconds:.0f} s ({ratio(found.wall_s, seconds)}) |")
    for api, n in sorted(found.api_calls.items()):
        est = lines.get(("acquisition", api))
        rows.append(f"| acquisition | {api} | {n} / {est.calls if est else 0:.0f} "
                    f"({ratio(n, est.calls if est else 0)}) | | | |")
    return rows


def per_step_table(found: Measured, config: Any) -> list[str]:
    k, s = config.samples, max(1, found.samples)
    rows = ["| per-step figure | measured | n |", "|---|---|---|"]
    rows.append(f"| optimizer requests per task-iteration (n = K = {k} samples each) | "
                f"{found.role('optimizer').calls / max(1, found.tasks):.2f} | {found.tasks} task-iterations |")
    for api, n in sorted(found.api_calls.items()):
        rows.append(f"| {api} calls per trajectory | {n / s:.2f} | {found.samples} trajectories |")
    rows.append(f"| acquired items per trajectory | {found.items / s:.2f} | {found.samples} trajectories |")
    rows.append(f"| trajectories that acquired something | {found.with_items / s:.2f} | {found.samples} trajectories |")
    rows.append(f"| of all trajectories: usable (parsed, not a copy of the prompt's demonstration) and acquired "
                f"something: evaluated, a LoRA run each | {found.usable_with_items / s:.2f} | "
                f"{found.samples} trajectories |")
    rows.append(f"| evaluations / exhaustive (racing's share) | {found.evaluations}/{found.evaluations_exhaustive} | "
                f"{found.tasks} task-iterations |")
    answers = found.role("policy").calls
    rows.append(f"| policy answers per evaluation (+ H un-updated a task) | "
                f"{answers / max(1, found.evaluations + found.tasks * config.max_held_out):.2f} | {answers} answers |")
    judge = found.role("judge").calls
    rows.append(f"| judge calls per evaluation (both orders) | {judge / max(1, found.evaluations):.2f} | "
                f"{found.evaluations} evaluations |")
    if found.lora_runs:
        n = len(found.lora_runs)
        rows.append(f"| LoRA runs trained per usable trajectory that acquired something (identical items "
                    f"share one) | {n / max(1, found.usable_with_items):.2f} | {n} runs |")
        rows.append(f"| examples per LoRA run | {found.lora_examples / n:.2f} | {n} runs |")
        rows.append(f"| tokens per example (before truncation) | "
                    f"{found.lora_example_tokens / max(1, found.lora_examples):.0f} | {found.lora_examples} examples |")
        rows.append(f"| LoRA steps per run (CPU preset: batch {found.lora_runs[0].get('batch_size', 2)}) | "
                    f"{found.lora_steps / n:.2f} | {n} runs |")
        rows.append(f"| CPU seconds per LoRA step, SmolLM2-135M (→ `--lora-tokens-per-s`) | "
                    f"{found.lora_seconds / max(1, found.lora_steps):.2f} | {found.lora_steps} steps |")
    for training in found.optimizer_training:
        rows.append(f"| optimizer {training['kind'].upper()}: CPU seconds per step (→ `--stage-setup-s`, "
                    f"`--lora-tokens-per-s`) | {training['seconds'] / max(1, training['steps']):.1f} | "
                    f"{training['steps']} steps, {training.get('examples', training.get('pairs'))} "
                    f"{'examples' if 'examples' in training else 'pairs'} |")
    for (role, api), calls in sorted(found.roles.items()):
        if calls.computed and calls.seconds:
            rows.append(f"| {role} {api if api != '-' else ''}: CPU output tokens/s per call "
                        f"(→ `--decode-tokens-per-s`) | {calls.completion_tokens / calls.seconds:.1f} | "
                        f"{calls.computed} calls |")
    rows.append(f"| wall seconds of the whole run (2 shared CPU cores) | {found.wall_s:.0f} | 1 run |")
    return rows


# -- the projection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One iteration's work in one stage: GPU-seconds (any GPU), API-seconds (hosted, concurrent),
    serial seconds (the optimizer's training: on at most ``max_train_ranks`` GPUs)."""

    name: str
    gpu_s: float = 0.0
    api_s: float = 0.0
    serial_gpu_s: float = 0.0  # GPU-seconds of the data-parallel optimizer training
    serial_setup_s: float = 0.0  # not parallel at all (load, merge, save)


@dataclass(frozen=True)
class Projection:
    gpus: int
    wall_s: float
    gpu_busy_s: float  # what the stages need
    gpu_billed_s: float  # N GPUs held for the wall time
    bound: str
    usd_gpu: float
    usd_api: float

    @property
    def usd(self) -> float:
        return self.usd_gpu + self.usd_api


def inference_gpu_s(prompt_tokens: float, completion_tokens: float, a: Assumptions) -> float:
    return prompt_tokens / a.prefill_tokens_per_s + completion_tokens / a.decode_tokens_per_s


def api_s(calls: float, completion_tokens: float, a: Assumptions) -> float:
    return calls * a.api_call_s + completion_tokens / a.api_tokens_per_s


def lora_runs(recipe: Recipe, taught_share: float) -> float:
    """LoRA runs per iteration: one per trajectory that acquired something."""
    return recipe.tasks * recipe.samples * taught_share


def lora_run_s(examples: float, tokens_per_example: float, recipe: Recipe, a: Assumptions) -> float:
    """One policy LoRA run on one GPU: setup, then every epoch over the examples (a step is
    ``lora_batch`` examples; fewer examples make one short step, so tokens, not steps, set the time)."""
    return a.lora_setup_s + recipe.lora_epochs * examples * tokens_per_example / a.lora_tokens_per_s


def optimizer_stage(recipe: Recipe, iteration: int, example_tokens: float, a: Assumptions) -> Stage:
    """SFT on one chosen trajectory a task (iteration 0), else DPO on one pair a task: two
    sequences, each a policy forward and backward plus the reference model's forward (≈ 4/3)."""
    tokens = recipe.tasks * example_tokens * recipe.optimizer_epochs
    if iteration > 0:
        tokens *= 2 * 4 / 3
    return Stage("optimizer SFT" if iteration == 0 else "optimizer DPO",
                 serial_gpu_s=tokens / a.lora_tokens_per_s, serial_setup_s=a.stage_setup_s)


def wall(stages: list[Stage], chain_s: float, gpus: int, a: Assumptions) -> tuple[float, str]:
    """One iteration's wall seconds on ``gpus`` GPUs, and what bounds it."""
    gpu = sum(s.gpu_s for s in stages) / gpus
    api = sum(s.api_s for s in stages) / a.api_concurrency
    ranks = min(gpus, a.max_train_ranks)
    serial = sum(s.serial_gpu_s for s in stages) / ranks + sum(s.serial_setup_s for s in stages)
    parallel = max(gpu, api)
    if parallel >= serial:
        top = max((s for s in stages if s.gpu_s or s.api_s),
                  key=lambda s: s.gpu_s / gpus if gpu >= api else s.api_s / a.api_concurrency)
        bound = f"{top.name} ({'GPU' if gpu >= api else 'API concurrency'})"
    else:
        bound = "optimizer training (serial)"
    return parallel + chain_s + serial, bound


def project(iterations: list[list[Stage]], chain_s: float, gpus: int, a: Assumptions, usd_api: float) -> Projection:
    total, bounds = 0.0, Counter()
    for stages in iterations:
        seconds, bound = wall(stages, chain_s, gpus, a)
        total += seconds
        bounds[bound] += seconds
    busy = sum(s.gpu_s + s.serial_gpu_s + s.serial_setup_s * min(gpus, a.max_train_ranks)
               for stages in iterations for s in stages)
    billed = gpus * total
    return Projection(gpus, total, busy, billed, bounds.most_common(1)[0][0],
                      billed / 3600 * a.gpu_hour_usd, usd_api)


def paper_stages(found: Measured, recipe: Recipe, a: Assumptions, history_roots: list[Path],
                 taught: float | None = None, api_mix: str = "measured") -> dict[str, Any]:
    """The full-size recipe's stages per iteration, its API $, and one chain's latency."""
    from ads_bench.models.client import Runtime
    from ads_bench.optimizer.trainer import TrainConfig
    from ads_bench.suites import load_suite

    paper = _paper_module()
    runtime = Runtime.create(use_cache=False)
    optimizer = paper.served("Qwen2-7B-Instruct", runtime)
    config = TrainConfig(suite="inhouse-train", limit=None, iterations=1, samples=recipe.samples,
                         max_held_out=recipe.held_out, optimizer=optimizer, policy=optimizer,
                         expert=paper.EXPERT, judge=paper.JUDGE, max_tokens=512, optimizer_max_tokens=1024,
                         learner="finetune", racing=False)
    suite = load_suite("inhouse-train")
    scale = recipe.tasks / len(suite.tasks)
    held_out = sum(min(recipe.held_out, len(t.instructions) - min(3, len(t.instructions) - 1))
                   for t in suite.tasks) / len(suite.tasks)
    lines = by_role(estimate_for(config, history_roots))
    mix = {}
    if api_mix == "measured":
        # the estimator spends every trajectory's call budget, spread evenly over the APIs; the
        # ledgers say how many calls of each API a trajectory made: scale each API's calls (its fees,
        # the expert's answers, the policy's demonstrations) to that
        trajectories = len(suite.tasks) * recipe.samples
        for api in ("information_retrieval", "demonstration_generation", "question_answering"):
            estimated = lines[("acquisition", api)].calls / trajectories if ("acquisition", api) in lines else 0.0
            mix[api] = (found.api_calls.get(api, 0) / max(1, found.samples)) / estimated if estimated else 1.0
        for (role, api), found_line in lines.items():
            if api in mix and role in ("acquisition", "expert", "policy"):
                for name in ("calls", "prompt_tokens", "completion_tokens", "seconds", "usd"):
                    setattr(found_line, name, getattr(found_line, name) * mix[api])

    def line(role: str, api: str = "-") -> tuple[float, float, float]:
        found_line = lines.get((role, api))
        if found_line is None:
            return 0.0, 0.0, 0.0
        return found_line.calls * scale, found_line.prompt_tokens * scale, found_line.completion_tokens * scale

    calls_o, prompt_o, completion_o = line("optimizer")
    policy = [line("policy", api) for api in ("-", "demonstration_generation", "question_answering")]
    answers = found.role("finetune policy")
    if answers.computed:
        # estimate_train puts the acquired data in every answer's prompt, as ICL does; a fine-tuned
        # policy's prompt is the instruction alone: take the measured prompt length per answer
        policy[0] = (policy[0][0], policy[0][0] * answers.prompt_tokens / answers.computed, policy[0][2])
    expert = line("expert", "question_answering")
    judge = line("judge")
    usd_parts = {role: sum(v.usd for k, v in lines.items() if k[0] == role) * scale * recipe.iterations
                 for role in ("acquisition", "expert", "judge")}
    usd_api = sum(usd_parts.values()) / recipe.iterations
    usd_hosted_equivalent = sum(v.usd for k, v in lines.items() if k[0] in ("optimizer", "policy")) * scale

    taught_share = found.with_items / max(1, found.samples) if taught is None else taught
    # examples a LoRA run trains on: the items a trajectory that acquired something brings, times the share of its items the learner kept (the LoRA records)
    offered = sum(len(r.get("lengths") or {}) for r in found.lora_runs)  # one length per example offered
    kept = found.lora_examples / offered if offered else 1.0
    examples = kept * found.items / max(1, found.with_items)
    tokens_per_example = (found.lora_example_tokens / found.lora_examples if found.lora_examples
                          else DEFAULT_EXAMPLE_TOKENS)
    runs = lora_runs(recipe, taught_share)
    one_run = lora_run_s(examples, tokens_per_example, recipe, a)
    example_tokens = (prompt_o + completion_o / recipe.samples) / max(1.0, calls_o)  # prompt + one sample
    stages = [
        Stage("optimizer sampling", gpu_s=inference_gpu_s(prompt_o, completion_o, a)),
        Stage("policy answers and demonstrations",
              gpu_s=sum(inference_gpu_s(p, c, a) for _, p, c in policy)),
        Stage("LoRA training (policy)", gpu_s=runs * one_run),
        Stage("expert (hosted)", api_s=api_s(expert[0], expert[2], a)),
        Stage("judge (hosted)", api_s=api_s(judge[0], judge[2], a)),
    ]
    iterations = [[*stages, optimizer_stage(recipe, i, example_tokens, a)] for i in range(recipe.iterations)]
    # one task's chain alone: its K samples, its trajectories' calls one after another, one LoRA
    # run, H answers one after another, 2H judge calls one after another
    calls_per_trajectory = sum(found.api_calls.values()) / max(1, found.samples)
    chain_s = ((completion_o / max(1.0, calls_o)) / recipe.samples / a.stream_tokens_per_s
               + calls_per_trajectory * (a.api_call_s + (expert[2] / max(1.0, expert[0])) / a.api_tokens_per_s)
               + one_run
               + recipe.held_out * (policy[0][2] / max(1.0, policy[0][0])) / a.stream_tokens_per_s
               + 2 * recipe.held_out * (a.api_call_s + (judge[2] / max(1.0, judge[0])) / a.api_tokens_per_s))
    counts = {
        "held-out instructions per task (H ≤ 8; inhouse-train's tasks hold few)": held_out,
        "optimizer requests per iteration": calls_o,
        "optimizer tokens per iteration (prompt, completion)": (prompt_o, completion_o),
        "policy calls per iteration": sum(c for c, _, _ in policy),
        "policy tokens per iteration (prompt, completion)": (sum(p for _, p, _ in policy),
                                                             sum(c for _, _, c in policy)),
        "expert calls per iteration": expert[0],
        "judge calls per iteration": judge[0],
        "judge tokens per iteration (prompt, completion)": (judge[1], judge[2]),
        f"share of trajectories that teach a LoRA: acquired something (n = {found.samples} trajectories)":
            taught_share,
        "LoRA runs per iteration": runs,
        f"LoRA examples per run (n = {found.with_items} trajectories)": examples,
        f"LoRA tokens per example (n = {found.lora_examples} examples)": tokens_per_example,
        "LoRA GPU-seconds per run": one_run,
        "optimizer training tokens per example (prompt + one sample)": example_tokens,
    }
    return {"iterations": iterations, "chain_s": chain_s, "mix": mix, "usd_parts": usd_parts, "usd_api": usd_api * recipe.iterations,
            "usd_hosted_equivalent": usd_hosted_equivalent * recipe.iterations, "counts": counts,
            "scale": scale, "taught_share": taught_share}


def _paper_module() -> Any:
    import importlib.util

    path = Path(__file__).with_name("paper_scale_estimate.py")
    spec = importlib.util.spec_from_file_location("paper_scale_estimate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the command ---------------------------------------------------------------------------------


def hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.1f} min"


def paper_table(paper: dict[str, Any], gpus: list[int], a: Assumptions) -> list[str]:
    rows = ["| GPUs | wall time | GPU-hours billed (N × wall) | GPU-hours busy | speed-up vs 1 GPU | bound | "
            "$ GPUs | $ APIs and fees | $ total |", "|---|---|---|---|---|---|---|---|---|"]
    one = project(paper["iterations"], paper["chain_s"], 1, a, paper["usd_api"])
    for n in gpus:
        p = project(paper["iterations"], paper["chain_s"], n, a, paper["usd_api"])
        rows.append(f"| {n} | {hours(p.wall_s)} | {p.gpu_billed_s / 3600:,.0f} | {p.gpu_busy_s / 3600:,.0f} | "
                    f"{one.wall_s / p.wall_s:.1f}× | {p.bound} | {p.usd_gpu:,.0f} | {p.usd_api:,.0f} | {p.usd:,.0f} |")
    return rows


def stage_table(paper: dict[str, Any], a: Assumptions) -> list[str]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for stages in paper["iterations"]:
        for s in stages:
            totals[s.name][0] += s.gpu_s + s.serial_gpu_s + s.serial_setup_s
            totals[s.name][1] += s.api_s
    rows = ["| stage (3 iterations) | GPU-hours | API call-hours (÷ concurrency for wall) |", "|---|---|---|"]
    for name, (gpu, api, _) in totals.items():
        rows.append(f"| {name} | {gpu / 3600:,.1f} | {api / 3600:,.1f} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+",
                        help="`ads-bench train` folders (pooled for the projection; LoRA figures from "
                             "those made with --learner finetune)")
    parser.add_argument("--lora-records", type=Path, nargs="*", default=[],
                        help="folders with the policy LoRA runs' training.json (CACHE/adapters) or policies.jsonl")
    parser.add_argument("--history", type=Path, nargs="*", default=[],
                        help="earlier run folders the estimator may measure from (default: none, a cold estimate)")
    parser.add_argument("--gpus", default="1,8,32,64,128")
    parser.add_argument("--api-mix", choices=("measured", "budget"), default="measured",
                        help="acquisition calls per trajectory: as measured in the folders, or the "
                             "estimator's (every trajectory spends its call budget, spread evenly)")
    parser.add_argument("--taught-share", type=float, default=None,
                        help="share of trajectories that teach a LoRA (default: the measured share that "
                             "acquired something; the estimator evaluates every sample alike)")
    defaults = Assumptions()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    recipe_defaults = Recipe()
    for name in ("tasks", "iterations", "samples", "held_out"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(recipe_defaults, name))
    args = parser.parse_args(argv)
    a = Assumptions(**{name: getattr(args, name) for name in vars(defaults)})
    recipe = replace(recipe_defaults, tasks=args.tasks, iterations=args.iterations, samples=args.samples,
                     held_out=args.held_out)
    gpus = [int(n) for n in args.gpus.split(",")]

    measured = []
    for folder in args.folders:
        found = measure(folder, args.lora_records)
        measured.append(found)
        config = train_config(found.config)
        print(f"measured: {folder} ({config.iterations} iterations × {config.limit} tasks × K={config.samples} × "
              f"H≤{config.max_held_out}, learner {config.learner}, reward {config.reward or 'judge'}, racing "
              f"{'on' if config.racing else 'off'}; {len(found.lora_runs)} policy LoRA runs)\n")
        print("\n".join(per_step_table(found, config)))
        print("\nthe same configuration, measured / estimated by `estimate_train` "
              f"({'cold' if not args.history else 'history: ' + ', '.join(map(str, args.history))}):\n")
        print("\n".join(check_table(found, estimate_for(config, args.history))))
        print()
    found = pool(measured)
    paper = paper_stages(found, recipe, a, args.history, args.taught_share, args.api_mix)
    counts = paper["counts"]
    print(f"\npaper scale: {recipe.tasks} tasks × {recipe.iterations} iterations × K={recipe.samples} × "
          f"H={recipe.held_out}, fine-tune learners (calls and tokens per iteration: estimate_train on "
          f"inhouse-train × {paper['scale']:.2f}, exhaustive; LoRA figures from the folders above, pooled)\n")
    if paper["mix"]:
        print(f"acquisition calls per trajectory as measured (n = {found.samples} trajectories): the estimator's "
              "calls of each API × " + ", ".join(f"{api} {f:.2f}" for api, f in paper["mix"].items()) + "\n")
    for name, value in counts.items():
        shown = ", ".join(f"{v:,.0f}" for v in value) if isinstance(value, tuple) else f"{value:,.1f}"
        print(f"- {name}: {shown if 'share' not in name else f'{value:.2f}'}")
    print()
    print("\n".join(stage_table(paper, a)))
    print()
    print("\n".join(paper_table(paper, gpus, a)))
    print(f"\n(one chain's latency, added once per iteration: {paper['chain_s']:.0f} s; the policy and optimizer "
          f"tokens priced at the hosted equivalent instead of GPUs: ${paper['usd_hosted_equivalent']:,.0f})")
    parts = paper["usd_parts"]
    print(f"$ APIs and fees: acquisition fees ${parts['acquisition']:,.0f}, expert tokens ${parts['expert']:,.0f}, "
          f"judge tokens ${parts['judge']:,.0f} (the price table and acquisition/costs.py's fees)")
    print("assumptions (not measured here): " + ", ".join(f"{k}={v}" for k, v in vars(a).items()))


if __name__ == "__main__":
    main()
