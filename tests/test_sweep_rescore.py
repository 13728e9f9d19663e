"""Sweeps run a grid of runs into one leaderboard and report; rescore re-judges without regenerating."""

import json
from pathlib import Path

import pytest

from ads_bench.cli.sweep_run import grid_configs, read_sweep
from ads_bench.errors import UserError

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_shipped_example_is_a_valid_sweep(path):
    sweep = read_sweep(path)
    configs = grid_configs(sweep)
    assert configs and all(config.policy == "embedded" for _, config in configs)


def test_a_sweep_cell_takes_its_suites_recommended_settings_unless_the_sweep_gives_them(tmp_path):
    path = tmp_path / "facts.yaml"
    path.write_text("base: {suite: wikifacts}\ngrid: {strategy: [none, rag], retrieval_k: [3]}\n")
    for _, config in grid_configs(read_sweep(path)):
        assert config.judge == "program:numeric"  # wikifacts names its judge: the truth is known
        assert config.retrieval_k == 3  # given by the grid
    path.write_text("base: {suite: wikifacts, judge: embedded}\ngrid: {strategy: [rag]}\n")
    [(_, config)] = grid_configs(read_sweep(path))
    assert config.judge == "embedded" and config.retrieval_k == 1  # its own judge; the suite's depth
    path.write_text("base: {suite: inhouse}\ngrid: {strategy: [rag]}\n")
    [(_, config)] = grid_configs(read_sweep(path))
    assert config.judge == "embedded" and config.retrieval_k == 2  # a suite that recommends nothing


def test_the_reviewers_studies_each_have_an_example():
    names = {p.stem for p in EXAMPLES}
    assert names >= {"equal-budget-baselines", "icl-vs-finetune", "scaling-observed", "scaling-data",
                     "clustering-robustness", "single-api-ablations"}


def test_a_bad_sweep_names_the_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("grid: {strategy: [none], temperature_of_the_sun: [1]}\n")
    with pytest.raises(UserError, match="not a run option"):
        read_sweep(path)
    path.write_text("base: {suite: inhouse}\n")
    with pytest.raises(UserError, match="grid"):
        read_sweep(path)


def test_random_grouping_deals_the_same_instructions_into_same_sized_tasks():
    from ads_bench.suites import load_suite
    from ads_bench.suites.grouping import random_grouping

    tasks = load_suite("inhouse", limit=3).tasks
    regrouped = random_grouping(tasks, seed=1)
    assert sorted(t for task in tasks for t in task.instructions) == sorted(
        t for task in regrouped for t in task.instructions)
    assert [len(t.instructions) for t in tasks] == [len(t.instructions) for t in regrouped]
    assert [len(t.observed) for t in tasks] == [len(t.observed) for t in regrouped]
    assert random_grouping(tasks, seed=1) == regrouped


@pytest.mark.model
async def test_a_sweep_runs_its_grid_into_a_leaderboard_and_report(fresh_runtime, tmp_path):
    from ads_bench.cli.sweep_run import run_sweep

    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\n"
        "base: {suite: inhouse, limit: 1, max_held_out: 1, max_tokens: 16, max_calls: 1, judge_max_tokens: 1}\n"
        "grid: {strategy: [none, rule-qa], grouping: [careful, random]}\n"
        "baseline: none\n"
    )
    folder, rows = await run_sweep(path, fresh_runtime, out=tmp_path / "results")
    assert len(rows) == 4
    assert len([p for p in folder.iterdir() if (p / "metrics.json").is_file()]) == 4
    board = (folder / "leaderboard.md").read_text()
    assert "rule-qa" in board and "none" in board
    assert (folder / "report.html").stat().st_size > 10_000


@pytest.mark.model
async def test_rescore_judges_again_without_regenerating_answers(fresh_runtime, tmp_path):
    from ads_bench.pipeline.rescore import rescore_run
    from ads_bench.pipeline.run import RunConfig, run_strategy

    config = RunConfig(strategy="rule-qa", limit=1, max_held_out=1, max_tokens=16, max_calls=1, judge_max_tokens=1)
    source, _ = await run_strategy(config, fresh_runtime, out=tmp_path / "source")
    before = fresh_runtime.ledger.snapshot()
    folder, metrics = await rescore_run(source.path, "embedded", fresh_runtime, judge_config="mt_bench_pair",
                                        judge_max_tokens=24, retries=0, out=tmp_path / "rescored")
    spent = fresh_runtime.ledger.since(before)
    assert spent.total(role="policy").calls == 0 and spent.total(role="expert").calls == 0
    assert spent.total(role="judge").calls == 2  # one new judgment, both orders
    [judgment] = folder.log("judgments").records()
    assert judgment["judge"] == "mt_bench_pair"
    assert json.loads((folder.path / "config.json").read_text())["source"] == str(source.path.resolve())
    assert metrics["pairwise"]["n_items"] == 1
    with pytest.raises(UserError, match="not a finished run folder"):
        await rescore_run(tmp_path, "embedded", fresh_runtime)
