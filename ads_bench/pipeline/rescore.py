"""``ads-bench rescore RUN --judge SPEC``: judge a finished run's answers again with another judge.

Nothing is regenerated: the answers (and, for in-house runs, the un-updated policy's reference
answers) are copied into a new run folder, judged there, and scored. The new folder's config
names its source run and the new judge, so re-scoring is itself resumable and auditable.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.errors import UserError
from ads_bench.models.backend import reproducibility
from ads_bench.models.client import Runtime
from ads_bench.pipeline.answering import count_failed_answers, usable_answers
from ads_bench.pipeline.judging_step import judge_answers
from ads_bench.pipeline.program_judging import is_program_judge, judge_answers_programmatically
from ads_bench.pipeline.prompts import prompts_of
from ads_bench.pipeline.repeats import check_repeats, measure_repeats, repeat_fields
from ads_bench.pipeline.run import held_out_slice
from ads_bench.pipeline.scoring import resolve_orders, score_run
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import RunFolder, default_run_dir
from ads_bench.store.session import close_session, open_session
from ads_bench.suites import load_suite
from ads_bench.suites.grouping import random_grouping

COPIED = ("answers.jsonl", "reference_answers.jsonl", "acquisitions.jsonl", "policies.jsonl")


async def rescore_run(source: str | Path, judge: str, runtime: Runtime, *, judge_config: str | None = None,
                      orders: str | None = None, retries: int = 2, judge_max_tokens: int | None = None,
                      out: str | Path | None = None, console: Console | None = None, repeats: int = 1,
                      repeat_stage: str = "judge") -> tuple[RunFolder, dict[str, Any]]:
    started = time.time()
    check_repeats(repeats, repeat_stage, answers_made_here=False)
    if is_program_judge(judge) and repeats > 1:
        raise UserError(f"--repeats {repeats} with {judge}: a program's judgment never varies, "
                        "so there is nothing to repeat; drop --repeats")
    source = Path(source)
    if not (source / "config.json").is_file() or not (source / "answers.jsonl").is_file():
        raise UserError(f"{source} is not a finished run folder (config.json and answers.jsonl needed)")
    original = RunFolder(source).config
    if original.get("kind") not in ("run", "evaluate"):
        raise UserError(f"{source} is a '{original.get('kind')}' folder: rescore takes run or evaluate folders")
    config = {"source": str(source.resolve()), "source_config": original, "judge": judge,
              "judge_config": judge_config, "orders": orders, "retries": retries,
              "judge_max_tokens": judge_max_tokens, **repeat_fields(repeats, repeat_stage)}
    folder = RunFolder.open(out or default_run_dir("rescore", config, source.name, judge), config, kind="rescore",
                            reproducibility=reproducibility(runtime, {} if is_program_judge(judge) else {"judge": judge}))
    for name in COPIED:
        if (source / name).is_file() and not (folder.path / name).exists():
            shutil.copy2(source / name, folder.path / name)
    suite = load_suite(original["suite"], limit=original.get("limit"), seed=original.get("seed", 0),
                       n_observed=original.get("n_observed"))
    tasks = suite.tasks
    if original.get("grouping") == "random":
        tasks = tuple(random_grouping(tasks, original.get("seed", 0)))
    prompts = prompts_of(held_out_slice(tasks, original.get("max_held_out")))
    answers = folder.log("answers").index()
    references = None
    if (folder.path / "reference_answers.jsonl").is_file():
        references = {pid: r["answers"] for pid, r in usable_answers(folder.log("reference_answers").index()).items()}
    orders = resolve_orders(orders, suite.name)
    session = open_session(folder, runtime.ledger, "rescore", started)  # every call on disk as it happens
    try:
        judge_model = None if is_program_judge(judge) else runtime.model(judge, role="judge")

        async def judge_with(model, answered, log, on_done=None):
            if model is None:  # a program checks each answer against the suite's truth: $0, never cached
                return judge_answers_programmatically(judge, prompts, answered[0], log,
                                                      reference_answers=answered[1], on_done=on_done)
            return await judge_answers(
                model, prompts, answered[0], log, judge_config=judge_config or original.get("judge_config"),
                reference_answers=answered[1], orders=orders, retries=retries, max_tokens=judge_max_tokens,
                on_done=on_done,
            )

        def score(judged):
            return score_run(prompts, judged, model_name=original.get("strategy") or original.get("model", "model"),
                             seed=original.get("seed", 0), suite=suite.name, orders=orders, judge=judge)

        with progress_bar(f"re-judging with {judge}", len(prompts), runtime.ledger, console) as advance:
            judgments = await judge_with(judge_model, (answers, references), folder.log("judgments"), advance)
        metrics = score(judgments)
        if repeats > 1:
            metrics["repeats"] = await measure_repeats(
                repeats, repeat_stage, prompts, judgments, folder=folder, answers=(answers, references),
                judge_model=judge_model, answer=None, score=score, console=console,
                judge=lambda model, answered, sub: judge_with(model, answered, sub.log("judgments")))
        metrics.update(suite=suite.name, rescored_from=str(source), judge=judge,
                       strategy=original.get("strategy"), learner=original.get("learner"),
                       policy=original.get("policy") or original.get("model"),
                       n_failed_answers=count_failed_answers(prompts, folder.log("answers"),
                                                             folder.log("reference_answers")))
        previous = RunFolder(source).read_json("metrics.json") or {}
        if "acquisition" in previous:
            metrics["acquisition"] = previous["acquisition"]
    finally:
        costs = close_session(session)
    metrics["cost"] = costs.cost_block()
    folder.write_json("metrics.json", metrics)
    return folder, metrics
