"""`ads-bench estimate` / `--dry-run` (issue 14, item 4): before any call, the expected calls,
tokens, model seconds and $ per role, model and API; no call, no run folder; within ±25% of the
ledger once an earlier run has measured the models; a resumed run's finished work shown as done."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import serve  # noqa: E402

from ads_bench.cli.estimates import estimate_evaluate  # noqa: E402
from ads_bench.models.client import Runtime  # noqa: E402
from ads_bench.pipeline.estimate import History  # noqa: E402
from ads_bench.pipeline.evaluate import EvalConfig  # noqa: E402


def _cli(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(workdir / "cache"), "COLUMNS": "160"}
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=300)


def _estimate(workdir: Path, *args: str) -> dict:
    done = _cli(workdir, "estimate", "--json", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _models(server) -> list[str]:
    policy = server.spec(price_in=1, price_out=2, context_window=4096)
    other = server.spec(price_in=1, price_out=2)
    return ["--policy", policy, "--expert", other, "--judge", other, "--optimizer", other]


@pytest.mark.parametrize("strategy", ["rule-qa", "self-instruct", "prompting"])
def test_the_estimate_is_within_a_quarter_of_the_ledger_and_makes_no_call(tmp_path, strategy):
    with serve() as server:
        base = ["--strategy", strategy, "--suite", "inhouse", *_models(server)]
        assert _cli(tmp_path, "run", *base, "--limit", "2", "--seed", "1").returncode == 0  # earlier work
        [earlier] = list((tmp_path / "results").iterdir())
        received = server.stats()["received"]

        printed = _cli(tmp_path, "run", *base, "--limit", "3", "--dry-run")
        assert printed.returncode == 0, printed.stderr[-2000:]
        assert "estimate: " in printed.stdout and "measured" in printed.stdout
        estimate = _estimate(tmp_path, "run", *base, "--limit", "3")
        assert server.stats()["received"] == received  # no call
        assert list((tmp_path / "results").iterdir()) == [earlier]  # no run folder

        assert _cli(tmp_path, "run", *base, "--limit", "3").returncode == 0
    [folder] = [f for f in (tmp_path / "results").iterdir() if f != earlier]
    cost = json.loads((folder / "metrics.json").read_text())["cost"]
    total = estimate["total"]
    assert total["calls"] == cost["run_calls"] + cost["run_api_fees"]
    assert total["prompt_tokens"] + total["completion_tokens"] == pytest.approx(cost["run_tokens"], rel=0.25)
    assert total["usd"] == pytest.approx(cost["run_usd"], rel=0.25)
    # the run recorded the same estimate before its first call, and the leaderboard shows both
    recorded = json.loads((folder / "estimate.json").read_text())
    assert recorded["usd"] == pytest.approx(total["usd"]) and recorded["calls"] == total["calls"]
    board = _cli(tmp_path, "leaderboard", "--results", str(folder), "--format", "csv")
    assert board.returncode == 0, board.stderr[-2000:]
    [row] = csv.DictReader(io.StringIO(board.stdout))
    assert float(row["estimated_usd"]) == pytest.approx(recorded["usd"])
    assert float(row["cost_usd"]) == pytest.approx(cost["run_usd"])


def test_a_resumed_run_shows_its_finished_work_as_done_and_free_and_keeps_its_first_estimate(tmp_path):
    with serve() as server:
        base = ["--strategy", "rule-qa", "--suite", "inhouse", "--limit", "2", *_models(server)]
        assert _cli(tmp_path, "run", *base).returncode == 0
        [folder] = list((tmp_path / "results").iterdir())
        first = (folder / "estimate.json").read_bytes()
        estimate = _estimate(tmp_path, "run", *base)
        assert _cli(tmp_path, "run", *base).returncode == 0  # resumed: nothing left to do
    total = estimate["total"]
    assert total["covered_calls"] == total["calls"] > 0
    assert total["usd"] == 0
    assert (folder / "estimate.json").read_bytes() == first  # not replaced by the resumed run's $0
    assert json.loads(first)["usd"] > 0


def test_call_counts_follow_each_suites_protocol():
    runtime = Runtime.create(use_cache=False)
    spec = "http://127.0.0.1:9/v1::fake?price_in=1&price_out=2"

    def calls(suite: str) -> dict:
        estimate = estimate_evaluate(config=EvalConfig(suite=suite, model=spec, judge=spec, limit=3),
                                     runtime=runtime, history=History())
        return {row["role"]: row["calls"] for row in estimate.to_json()["lines"]}

    assert calls("mt-bench") == {"policy": 6, "judge": 6}  # two turns, each graded
    assert calls("alpacaeval") == {"policy": 3, "judge": 3}  # one random order per prompt
    assert calls("arena-hard") == {"policy": 3, "judge": 6}  # both orders


def test_estimate_takes_the_commands_own_options_and_rejects_bad_ones_in_one_line(tmp_path):
    fake = "http://127.0.0.1:9/v1::fake"
    done = _cli(tmp_path, "estimate", "evaluate", "--suite", "mt-bench", "--limit", "1", "--model", fake,
                "--judge", fake)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "estimate: " in done.stdout and not (tmp_path / "results").exists()
    bad = _cli(tmp_path, "estimate", "run", "--strategy", "no-such-strategy")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_limit_all_means_every_task_and_a_bad_limit_is_one_line(tmp_path):
    fake = "http://127.0.0.1:9/v1::fake"
    estimate = _estimate(tmp_path, "run", "--strategy", "none", "--limit", "all", "--policy",
                         f"{fake}?context_window=4096", "--judge", fake)
    assert estimate["scope"].startswith("none on inhouse: 500 tasks")
    bad = _cli(tmp_path, "run", "--strategy", "none", "--limit", "most")
    assert bad.returncode == 2 and "'most' is not a number of tasks or 'all'" in bad.stderr


def test_an_api_model_is_estimated_without_its_key(tmp_path, monkeypatch):
    """Knowing the price needs no key: an `openai:` judge is priced from the price table."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    runtime = Runtime.create(use_cache=False)
    estimate = estimate_evaluate(config=EvalConfig(suite="arena-hard", model="http://127.0.0.1:9/v1::m?price_in=1",
                                                   judge="openai:gpt-4o-mini", limit=2),
                                 runtime=runtime, history=History()).to_json()
    [judge] = [row for row in estimate["lines"] if row["role"] == "judge"]
    assert judge["calls"] == 4 and judge["usd"] > 0
    assert any("no API key" in note for note in estimate["notes"])


def test_a_program_judge_is_estimated_as_no_judge_call_and_the_suite_picks_it(tmp_path):
    fake = "http://127.0.0.1:9/v1::fake"
    estimate = _estimate(tmp_path, "run", "--suite", "wikifacts", "--strategy", "rag", "--limit", "2",
                         "--policy", fake + "?context_window=4096")
    assert not [line for line in estimate["lines"] if line["role"] == "judge"]
    assert any("program:numeric" in note for note in estimate["notes"])


def test_training_on_a_verified_reward_is_estimated_without_judge_calls(tmp_path):
    estimate = _estimate(tmp_path, "train", "--suite", "wikifacts-train", "--reward", "program:numeric",
                         "--limit", "1", "--iterations", "1", "--samples", "2")
    assert not [line for line in estimate["lines"] if line["role"] == "judge"]
    assert [line for line in estimate["lines"] if line["role"] == "policy"]


def _acquisition_calls(strategy: str, budget_items: int | None) -> dict:
    from ads_bench.cli.estimates import estimate_run
    from ads_bench.pipeline.run import RunConfig

    fake = "http://127.0.0.1:9/v1::fake"
    config = RunConfig(strategy=strategy, suite="wikifacts", judge="program:numeric", limit=2, max_held_out=2,
                       max_calls=8, budget_items=budget_items, policy=fake + "?context_window=4096", expert=fake)
    estimate = estimate_run(config, Runtime.create(use_cache=False), History()).to_json()
    return {line["api"]: line["calls"] for line in estimate["lines"] if line["role"] == "acquisition"}


@pytest.mark.parametrize("strategy", ["rag", "self-instruct", "oracle", "rule-qa"])
def test_rung_0_of_a_budget_ladder_is_estimated_as_no_acquisition(strategy):
    """A budget of 0 items makes no call (strategies/baselines.py, strategies/oracle.py): so says the estimate."""
    assert _acquisition_calls(strategy, 0) == {}


def test_the_oracle_is_estimated_as_one_retrieval_fee_per_source_document():
    # wikifacts' first two tasks, two held-out questions each, every question about its own article
    assert _acquisition_calls("oracle", None) == {"information_retrieval": 4}
    assert _acquisition_calls("oracle", 1) == {"information_retrieval": 2}
