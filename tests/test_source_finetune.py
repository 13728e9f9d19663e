"""``source-finetune`` (the paper's Appendix F baseline): LoRA on the in-house training pool's
instruction–response pairs at the ``finetune`` learner's settings, trained once and reused by
every task (issue 17, item 4)."""

from __future__ import annotations

import dataclasses

import pytest

from ads_bench.cli.sweep_run import grid_configs
from ads_bench.errors import UserError
from ads_bench.learning import finetune as finetune_module
from ads_bench.learning import get_learner, learner_names, register_learner, unregister_learner
from ads_bench.learning.finetune import FinetuneConfig
from ads_bench.learning.registry import base_policy
from ads_bench.learning.source_finetune import update
from ads_bench.learning.source_pool import training_pool_pairs
from ads_bench.strategies import strategy_names
from ads_bench.strategies.source_data import check_source_pairing
from ads_bench.suites import load_suite

# two steps of the finetune learner's recipe: enough to make and reuse a real adapter
QUICK = FinetuneConfig(max_steps=2, max_length=128, threads=1, measure_loss=False)


def test_the_pool_is_the_training_tasks_instructions_with_their_source_responses():
    pool = training_pool_pairs()
    summary = pool.summary
    assert summary["n_pairs"] == len(pool.pairs) > 1000
    assert set(summary["by_source"]) == {"alpaca_5000", "self_instruct_seed"}
    assert summary["left_out"]["no response (dynosaur)"] > 0  # task descriptions, no answers
    training = {i for task in load_suite("inhouse-train").tasks for i in task.instructions}
    evaluation = {i for task in load_suite("inhouse").tasks for i in task.instructions}
    instructions = {instruction for instruction, _ in pool.pairs}
    assert instructions <= training and not instructions & evaluation  # no held-out prompt is trained on
    assert all(response.strip() for _, response in pool.pairs)


def test_it_is_listed_and_runs_only_as_a_strategy_learner_pair():
    assert "source-finetune" in strategy_names() and "source-finetune" in learner_names()
    assert get_learner("source-finetune").config_type is FinetuneConfig  # the finetune learner's settings
    check_source_pairing("source-finetune", "source-finetune")
    with pytest.raises(UserError, match="--strategy source-finetune --learner source-finetune"):
        check_source_pairing("source-finetune", "icl")
    with pytest.raises(UserError, match="strategy/learner pair"):
        check_source_pairing("rule-qa", "source-finetune")
    sweep = {"grid": {"strategy": ["none", "source-finetune"], "learner": ["finetune", "source-finetune"]}}
    assert [name for name, _ in grid_configs(sweep)] == [
        "strategy=none,learner=finetune", "strategy=source-finetune,learner=source-finetune"]


@pytest.mark.model
async def test_one_adapter_is_trained_on_the_pool_and_reused_by_every_task(fresh_runtime, tmp_path, monkeypatch):
    monkeypatch.setattr(finetune_module, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr("ads_bench.learning.source_finetune.cache_dir", lambda: tmp_path)
    base = await base_policy("source-finetune", fresh_runtime.model("embedded", role="policy"), fresh_runtime)
    first = await update(base, [], runtime=fresh_runtime, task_id="task-1", config=QUICK)
    details = first.details
    assert details["data"] == training_pool_pairs().summary and details["acquired_items_used"] == 0
    assert details["training"]["steps"] == 2 and details["reused"] is False
    assert details["adapter"].startswith(str(tmp_path / "adapters" / "source-"))
    assert first.model.spec.options["adapter"] == details["adapter"] and first.model.spec.backend == "hf"

    def no_training(*args, **kwargs):
        raise AssertionError("the pool's adapter should have been reused, not trained per task")

    monkeypatch.setattr(finetune_module, "train_lora", no_training)
    second = await update(base, [], runtime=fresh_runtime, task_id="task-2", config=QUICK)
    assert second.details["reused"] is True and second.details["adapter"] == details["adapter"]
    assert second.label == first.label


@pytest.mark.slow
async def test_a_source_finetune_run_says_what_data_it_used(fresh_runtime, tmp_path):
    from ads_bench.pipeline.run import RunConfig, run_strategy

    async def quick(policy, items, *, runtime, task_id="", config=None):  # the real learner, two steps
        return await update(policy, items, runtime=runtime, task_id=task_id, config=QUICK)

    register_learner(dataclasses.replace(get_learner("source-finetune"), update=quick, config_type=None))
    try:
        config = RunConfig(strategy="source-finetune", learner="source-finetune", limit=2, max_held_out=1,
                           max_tokens=16, judge_max_tokens=1, retries=1)
        folder, metrics = await run_strategy(config, fresh_runtime, out=tmp_path / "run")
    finally:
        unregister_learner("source-finetune")
    acquisitions = folder.log("acquisitions").records()
    assert all("in-house training pool" in a["trajectory"]["analysis"] for a in acquisitions)
    assert metrics["acquisition"]["acquisition_usd"] == 0 and metrics["acquisition"]["api_calls"] == {}
    policies = folder.log("policies").records()
    assert len({p["details"]["adapter"] for p in policies}) == 1  # one adapter for both tasks
    assert sorted(p["details"]["reused"] for p in policies) == [False, True]  # trained once, then reused
    assert all(p["details"]["data"]["n_pairs"] > 1000 for p in policies)
    assert {r["policy"] for r in folder.log("reference_answers").records()} == {"hf:embedded"}
