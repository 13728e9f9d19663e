"""examples/tau_api_mix.py: its config is a valid `ads-bench train` config, and it reads the API
mix of sampled and chosen trajectories per iteration from a train folder, with n."""

import importlib.util
from pathlib import Path

import pytest

from ads_bench.config import read_config_file
from ads_bench.optimizer.trainer import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location("tau_api_mix", ROOT / "examples" / "tau_api_mix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_config_is_a_train_config():
    config = TrainConfig(**read_config_file(ROOT / "examples" / "train" / "tau-api-mix.yaml"))
    assert config.iterations >= 2  # a later iteration samples the optimizer trained at that tau


def test_the_api_mix_of_sampled_and_chosen_trajectories_is_read_per_iteration_with_n():
    mixes = _example().mixes(ROOT / "tests" / "data" / "runs" / "train-smoke")
    assert set(mixes) == {0, 1}
    sampled, chosen = mixes[0]["sampled"], mixes[0]["chosen"]
    # the fixture: 2 tasks x 2 parsed samples, each with 2 QA calls; one chosen per task
    assert (sampled["n_calls"], sampled["n_trajectories"], sampled["share"]) == (8, 4, {"QA": 1.0})
    assert (chosen["n_calls"], chosen["n_trajectories"]) == (4, 2)
    assert sampled["mean_cost_usd"] == pytest.approx(0.1)
    assert "QA 100% (n=8 calls in 4 trajectories" in _example().describe(sampled)


def test_iteration_0_is_reselected_at_every_tau_from_exact_rewards_only(tmp_path):
    import json

    from ads_bench.optimizer.racing import reward_fields

    def sample(k, reward, cost, api, exact=True):
        judged = [reward, reward] if exact else [reward]
        return {"k": k, "reward": reward, "cost_usd": cost, "api_counts": {api: 1}, "parse_error": None,
                **reward_fields(reward, judged, 2)}

    # good and dear QA vs slightly worse and cheap IR: tau 0 takes QA, a wider tier the cheaper IR
    record = {"iteration": 0, "samples": [sample(0, 0.60, 0.05, "question_answering"),
                                          sample(1, 0.55, 0.005, "information_retrieval"),
                                          sample(2, 0.30, 0.001, "demonstration_generation")]}
    raced = {"iteration": 0, "samples": [sample(0, 0.6, 0.05, "question_answering", exact=False),
                                         sample(1, 0.5, 0.005, "information_retrieval")]}
    (tmp_path / "samples.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(raced) + "\n")
    mixes = _example().reselected(tmp_path, [0.0, 0.5])
    assert mixes[0.0]["share"] == {"QA": 1.0} and mixes[0.5]["share"] == {"IR": 1.0}
    assert (mixes[0.0]["tasks"], mixes[0.0]["tasks_left_out"]) == (1, 1)
