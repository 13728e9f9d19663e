"""The paper-size held-out recipe: `suites build-inhouse --expand-with SPEC --target-size 100`
grows every task to 100 instructions, writes suite files that load by path with 3 observed and
97 held out, and `--max-held-out 97` judges all of them; benchmarks/held_out_size.py shows the
reward noise falling with held-out size (issue 17, item 7)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ads_bench.pipeline.run import held_out_slice
from ads_bench.suites import load_suite
from ads_bench.suites.inhouse.build import BuildConfig, build_inhouse, write_build
from ads_bench.suites.inhouse.clustering import minilm_embedder
from ads_bench.suites.inhouse.expand import RougeL
from ads_bench.suites.inhouse.pool import PoolSource

ROOT = Path(__file__).resolve().parents[1]
POOL = ROOT / "tests" / "data" / "suites" / "pool_small.jsonl"
# made-up words: any two instructions built from them share too little for ROUGE-L > 0.7
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "ve", "zu", "bo", "da"]


@dataclass
class Reply:
    text: str
    error: str | None = None


def self_instruct_double(requests):
    """A test double for the expansion model: a numbered list of distinct, self-contained
    instructions (the real-model path is test_suites_inhouse.py's embedded-model test)."""
    replies = []
    for request in requests:
        rng = random.Random(request.params.seed)
        items = []
        for i in range(8):
            words = ["".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(9)]
            items.append(f"{i + 1}. Explain why the {' '.join(words)} matters.")
        replies.append(Reply("\n".join(items)))
    return replies


@pytest.fixture(scope="module")
def paper_size_build(tmp_path_factory):
    config = BuildConfig(sources=(PoolSource(POOL, "prompt", None, "fixture"),), n_tasks=1, seed=0,
                         mean_cluster_size=7, min_size=5, max_size=10, expand_with="double", target_size=100)
    # the pool's planted AlpacaEval prompt is the one benchmark prompt this recipe needs to meet
    benchmarks = {"alpacaeval": ["What are the names of some famous actors that started their careers on Broadway?"]}
    result = build_inhouse(config, generate=self_instruct_double, embed=minilm_embedder(), benchmarks=benchmarks)
    out = tmp_path_factory.mktemp("paper-size")
    written = write_build(result, out, command="ads-bench suites build-inhouse --expand-with double --target-size 100")
    return result, out, written


def test_every_task_grows_to_100_instructions_that_pass_the_rouge_l_filter(paper_size_build):
    result, _, _ = paper_size_build
    expansion = result.report["expansion"]
    assert expansion["target_size"] == 100 and expansion["tasks_reaching_target"] == len(result.test + result.train)
    rouge = RougeL()
    for task in result.test + result.train:
        assert len(task.instructions) == 100
        grown = task.instructions
        assert all(rouge.max_f1(grown[i], grown[:i]) <= 0.7 for i in range(len(grown) - 95, len(grown)))
        assert sum(source.startswith("self-instruct:double") for source in task.sources) == 100 - len(
            [s for s in task.sources if not s.startswith("self-instruct:")])


def test_the_grown_suites_load_by_path_with_3_observed_and_97_held_out(paper_size_build):
    _, out, written = paper_size_build
    assert {"inhouse-100.yaml", "inhouse-train-100.yaml"} <= set(written)
    for name in ("inhouse-100.yaml", "inhouse-train-100.yaml"):
        suite = load_suite(str(out / name))
        assert suite.name == name.removesuffix(".yaml") and len(suite) >= 1
        assert all(len(t.observed) == 3 and len(t.held_out) == 97 for t in suite)
        judged = held_out_slice(suite.tasks, 97)  # what `run --max-held-out 97` judges
        assert all(len(t.held_out) == 97 for t in judged)
        assert all(not set(t.observed) & set(t.held_out) for t in suite)


def _held_out_size_benchmark():
    import importlib.util

    spec = importlib.util.spec_from_file_location("held_out_size", ROOT / "benchmarks" / "held_out_size.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reward_noise_falls_with_held_out_size_about_as_one_over_the_square_root():
    bench = _held_out_size_benchmark()
    sds = {"trajectory": 0.1, "instruction": 0.15, "noise": 0.25}
    rows = bench.simulate([4, 16, 64], sds, population=100, trajectories=4, tasks=20, resamples=60, seed=1)
    noise = [row["reward_sd"] for row in rows]
    assert noise[0] > noise[1] > noise[2]
    assert noise[0] / noise[1] == pytest.approx(2.0, rel=0.25)  # 4x the instructions: about half the SD
    assert rows[2]["p_same_pair"] > rows[0]["p_same_pair"]  # selection agrees more with the whole population
    for row in rows:
        lo, hi = row["sd_ci"]
        assert lo < row["reward_sd"] < hi and row["n"] == 20 * 60


def test_the_calibration_recovers_the_sds_of_judgments_it_is_fitted_to(tmp_path):
    bench = _held_out_size_benchmark()
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(300):
        quality = 0.5 + rng.standard_normal(4) * 0.1
        difficulty = rng.standard_normal(6) * 0.15
        judged = quality[:, None] + difficulty[None, :] + rng.standard_normal((4, 6)) * 0.2
        samples = [{"reward": float(row.mean()), "n_items": 2, "held_out_rewards": row.tolist()} for row in judged]
        samples.append({"reward": 0.5, "n_items": 0, "held_out_rewards": [0.5]})  # acquired nothing: left out
        lines.append(json.dumps({"held_out": [f"h{i}" for i in range(6)], "samples": samples}))
    (tmp_path / "samples.jsonl").write_text("\n".join(lines) + "\n")
    fitted = bench.calibrate([tmp_path])
    assert fitted["tasks"] == 300 and fitted["cells"] == 300 * 24
    assert fitted["noise"] == pytest.approx(0.2, rel=0.05)
    assert fitted["instruction"] == pytest.approx(0.15, rel=0.15)
    assert fitted["trajectory"] == pytest.approx(0.1, rel=0.2)


def test_the_benchmark_says_its_judgments_are_synthetic_and_prints_n(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "held_out_size.py"), "--sizes", "2,8",
                          "--tasks", "3", "--resamples", "10", "--json", str(tmp_path / "rows.json")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "SYNTHETIC judgments" in out.stdout and "n" in out.stdout.splitlines()[2]
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["held_out"] for r in rows] == [2, 8] and rows[0]["reward_sd"] > rows[1]["reward_sd"]
