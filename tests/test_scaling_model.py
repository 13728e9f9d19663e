"""benchmarks/scaling_model.py: the paper-scale projection's arithmetic, and the script on a small
synthetic train folder (no model is called: the estimator only renders prompts)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("scaling_model", ROOT / "benchmarks" / "scaling_model.py")
scaling = importlib.util.module_from_spec(spec)
sys.modules["scaling_model"] = scaling  # dataclasses look their module up there
spec.loader.exec_module(scaling)

A = scaling.Assumptions(lora_tokens_per_s=1000.0, lora_setup_s=10.0, api_concurrency=10, max_train_ranks=8,
                        gpu_hour_usd=3.6)


def test_a_lora_run_is_its_setup_plus_every_epoch_over_its_example_tokens():
    recipe = scaling.Recipe(lora_epochs=3)
    # 10 + 3 epochs × 4 examples × 250 tokens / 1000 tokens/s
    assert scaling.lora_run_s(4, 250, recipe, A) == pytest.approx(13.0)


def test_every_trajectory_that_acquired_something_is_one_lora_run_per_iteration():
    assert scaling.lora_runs(scaling.Recipe(tasks=1000, samples=8), taught_share=0.75) == 6000


def test_dpo_costs_two_sequences_and_a_reference_forward_per_pair_where_sft_costs_one():
    recipe = scaling.Recipe(tasks=100, optimizer_epochs=2)
    sft = scaling.optimizer_stage(recipe, 0, 500, A)
    dpo = scaling.optimizer_stage(recipe, 1, 500, A)
    assert sft.serial_gpu_s == pytest.approx(100 * 500 * 2 / 1000)
    assert dpo.serial_gpu_s == pytest.approx(sft.serial_gpu_s * 2 * 4 / 3)
    assert sft.serial_setup_s == dpo.serial_setup_s == A.stage_setup_s


def test_parallel_work_divides_by_the_gpus_and_optimizer_training_stops_at_its_ranks():
    stages = [scaling.Stage("LoRA", gpu_s=6400.0), scaling.Stage("train", serial_gpu_s=800.0, serial_setup_s=50.0)]
    assert scaling.wall(stages, 5.0, 1, A) == (6400 + 5 + 800 + 50, "LoRA (GPU)")
    assert scaling.wall(stages, 5.0, 8, A)[0] == pytest.approx(800 + 5 + 100 + 50)
    # past 8 ranks only the parallel part keeps shrinking (Amdahl)
    assert scaling.wall(stages, 5.0, 64, A) == (pytest.approx(100 + 5 + 100 + 50), "optimizer training (serial)")


def test_hosted_calls_bound_the_iteration_when_their_concurrency_is_the_slower_resource():
    stages = [scaling.Stage("LoRA", gpu_s=100.0), scaling.Stage("judge", api_s=5000.0)]
    assert scaling.wall(stages, 0.0, 4, A) == (500.0, "judge (API concurrency)")


def test_gpu_hours_are_billed_for_every_gpu_over_the_whole_wall_time():
    iterations = [[scaling.Stage("LoRA", gpu_s=3600.0 * 8)]] * 2
    p = scaling.project(iterations, 0.0, 8, A, usd_api=10.0)
    assert p.wall_s == pytest.approx(7200)
    assert p.gpu_billed_s == pytest.approx(8 * 7200)
    assert p.gpu_busy_s == pytest.approx(2 * 8 * 3600)
    assert p.usd_gpu == pytest.approx(16 * 3.6)
    assert p.usd == pytest.approx(16 * 3.6 + 10)


def _call(role: str, api: str, prompt: int, completion: int, seconds: float, cached: bool = False) -> dict:
    return {"kind": "call", "role": role, "model": "embedded", "api": api, "cached": cached, "failed": False,
            "prompt_tokens": prompt, "completion_tokens": completion, "seconds": seconds}


def synthetic_train_folder(root: Path) -> Path:
    """One task, K=3, H=2, learner finetune: one trajectory with 2 QA and 1 IR calls, one empty, one
    that copied the prompt's demonstration (acquired, but never evaluated)."""
    folder = root / "train"
    folder.mkdir()
    config = {"kind": "train", "suite": "inhouse-train", "iterations": 1, "samples": 3, "limit": 1,
              "max_held_out": 2, "learner": "finetune", "racing": False, "max_tokens": 48,
              "optimizer_max_tokens": 300, "policy": "embedded", "expert": "embedded", "judge": "embedded",
              "optimizer": "embedded"}
    (folder / "config.json").write_text(json.dumps(config))
    samples = [{"n_calls": 3, "api_counts": {"question_answering": 2, "information_retrieval": 1}, "n_items": 4},
               {"n_calls": 0, "api_counts": {}, "n_items": 0},
               {"n_calls": 1, "api_counts": {"information_retrieval": 1}, "n_items": 1,
                "copied_demonstration": "ir"}]
    (folder / "samples.jsonl").write_text(json.dumps(
        {"id": "0/t", "samples": samples, "evaluations": 4, "evaluations_exhaustive": 4}) + "\n")
    lines = [_call("optimizer", "-", 600, 500, 50.0), _call("expert", "question_answering", 30, 40, 4.0),
             _call("expert", "question_answering", 30, 40, 4.0)]
    lines += [_call("policy", "-", 40, 48, 3.0) for _ in range(6)] + [_call("policy", "-", 40, 48, 0.0, cached=True)]
    lines += [_call("judge", "-", 300, 1, 1.0) for _ in range(4)]
    (folder / "ledger.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (folder / "sessions.jsonl").write_text(json.dumps({"seconds": 120.0}) + "\n")
    (folder / "iterations.jsonl").write_text(json.dumps(
        {"iteration": 0, "training": {"kind": "sft", "examples": 1, "steps": 1, "seconds": 30.0}}) + "\n")
    adapter = root / "cache" / "adapters" / "abc"
    adapter.mkdir(parents=True)
    (adapter / "training.json").write_text(json.dumps(
        {"kept": [0, 1, 2, 3], "lengths": {"0": 100, "1": 100, "2": 50, "3": 50}, "steps": 4,
         "train_seconds": 8.0, "reused": False}))
    return folder


def test_the_per_step_figures_are_read_from_the_ledger_and_the_lora_records(tmp_path):
    found = scaling.measure(synthetic_train_folder(tmp_path), [tmp_path / "cache" / "adapters"])
    assert (found.tasks, found.samples, found.items) == (1, 3, 5)
    assert (found.with_items, found.usable_with_items) == (2, 1)
    assert found.api_calls == {"question_answering": 2, "information_retrieval": 2}
    policy = found.role("policy")
    assert (policy.calls, policy.computed, policy.prompt_tokens) == (7, 6, 240)  # a cache hit: counted, not timed
    assert found.role("judge").calls == 4
    assert (len(found.lora_runs), found.lora_steps, found.lora_examples, found.lora_example_tokens) == (1, 4, 4, 300)
    assert found.wall_s == 120.0


def test_the_script_prints_the_check_and_the_paper_scale_table_from_a_synthetic_ledger(tmp_path, capsys):
    folder = synthetic_train_folder(tmp_path)
    scaling.main([str(folder), "--lora-records", str(tmp_path / "cache" / "adapters"), "--gpus", "1,8"])
    out = capsys.readouterr().out
    assert "| question_answering calls per trajectory | 0.67 | 3 trajectories |" in out
    assert "| examples per LoRA run | 4.00 | 1 runs |" in out
    assert "| judge | - | 4 / " in out  # beside the estimator's figure
    assert "paper scale: 1000 tasks × 3 iterations × K=8 × H=8" in out
    # measured 2/3 QA calls a trajectory where the estimator spreads the 4-call budget evenly (4/3)
    assert "question_answering 0.50" in out
    # two trajectories in three acquired something: 1000 tasks × K=8 × 2/3 LoRA runs an iteration
    assert "- share of trajectories that teach a LoRA: acquired something (n = 3 trajectories): 0.67" in out
    assert "- LoRA runs per iteration: 5,333.3" in out
    rows = [line for line in out.splitlines() if line.startswith("| 1 |") or line.startswith("| 8 |")]
    assert len(rows) == 2 and "LoRA training (policy)" in rows[0]


def test_pooled_folders_sum_their_counts_and_keep_one_copy_of_a_shared_lora_record(tmp_path):
    first = scaling.measure(synthetic_train_folder(tmp_path), [tmp_path / "cache" / "adapters"])
    pooled = scaling.pool([first, first])
    assert (pooled.samples, pooled.with_items, pooled.role("judge").calls) == (6, 4, 8)
    assert len(pooled.lora_runs) == 1
    assert pooled.role("finetune policy").computed == 12  # answers of fine-tuned policies, for their prompt length
