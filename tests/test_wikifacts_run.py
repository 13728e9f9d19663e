"""A short real run of the verifiable suite on the embedded model: the suite's own programmatic
judge is picked when --judge is not given, its records drive the usual metrics, it costs $0, and
a rerun judges again (never cached) to the same result."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ads_bench.cli.run_cmd import run
from ads_bench.errors import UserError

pytestmark = pytest.mark.model

ARGS = ["--suite", "wikifacts", "--limit", "1", "--max-held-out", "2", "--max-tokens", "24"]


def _metrics(folder) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "oracle"
    result = CliRunner().invoke(run, [*ARGS, "--strategy", "oracle", "--out", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_the_suite_default_judge_checks_answers_against_the_truth(oracle_run):
    folder, _ = oracle_run
    config = json.loads((folder / "config.json").read_text())
    assert config["judge"] == "program:numeric" and config["retrieval_k"] == 1
    judgments = [json.loads(line) for line in (folder / "judgments.jsonl").read_text().splitlines()]
    assert len(judgments) == 2
    for record in judgments:
        assert record["judge"] == "program:numeric" and record["judge_model"] == "program"
        assert set(record["scores"]) == {"model", "reference"} and record["truth"]["doc_id"]
        model, reference = record["scores"]["model"], record["scores"]["reference"]
        assert record["preference"] == (1.0 if model > reference else 0.0 if model < reference else 0.5)
    metrics = _metrics(folder)
    assert metrics["pairwise"]["n_items"] == 2 and metrics["pairwise"]["n_failed"] == 0
    assert "judge" not in metrics["cost"]["by_role"]  # no model judged: $0
    assert not any("SmolLM2" in w for w in metrics["warnings"])  # no LLM-judge warning
    # the first two held-out questions: a new article and another fact of an observed one
    assert metrics["acquisition"]["api_calls"] == {"information_retrieval": 2}


def test_a_rerun_judges_again_without_a_model_call_and_agrees(oracle_run, tmp_path):
    folder, _ = oracle_run
    (folder / "judgments.jsonl").unlink()  # never cached: recomputed from the logged answers
    before = _metrics(folder)
    result = CliRunner().invoke(run, [*ARGS, "--strategy", "oracle", "--out", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = _metrics(folder)
    assert after["pairwise"]["win_rate"] == before["pairwise"]["win_rate"]
    assert len((folder / "judgments.jsonl").read_text().splitlines()) == 2


def test_an_explicit_judge_overrides_the_suites_and_a_bad_one_is_a_user_error(tmp_path):
    result = CliRunner().invoke(run, [*ARGS, "--strategy", "none", "--judge", "program:bleu",
                                      "--out", str(tmp_path / "bad")])
    assert isinstance(result.exception, UserError)  # before any model call or run folder
    assert "program:exact or program:f1 or program:numeric or program:regex" in str(result.exception)
    assert not (tmp_path / "bad").exists()


def test_the_suite_recommends_one_document_per_query_unless_the_user_chose(tmp_path):
    from ads_bench.pipeline.run import RunConfig
    from ads_bench.pipeline.suite_defaults import with_suite_defaults

    config = RunConfig(strategy="rag", suite="wikifacts")
    assert with_suite_defaults(config, given=set()).retrieval_k == 1
    assert with_suite_defaults(config, given={"retrieval_k"}).retrieval_k == config.retrieval_k
    assert with_suite_defaults(RunConfig(strategy="rag", suite="inhouse"), given=set()) == RunConfig(
        strategy="rag", suite="inhouse")


def test_rescore_with_a_program_judge_reproduces_the_runs_judgments_and_costs_nothing(oracle_run, tmp_path):
    from ads_bench.cli.rescore_cmd import rescore

    folder, _ = oracle_run
    out = tmp_path / "rescored"
    result = CliRunner().invoke(rescore, [str(folder), "--judge", "program:numeric", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output

    def judged(path):
        return {r["id"]: (r["preference"], r["scores"]) for r in map(json.loads, (path / "judgments.jsonl").open())}

    assert judged(out) == judged(folder)
    assert _metrics(out)["pairwise"]["win_rate"] == _metrics(folder)["pairwise"]["win_rate"]
    assert "judge" not in _metrics(out)["cost"]["by_role"]
    with pytest.raises(UserError, match="program:numeric"):  # the CLI prints it as one line, exit 2
        CliRunner().invoke(rescore, [str(folder), "--judge", "program:bogus", "--out", str(tmp_path / "x")],
                           catch_exceptions=False)
