"""``ads-bench evaluate``: answer a suite's prompts with a model and judge them (no acquisition).

Run folder: config.json, environment.json, answers.jsonl, judgments.jsonl, metrics.json,
ledger.jsonl (every call as it happens, all sessions) and ledger.json (its replay), sessions.jsonl
(each invocation's spend), and the judgments in the published formats (annotations.json /
mt_bench_single.jsonl) for ``ads-bench score``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.learning.policy import Policy
from ads_bench.models.backend import reproducibility
from ads_bench.models.client import Runtime
from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.answering import answer_prompts, count_failed_answers
from ads_bench.pipeline.exports import write_exports
from ads_bench.pipeline.judging_step import judge_answers
from ads_bench.pipeline.lm_eval_scoring import is_lm_eval, lm_eval_params, score_answers
from ads_bench.pipeline.preflight import preflight
from ads_bench.pipeline.prompts import prompts_of
from ads_bench.pipeline.repeats import (
    check_repeats,
    measure_repeats,
    repeat_fields,
    repeated_policy,
)
from ads_bench.pipeline.scoring import resolve_orders, score_run
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import ESTIMATE_FILE, RunFolder, default_run_dir
from ads_bench.store.session import close_session, open_session
from ads_bench.suites import load_suite


@dataclass(frozen=True)
class EvalConfig:
    suite: str
    model: str = "embedded"
    judge: str = "embedded"
    judge_config: str | None = None
    limit: int | None = None
    seed: int = 0
    max_tokens: int = 512
    temperature: float = 0.0
    judge_max_tokens: int | None = None
    orders: str | None = None  # None: the suite's published protocol (pipeline.scoring.resolve_orders)
    retries: int = 2
    repeats: int = 1  # > 1: answers and/or judgments computed again (pipeline.repeats)
    repeat_stage: str = "both"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["repeats"], out["repeat_stage"]
        return {**out, **repeat_fields(self.repeats, self.repeat_stage)}


async def run_evaluation(
    config: EvalConfig, runtime: Runtime, *, out: str | Path | None = None, console: Console | None = None,
    estimate: dict[str, Any] | None = None, executor: Any = None,
) -> tuple[RunFolder, dict[str, Any]]:
    """``estimate``: what the command expected this evaluation to cost (``estimate.json``, kept
    from the run folder's first start). ``executor``: None answers here; a ``RayExecutor``
    answers each task's prompts as a Ray task (judging stays here)."""
    config = preflight(config)  # every check before the first paid call or the run folder
    check_repeats(config.repeats, config.repeat_stage)
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed)
    orders = resolve_orders(config.orders, suite.name)  # the suite's published protocol unless asked
    prompts = prompts_of(suite.tasks)
    folder = RunFolder.open(
        out or default_run_dir("evaluate", config.to_dict(), config.suite, config.model),
        config.to_dict(),
        kind="evaluate",
        reproducibility=reproducibility(runtime, {"policy": config.model, "judge": config.judge}),
    )
    if estimate is not None and not (folder.path / ESTIMATE_FILE).exists():
        folder.write_json(ESTIMATE_FILE, estimate)
    # every call is in the run folder's ledger.jsonl as it happens; the session closes however it ends
    session = open_session(folder, runtime.ledger, "evaluate")
    try:
        policy = Policy(runtime.model(config.model, role="policy"))
        judge = runtime.model(config.judge, role="judge")
        params = SamplingParams(temperature=config.temperature, max_tokens=config.max_tokens, seed=config.seed)
        if is_lm_eval(suite):
            params = lm_eval_params(suite, params)
        if executor is None:
            with progress_bar(f"answering {suite.name}", len(prompts), runtime.ledger, console) as advance:
                answers = await answer_prompts(policy, prompts, folder.log("answers"), params, on_done=advance)
        else:
            _, answers, _ = await executor.run_chains(list(suite.tasks), prompts, config, runtime, folder, params,
                                                      False, console, answers_only=True)
        if is_lm_eval(suite):  # lm-eval's own metrics grade these; no judge
            judgments = score_answers(suite, prompts, answers, folder.log("judgments"))
        else:
            with progress_bar("judging", len(prompts), runtime.ledger, console) as advance:
                judgments = await judge_answers(
                    judge, prompts, answers, folder.log("judgments"),
                    judge_config=config.judge_config, orders=orders, retries=config.retries,
                    max_tokens=config.judge_max_tokens, on_done=advance,
                )
        reference = str(suite.tasks[0].metadata.get("reference_model", "reference")) if suite.tasks else "reference"

        def score(judged):
            return score_run(prompts, judged, model_name=config.model, reference_name=reference, seed=config.seed,
                             suite=suite.name, orders=orders, judge=config.judge)

        metrics = score(judgments)
        if config.repeats > 1 and not is_lm_eval(suite):
            async def answer(repeat, sub):
                return await answer_prompts(repeated_policy(policy, repeat), prompts, sub.log("answers"), params), None

            async def judge_again(model, answered, sub):
                return await judge_answers(model, prompts, answered[0], sub.log("judgments"),
                                           judge_config=config.judge_config, orders=orders, retries=config.retries,
                                           max_tokens=config.judge_max_tokens)

            metrics["repeats"] = await measure_repeats(
                config.repeats, config.repeat_stage, prompts, judgments, folder=folder, answers=(answers, None),
                judge_model=judge, answer=answer, judge=judge_again, score=score, console=console)
        metrics["suite"] = suite.name
        metrics["n_failed_answers"] = count_failed_answers(prompts, folder.log("answers"))
        write_exports(folder.path, prompts, judgments, model=config.model, reference=reference)
    finally:
        costs = close_session(session)
    metrics["cost"] = costs.cost_block()
    folder.write_json("metrics.json", metrics)
    return folder, metrics
