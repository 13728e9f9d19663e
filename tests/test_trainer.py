"""``ads-bench train`` end to end on the embedded model: SFT at iteration 0, DPO after, every
sample, reward and pair kept, adapters that work as ``--optimizer`` for ``run --strategy ads``."""

import json

import pytest

from ads_bench.optimizer.trainer import (
    TrainConfig,
    iteration_stats,
    task_view,
    train_optimizer,
    training_data,
)
from ads_bench.suites import load_suite

pytestmark = pytest.mark.model


def test_each_iteration_splits_a_task_afresh_and_reproducibly():
    task = load_suite("inhouse-train", limit=1).tasks[0]
    config = TrainConfig(n_observed=3, max_held_out=2)
    first, again, later = task_view(task, config, 0), task_view(task, config, 0), task_view(task, config, 1)
    assert first == again
    assert len(first.observed) == 3 and len(first.held_out) <= 2
    assert set(first.observed) != set(later.observed) or set(first.held_out) != set(later.held_out)
    assert not set(first.observed) & set(first.held_out)


@pytest.mark.slow
async def test_two_iterations_leave_an_sft_and_a_dpo_adapter_that_run_uses(fresh_runtime, tmp_path):
    from ads_bench.pipeline.run import RunConfig, run_strategy

    config = TrainConfig(iterations=2, samples=3, limit=2, max_held_out=2, tau=0.0, max_calls=1, max_tokens=24,
                         demos_per_call=1, retrieval_k=1,
                         optimizer_max_tokens=200, max_steps=2, seed=3)
    folder, rows = await train_optimizer(config, fresh_runtime, out=tmp_path / "train")
    assert [r["iteration"] for r in rows] == [0, 1]
    samples = folder.log("samples").records()
    assert len(samples) == 4 and all(len(r["samples"]) == 3 for r in samples)
    for record in samples:
        for sample in record["samples"]:
            assert {"text", "trajectory", "reward", "cost_usd", "held_out_rewards"} <= set(sample)
            assert {"reward_measured", "reward_forecast", "reward_exact", "reward_judged"} <= set(sample)
    sft, dpo = rows[0]["training"], rows[1]["training"]
    assert sft["kind"] == "sft" and sft["steps"] > 0
    assert dpo.get("kind") == "dpo" or dpo.get("skipped"), dpo
    trained = []
    for row in rows:
        if "kind" in row["training"]:
            adapter = folder.path / "adapters" / f"iteration-{row['iteration']}"
            assert (adapter / "adapter_config.json").is_file() and (adapter / "ads_stats.json").is_file()
            assert f"adapter={adapter}" in row["optimizer_weights"]  # what the next iteration trains
            trained.append(adapter)
            # what samples: llama.cpp with every adapter so far stacked, as GGUF
            assert row["optimizer_out"] == "embedded?lora=" + ",".join(str(a / "adapter.gguf") for a in trained)
    # iteration 1 samples the SFT optimizer on llama.cpp, schema-constrained like iteration 0
    assert rows[1]["optimizer_in"].startswith("embedded?lora=")
    assert rows[1]["stats"]["parse_failure_rate"] <= 0.5
    assert (folder.path / "curve.svg").read_text().startswith("<svg")
    stats = rows[0]["stats"]
    assert 0 <= stats["parse_failure_rate"] <= 1 and stats["samples"] == 6
    # prefix reuse is reported; the embedded engine is exact by default, so it reuses none: every
    # prompt is evaluated afresh (issue 18; with ?determinism=fast the acquired-data prefix is reused)
    assert stats["prompt_tokens"] > 0 and stats["engine_cached_prompt_tokens"] == 0

    # the trained optimizer drives a run, named by its adapter folder
    run_config = RunConfig(strategy="ads", optimizer=str(trained[-1]), limit=1, max_held_out=1,
                           max_tokens=16, max_calls=1, optimizer_max_tokens=120, judge_max_tokens=1)
    run_folder, metrics = await run_strategy(run_config, fresh_runtime, out=tmp_path / "run")
    assert metrics["optimizer"] == rows[-1]["optimizer_out"]
    [acquisition] = run_folder.log("acquisitions").records()
    assert acquisition["trajectory"]["raw"] is not None

    # resumable: a rerun trains nothing and samples nothing
    before = fresh_runtime.ledger.snapshot()
    _, again = await train_optimizer(config, fresh_runtime, out=tmp_path / "train")
    assert fresh_runtime.ledger.since(before).total().calls == 0
    assert [r["optimizer_out"] for r in again] == [r["optimizer_out"] for r in rows]


def test_training_data_uses_the_canonical_rendering_of_chosen_and_rejected():
    from ads_bench.acquisition.trajectory import parse_trajectory

    good = parse_trajectory('{"analysis": "a", "calls": [{"api": "qa", "args": {"question": "q?"}}]}')
    bad = parse_trajectory("nothing useful")
    record = {"prompt": [{"role": "user", "content": "task"}], "chosen": 0, "rejected": 1,
              "samples": [{"trajectory": good.to_dict(), "reward": 0.9, "cost_usd": 0.1, "parse_error": None,
                           "n_calls": 1, "api_counts": {"question_answering": 1}},
                          {"trajectory": bad.to_dict(), "reward": 0.5, "cost_usd": 0.0, "parse_error": "x",
                           "n_calls": 0, "api_counts": {}}],
              "evaluations": 2, "evaluations_exhaustive": 4, "rejected_note": ""}
    sft, dpo = training_data([record])
    assert sft == [(record["prompt"], good.render())]
    assert dpo == [(record["prompt"], good.render(), bad.render())]
    assert json.loads(good.render())["calls"][0]["api"] == "question_answering"
    stats = iteration_stats([record])
    assert stats["parse_failure_rate"] == 0.5 and stats["pairs"] == 1 and stats["chosen_mean_reward"] == 0.9


def test_iteration_stats_keep_the_measured_mean_reward_apart_from_the_forecast_one():
    from ads_bench.optimizer.racing import reward_fields

    sample = {"cost_usd": 0.1, "api_counts": {"question_answering": 1}, "n_calls": 1, "parse_error": None}
    samples = [{**sample, "reward": 0.8, **reward_fields(0.8, [0.7], 4)},  # the race stopped after one judgment
               {**sample, "reward": 0.4, **reward_fields(0.4, [0.5, 0.3, 0.4, 0.4], 4)}]
    stats = iteration_stats([{"samples": samples, "chosen": 0, "rejected": 1, "evaluations": 5,
                              "evaluations_exhaustive": 8}])
    assert stats["mean_reward"] == pytest.approx(0.6) and stats["mean_reward_measured"] == pytest.approx(0.55)
    assert stats["forecast_rewards"] == 1
