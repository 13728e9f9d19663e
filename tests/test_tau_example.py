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
