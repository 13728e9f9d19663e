"""``ads-bench evaluate``: a suite answered and judged for real, resumable, re-scorable."""

import json
import subprocess
import sys

import pytest

from ads_bench.pipeline.evaluate import EvalConfig, run_evaluation

pytestmark = pytest.mark.model

SMALL = dict(model="embedded", judge="embedded", max_tokens=24, judge_max_tokens=24, retries=0)


def ads(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args],
                          capture_output=True, text=True, timeout=900, env=env)


def test_mt_bench_runs_for_real_and_the_rerun_makes_zero_model_calls(tmp_path):
    out = tmp_path / "run"
    args = ["evaluate", "--suite", "mt-bench", "--model", "embedded", "--judge", "embedded", "--limit", "3",
            "--max-tokens", "24", "--judge-max-tokens", "32", "--retries", "0", "--out", str(out)]
    first = ads(*args)
    assert first.returncode == 0, first.stderr
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 3 and all(len(a["answers"]) == 2 for a in answers)  # two turns each
    judgments = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert len(judgments) == 6  # one grade per turn
    assert all(j["attempts"][0]["raw"] is not None for j in judgments)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["single"]["n_items"] == 6
    assert metrics["single"]["n_failed"] + metrics["single"]["average"]["n"] == 6
    for name in ("config.json", "environment.json", "ledger.json", "mt_bench_single.jsonl"):
        assert (out / name).is_file()
    environment = json.loads((out / "environment.json").read_text())
    assert "xllamacpp" in environment["packages"] and "git" in environment

    second = ads(*args)
    assert second.returncode == 0, second.stderr
    last_session = json.loads((out / "sessions.jsonl").read_text().splitlines()[-1])
    assert last_session["ledger"]["total"]["calls"] == 0


async def test_a_killed_run_resumes_computing_only_what_is_missing(fresh_runtime, tmp_path):
    config = EvalConfig(suite="alpacaeval", limit=3, **SMALL)
    folder, _ = await run_evaluation(config, fresh_runtime, out=tmp_path / "run")
    answers = (folder.path / "answers.jsonl").read_text().splitlines()
    judgments = (folder.path / "judgments.jsonl").read_text().splitlines()
    # as if killed while writing: the last answer and judgment lost, a torn line left behind
    (folder.path / "answers.jsonl").write_text("\n".join(answers[:2]) + "\n" + answers[2][:30])
    (folder.path / "judgments.jsonl").write_text("\n".join(judgments[:2]) + "\n")
    fresh_runtime.cache = None  # count engine calls, not cache hits
    before = fresh_runtime.ledger.snapshot()
    folder, metrics = await run_evaluation(config, fresh_runtime, out=tmp_path / "run")
    spent = fresh_runtime.ledger.since(before)
    assert spent.total(role="policy").calls == 1  # one answer redone
    assert spent.total(role="judge").calls == 1  # its judgment, in alpacaeval's one random order
    assert len((folder.path / "answers.jsonl").read_text().splitlines()) == 3
    assert metrics["pairwise"]["n_items"] == 3


async def test_our_annotations_rescore_to_the_same_win_rate(fresh_runtime, tmp_path):
    folder, metrics = await run_evaluation(EvalConfig(suite="alpacaeval", limit=3, **SMALL), fresh_runtime,
                                           out=tmp_path / "run")
    scored = ads("score", str(folder.path / "annotations.json"), "--json")
    assert scored.returncode == 0, scored.stderr
    rescored = json.loads(scored.stdout)
    assert rescored["win_rate"] == pytest.approx(metrics["pairwise"]["win_rate"])
    assert rescored["n_failed"] == metrics["pairwise"]["n_failed"]


async def test_a_folder_of_another_configuration_is_never_overwritten(fresh_runtime, tmp_path):
    from ads_bench.errors import UserError

    await run_evaluation(EvalConfig(suite="alpacaeval", limit=1, **SMALL), fresh_runtime, out=tmp_path / "run")
    with pytest.raises(UserError, match="another configuration"):
        await run_evaluation(EvalConfig(suite="alpacaeval", limit=2, **SMALL), fresh_runtime, out=tmp_path / "run")


def test_an_unknown_suite_is_one_line():
    result = ads("evaluate", "--suite", "nope")
    assert result.returncode == 2 and "unknown suite" in result.stderr and "Traceback" not in result.stderr


def test_an_lm_eval_task_is_answered_and_scored_by_lm_evals_own_metrics(tmp_path):
    out = tmp_path / "gsm"
    result = ads("evaluate", "--suite", "lm-eval:gsm8k@tests/data/suites/lm_eval/gsm8k", "--limit", "2",
                 "--max-tokens", "48", "--out", str(out))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["lm_eval"]) == {"exact_match,strict-match", "exact_match,flexible-extract"}
    assert all(block["n"] == 2 and 0 <= block["mean"] <= 1 for block in metrics["lm_eval"].values())
    assert not (out / "sessions.jsonl").read_text().count('"role": "judge"')  # no LLM judge involved
