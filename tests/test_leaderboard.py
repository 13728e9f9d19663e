"""``ads-bench leaderboard``: scores with CIs, paired significance vs a baseline, formats, bad input.

Fixtures: tests/data/runs (see build_fixtures.py there): ``none-inhouse`` (no gain), ``rule-qa-inhouse``
(a clear gain, one failed judgment), ``ads-partial`` (killed), ``mt-bench-eval`` (1-10 grades),
``train-smoke`` (an optimizer training run).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from run_folders import write_run

from ads_bench.cli import main
from ads_bench.errors import UserError
from ads_bench.judging.metrics import separability
from ads_bench.reporting.leaderboard import MT_BENCH, WIN_RATE, build_leaderboard, load_leaderboard
from ads_bench.reporting.run_data import RunData

RUNS = Path(__file__).parent / "data" / "runs"


def entry_named(board, name):
    [entry] = [e for e in board.entries if e.name == name]
    return entry


def copy_run(name: str, target: Path, **config_changes) -> Path:
    folder = target / config_changes.pop("folder", name)
    shutil.copytree(config_changes.pop("source", RUNS) / name, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def preferences(folder: Path) -> dict[str, float]:
    records = [json.loads(line) for line in (folder / "judgments.jsonl").read_text().splitlines()]
    return {r["id"]: r["preference"] for r in records if r["preference"] is not None}


def twelve_task_runs(target: Path) -> tuple[Path, Path]:
    """A none baseline near parity and a clearly better rule-qa run (one failed judgment), on 12
    tasks of 2 prompts: enough tasks for a CI and a p-value."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.4, 0.6, size=(12, 2))
    gain = np.clip(base + rng.uniform(0.25, 0.4, size=base.shape), 0, 1).tolist()
    gain[3][1] = None
    return write_run(target / "none-12", "none", base.tolist()), write_run(target / "rule-qa-12", "rule-qa", gain)


def test_a_clear_gain_over_the_none_baseline_is_significant(tmp_path):
    none, rule_qa = twelve_task_runs(tmp_path)
    board = load_leaderboard([none, rule_qa])
    gain = entry_named(board, "rule-qa-12")
    assert gain.baseline == "none-12"
    # the paired difference is the mean over the prompts both judged (the failed one is left out)
    ours, theirs = preferences(rule_qa), preferences(none)
    common = sorted(set(ours) & set(theirs))
    assert gain.n_paired == len(common) == 23
    assert gain.difference == pytest.approx(100 * np.mean([ours[i] - theirs[i] for i in common]))
    assert 0 < gain.difference_lower < gain.difference < gain.difference_upper
    assert gain.p_value < 0.01
    assert gain.significance == "***"
    assert entry_named(board, "none-12").significance == "baseline"


def test_the_six_task_fixtures_are_too_few_for_a_p_value():
    board = load_leaderboard([RUNS / "none-inhouse", RUNS / "rule-qa-inhouse"])
    gain = entry_named(board, "rule-qa-inhouse")
    assert gain.baseline == "none-inhouse" and gain.n_paired == 11 and gain.n_paired_tasks == 6
    assert gain.difference > 0 and gain.p_value is None and gain.significance == ""
    assert gain.difference_lower is None and gain.ci_lower is None
    assert gain.ci_note == "too few tasks for a CI (n=6)"


def test_identical_runs_are_not_significant(tmp_path):
    none, _ = twelve_task_runs(tmp_path)
    copy_run("none-12", tmp_path, folder="twin", strategy="twin", source=tmp_path)
    board = load_leaderboard([none, tmp_path / "twin"])
    twin = entry_named(board, "twin")
    assert twin.difference == 0.0
    assert twin.p_value == 1.0
    assert twin.significance == "n.s."


def test_scores_carry_95_percent_confidence_intervals(tmp_path):
    none, rule_qa = twelve_task_runs(tmp_path)
    board = load_leaderboard([none, rule_qa])
    for entry in board.complete:
        assert entry.ci_lower <= entry.score <= entry.ci_upper, entry.name
    gain = entry_named(board, "rule-qa-12")
    metrics = json.loads((rule_qa / "metrics.json").read_text())["pairwise"]
    assert (gain.metric, gain.score) == (WIN_RATE, metrics["win_rate"])
    assert (gain.ci_lower, gain.ci_upper) == pytest.approx((metrics["ci_lower"], metrics["ci_upper"]))


def test_fixtures_of_few_tasks_state_why_they_have_no_interval():
    board = load_leaderboard([RUNS])
    gain = entry_named(board, "rule-qa-inhouse")
    assert gain.ci_lower is None and gain.ci_note == "too few tasks for a CI (n=6)"
    # an MT-Bench run: its grades (the failed grade left out) over 3 questions
    graded = entry_named(board, "mt-bench-eval")
    assert graded.metric == MT_BENCH and graded.score == pytest.approx(6.0)
    assert graded.ci_lower is None and graded.ci_note == "too few tasks for a CI (n=3)"
    assert (graded.n_judged, graded.n_failed) == (5, 1)


def test_rows_are_sorted_by_score_within_a_suite_and_carry_cost_and_api_mix():
    board = load_leaderboard([RUNS])
    inhouse = [e.name for e in board.entries if e.suite == "inhouse" and e.status == "complete"]
    assert inhouse == ["rule-qa-inhouse", "none-inhouse"]
    gain = entry_named(board, "rule-qa-inhouse")
    ledger = json.loads((RUNS / "rule-qa-inhouse" / "ledger.json").read_text())
    assert gain.cost_usd == pytest.approx(ledger["total"]["cost_usd"])
    assert gain.tokens == ledger["total"]["tokens"]
    assert gain.model_calls == 48 and gain.api_calls == 12  # fee rows are API calls, not model calls
    assert gain.api_mix == {"question_answering": 1.0}


def test_incomplete_runs_are_listed_last_not_crashed_on():
    board = load_leaderboard([RUNS])
    partial = board.entries[-1]
    assert partial.name == "ads-partial" and partial.status == "incomplete"
    assert "no metrics.json" in partial.note and "1 answers" in partial.note
    assert partial.score is None and partial.difference is None


def test_train_folders_are_named_as_not_rows():
    board = load_leaderboard([RUNS])
    assert "train-smoke" not in [e.name for e in board.entries]
    assert any("train-smoke" in note for note in board.footnotes())


def test_separability_is_the_share_of_rows_whose_cis_do_not_overlap(tmp_path):
    none, rule_qa = twelve_task_runs(tmp_path)
    copy_run("none-12", tmp_path, folder="twin", strategy="twin", source=tmp_path)
    board = load_leaderboard([none, rule_qa, tmp_path / "twin"])
    rows = [e for e in board.entries if e.suite == "inhouse"]
    expected = separability([e.ci_lower for e in rows], [e.ci_upper for e in rows])
    assert board.separability == {"inhouse, win rate %": pytest.approx(expected)}
    assert expected == pytest.approx(2 / 3)  # the twins overlap; each is apart from rule-qa


def test_an_evaluate_run_is_a_baseline_paired_on_common_prompt_ids(tmp_path):
    folder = copy_run("none-inhouse", tmp_path, folder="evaluated", kind="evaluate", model="embedded")
    config = json.loads((folder / "config.json").read_text())
    del config["strategy"]
    (folder / "config.json").write_text(json.dumps(config))
    lines = (folder / "judgments.jsonl").read_text().splitlines()
    (folder / "judgments.jsonl").write_text("\n".join(lines[:6]) + "\n")  # it judged half the prompts
    board = load_leaderboard([folder, RUNS / "rule-qa-inhouse"])
    assert entry_named(board, "evaluated").strategy == "none"
    gain = entry_named(board, "rule-qa-inhouse")
    assert gain.baseline == "evaluated"
    assert gain.n_paired == 5  # the first 6 prompts, less the one rule-qa's judge failed on


def test_runs_without_a_baseline_keep_an_empty_difference_and_say_why():
    board = load_leaderboard([RUNS / "rule-qa-inhouse"])
    [gain] = board.entries
    assert gain.difference is None and gain.p_value is None
    assert "no baseline run (strategy none) on inhouse" in gain.note


def test_baseline_can_name_another_strategy(tmp_path):
    board = load_leaderboard([RUNS / "none-inhouse", RUNS / "rule-qa-inhouse"], baseline="rule-qa")
    loss = entry_named(board, "none-inhouse")
    assert loss.baseline == "rule-qa-inhouse" and loss.difference < 0
    assert loss.significance == ""  # 6 tasks: too few for a p-value


def test_single_grade_runs_pair_only_with_single_grade_runs(tmp_path):
    copy_run("mt-bench-eval", tmp_path, folder="graded-twin", kind="run", strategy="rule-qa")
    board = load_leaderboard([RUNS / "mt-bench-eval", tmp_path / "graded-twin", RUNS / "none-inhouse"])
    twin = entry_named(board, "graded-twin")
    assert twin.baseline == "mt-bench-eval" and twin.difference == 0.0 and twin.n_paired == 5


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_prints_scores_cis_and_paired_significance(capsys):
    code, out, _ = run_cli(capsys, "leaderboard", str(RUNS / "none-inhouse"), str(RUNS / "rule-qa-inhouse"))
    assert code == 0
    metrics = json.loads((RUNS / "rule-qa-inhouse" / "metrics.json").read_text())["pairwise"]
    assert f"{metrics['win_rate']:.1f}" in out and "too few" in out
    assert "n too" in out and "baseline" in out and "***" not in out.split("paired difference")[0]
    assert "paired difference" in out


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html"])
def test_formats_are_written_atomically_and_parse_back(tmp_path, capsys, fmt):
    out_file = tmp_path / f"board.{fmt}"
    code, _, _ = run_cli(capsys, "leaderboard", "--results", str(RUNS), "--format", fmt, "--out", str(out_file))
    assert code == 0
    text = out_file.read_text()
    assert not list(tmp_path.glob(".*.tmp"))
    names = ["rule-qa-inhouse", "none-inhouse", "mt-bench-eval", "ads-partial"]
    if fmt == "json":
        data = json.loads(text)
        assert [e["name"] for e in data["entries"]] == names
        assert data["entries"][0]["significance"] == "" and data["entries"][0]["p_value"] is None  # 6 tasks
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["name"] for r in rows] == names
        assert rows[0]["p_value"] == "" and rows[-1]["status"] == "incomplete"  # 6 tasks: no p-value
        assert rows[0]["api_mix"] == "question_answering=1.0000"
    elif fmt == "md":
        table = [line for line in text.splitlines() if line.startswith("|")]
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
        assert cells[0][:2] == ["#", "run"] and [row[1] for row in cells[2:]] == names
        assert all(len(row) == len(cells[0]) for row in cells)
    else:
        assert text.startswith("<!doctype html>") and "rule-qa-inhouse" in text and "<table" in text


def test_a_format_without_out_goes_to_stdout_alone(capsys):
    code, out, _ = run_cli(capsys, "leaderboard", "--results", str(RUNS), "--format", "json")
    assert code == 0
    assert json.loads(out)["baseline"] == "none"


def test_the_format_follows_the_out_suffix(tmp_path, capsys):
    code, _, _ = run_cli(capsys, "leaderboard", str(RUNS / "none-inhouse"), "--out", str(tmp_path / "b.csv"))
    assert code == 0 and (tmp_path / "b.csv").read_text().startswith("name,")


@pytest.mark.parametrize(
    "args, message",
    [
        (["/no/such/folder"], "does not exist"),
        (["--baseline", "nothing-like-this", str(RUNS)], "no complete run with strategy or name"),
        (["--out", "board.xyz", str(RUNS)], "cannot tell the format"),
    ],
)
def test_bad_input_is_one_line_user_error(capsys, args, message):
    code, out, err = run_cli(capsys, "leaderboard", *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_folders_without_runs_and_broken_configs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no run folders"):
        load_leaderboard([tmp_path])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_leaderboard([broken])
    with pytest.raises(UserError, match="only train folders"):
        build_leaderboard([RunData.load(RUNS / "train-smoke")])


def test_model_folders_inside_a_results_folder_are_not_runs(tmp_path):
    shutil.copytree(RUNS / "none-inhouse", tmp_path / "none-inhouse")
    (tmp_path / "merged-model").mkdir()
    (tmp_path / "merged-model" / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"]}))
    assert [e.name for e in load_leaderboard([tmp_path]).entries] == ["none-inhouse"]
