"""``ads-bench run``: every strategy end to end on the embedded model — acquire, teach, answer,
judge — with a run folder that holds it all, resumes, and costs nothing to rerun."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ads_bench.pipeline.run import RunConfig, run_strategy
from ads_bench.strategies import strategy_names

pytestmark = pytest.mark.model

TINY = dict(suite="inhouse", limit=1, max_held_out=1, max_tokens=16, max_calls=2, retrieval_k=1,
            demos_per_call=1, optimizer_max_tokens=200, judge_max_tokens=1, retries=1)


@pytest.fixture(scope="module")
def shared_runtime(tmp_path_factory):
    from ads_bench.models import Runtime

    return Runtime.create(cache_path=tmp_path_factory.mktemp("cache") / "responses.sqlite3")


@pytest.mark.parametrize("strategy", ["none", "prompting", "rule-qa", "rag", "self-instruct", "ir-only",
                                      "demo-only", "qa-only", "ads"])
async def test_every_strategy_completes_and_fills_its_run_folder(strategy, shared_runtime, tmp_path):
    assert strategy in strategy_names()
    # an untrained one stands in for a trained one here (else ads and its ablations train one first)
    optimizer = "embedded" if strategy in ("ads", "ir-only", "demo-only", "qa-only") else None
    config = RunConfig(strategy=strategy, optimizer=optimizer, **TINY)
    folder, metrics = await run_strategy(config, shared_runtime, out=tmp_path / strategy)
    for name in ("config.json", "environment.json", "acquisitions.jsonl", "policies.jsonl", "answers.jsonl",
                 "reference_answers.jsonl", "judgments.jsonl", "metrics.json", "ledger.json"):
        assert (folder.path / name).is_file(), name
    [acquisition] = folder.log("acquisitions").records()
    assert acquisition["strategy"] == strategy and "trajectory" in acquisition
    assert metrics["n_prompts"] == 1 and metrics["acquisition"]["tasks"] == 1
    assert set(metrics["cost"]["by_role"]) >= {"policy", "judge"}
    pairwise = metrics["pairwise"]
    assert pairwise["n_items"] == 1
    assert pairwise["n_failed"] == 1 or 0 <= pairwise["win_rate"] <= 100
    if strategy == "rule-qa":
        assert metrics["acquisition"]["api_calls"] == {"question_answering": 2}  # max_calls=2 binds
        assert metrics["cost"]["by_api"]["question_answering"]["usd"] > 0
    if strategy == "none":
        assert metrics["acquisition"]["api_calls"] == {}


async def test_a_rerun_makes_zero_model_calls(shared_runtime, tmp_path):
    config = RunConfig(strategy="rule-qa", **TINY)
    await run_strategy(config, shared_runtime, out=tmp_path / "run")
    before = shared_runtime.ledger.snapshot()
    await run_strategy(config, shared_runtime, out=tmp_path / "run")
    spent = shared_runtime.ledger.since(before).total()
    assert spent.calls == 0 and spent.cache_hits == 0  # the logs answer everything, not even the cache
    last = json.loads((tmp_path / "run" / "sessions.jsonl").read_text().splitlines()[-1])
    assert last["ledger"]["total"]["calls"] == 0


async def test_a_killed_run_resumes_from_its_logs(shared_runtime, tmp_path):
    config = RunConfig(strategy="rule-qa", **{**TINY, "limit": 2})
    folder, first = await run_strategy(config, shared_runtime, out=tmp_path / "run")
    lines = (folder.path / "judgments.jsonl").read_text().splitlines()
    (folder.path / "judgments.jsonl").write_text(lines[0] + "\n" + lines[1][:20])  # torn mid-write
    (folder.path / "metrics.json").unlink()
    _, second = await run_strategy(config, shared_runtime, out=tmp_path / "run")
    assert second["pairwise"]["n_items"] == 2
    assert second["pairwise"]["win_rate"] == pytest.approx(first["pairwise"]["win_rate"])


def test_the_quickstart_command_line_runs_rule_qa(tmp_path):
    out = tmp_path / "cli"
    result = subprocess.run(
        [sys.executable, "-m", "ads_bench.cli", "run", "--strategy", "rule-qa", "--limit", "1", "--max-held-out", "1",
         "--max-tokens", "16", "--judge-max-tokens", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "win rate" in result.stdout and "question_answering" in result.stdout


@pytest.mark.slow
async def test_the_finetune_learner_teaches_a_lora_policy_in_the_pipeline(shared_runtime, tmp_path):
    config = RunConfig(strategy="rule-qa", learner="finetune", **TINY)
    folder, metrics = await run_strategy(config, shared_runtime, out=tmp_path / "ft")
    [policy] = folder.log("policies").records()
    assert "+lora-" in policy["policy"]
    adapter = policy["details"]["adapter"]
    assert (Path(adapter) / "adapter_config.json").is_file()
    assert policy["details"]["training"]
    [answer] = folder.log("answers").records()
    assert answer["policy"] == policy["policy"] and answer["answers"][0] is not None
    [reference] = folder.log("reference_answers").records()
    assert reference["policy"] == "hf:embedded"  # the same engine as the taught policy, no adapter
