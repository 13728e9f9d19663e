"""Suites declared in YAML, how they are found, validated and reported; entry points."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ads_bench.cli.suites_cmd import suites as suites_cli
from ads_bench.errors import UserError
from ads_bench.suites import (
    Suite,
    Task,
    load_suite,
    load_suite_file,
    register_suite,
    suite_table,
    unregister_suite,
    validate_suite_file,
)

FIXTURES = Path(__file__).parent / "data" / "suites"
TOY = FIXTURES / "toy.yaml"


def test_a_grouped_yaml_suite_makes_one_task_per_group_with_a_seeded_split():
    suite = load_suite_file(TOY)
    assert suite.name == "toy" and suite.kind == "yaml"
    # the 'tiny' task has 2 instructions: too few for 3 observed + 2 held-out, so it is skipped
    assert [t.id for t in suite] == ["translate-fr", "haiku"]
    assert suite.metadata["skipped_too_small"] == 1
    french = suite.task("translate-fr")
    assert len(french.observed) == 3 and len(french.held_out) == 3
    assert french.category == "translation"
    # references follow the held-out instructions, from the same rows
    assert french.reference_for("Translate 'good morning' into French.") in (None, ("Bonjour.",))
    for index, prompt in enumerate(french.held_out):
        assert french.reference(index) is not None
        assert french.reference_for(prompt) == french.reference(index)
    assert french.metadata["reference_model"] == "human"


def test_the_split_is_deterministic_per_seed_and_n_observed_can_be_overridden():
    first = load_suite_file(TOY, seed=0)
    assert [t.observed for t in first] == [t.observed for t in load_suite_file(TOY, seed=0)]
    other_seeds = [load_suite_file(TOY, seed=s) for s in range(1, 6)]
    assert any([t.observed for t in s] != [t.observed for t in first] for s in other_seeds)
    wider = load_suite_file(TOY, n_observed=1)
    assert all(len(t.observed) == 1 for t in wider)
    assert [t.id for t in wider] == ["translate-fr", "haiku"]  # 'tiny' still has < 1 + 2


def test_yaml_files_in_the_tasks_folder_are_registered_by_name(tmp_path, monkeypatch):
    shutil.copy(TOY, tmp_path / "toy.yaml")
    shutil.copy(FIXTURES / "toy.jsonl", tmp_path / "toy.jsonl")
    monkeypatch.setenv("ADS_BENCH_TASKS_DIR", str(tmp_path))
    suite = load_suite("toy", seed=3)
    assert [t.id for t in suite] == ["translate-fr", "haiku"]
    assert suite.metadata["seed"] == 3
    assert {row["name"] for row in suite_table()} == {"toy", "lm-eval:<task>"}
    with pytest.raises(UserError, match="known suites: toy"):
        load_suite("mt-bench")


def test_a_suite_can_be_loaded_by_the_path_of_its_yaml():
    assert len(load_suite(str(TOY))) == 2


def test_python_suites_register_with_a_decorator():
    @register_suite("demo-python", description="two prompts")
    def demo(*, seed, n_observed):
        return [
            Task(id=str(i), suite="demo-python", category="", observed=(p,), held_out=(p,))
            for i, p in enumerate(["hi", "bye"])
        ]

    try:
        suite = load_suite("demo-python")
        assert isinstance(suite, Suite) and [t.held_out for t in suite] == [("hi",), ("bye",)]
        assert any(row["name"] == "demo-python" and row["tasks"] == 2 for row in suite_table())
    finally:
        unregister_suite("demo-python")


class FakeEntryPoint:
    def __init__(self, name, target):
        self.name, self.value, self._target = name, f"fake_plugin:{name}", target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def test_entry_points_in_the_ads_bench_suites_group_become_suites(monkeypatch):
    from ads_bench.suites import _registry

    def plugin(*, seed, n_observed):
        return Suite(
            "plugin-suite",
            (Task(id="a", suite="plugin-suite", category="x", observed=("q",), held_out=("q",)),),
        )

    points = [
        FakeEntryPoint("plugin-suite", plugin),
        FakeEntryPoint("broken-suite", ImportError("no module")),
    ]
    monkeypatch.setattr(
        _registry.importlib.metadata,
        "entry_points",
        lambda group: points if group == "ads_bench.suites" else [],
    )
    assert [t.id for t in load_suite("plugin-suite")] == ["a"]
    with pytest.raises(UserError, match="broken-suite.*failed to import"):
        load_suite("broken-suite")
    rows = {row["name"]: row for row in suite_table()}
    assert rows["plugin-suite"]["kind"] == "entry-point" and "error" in rows["broken-suite"]


def test_validate_reports_what_it_found():
    report = validate_suite_file(TOY)
    assert report["tasks"] == 2 and report["rows"] == 13 and report["skipped_too_small"] == 1
    assert report["categories"] == {"poetry": 1, "translation": 1}
    assert report["references"]["tasks_with_references"] == 2


def write(tmp_path: Path, text: str, data: str | None = None) -> Path:
    (tmp_path / "data.jsonl").write_text(
        data if data is not None else '{"q": "a"}\n{"q": "b"}\n', encoding="utf-8"
    )
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("name: x\nfields: {instruction: q}\n", "needs `data:`"),
        ("data: data.jsonl\nfields: {instruction: q}\n", "needs `name:`"),
        (
            "name: x\ndata: data.jsonl\nfields: {prompt: q}\n",
            r"unknown key\(s\) \['prompt'\] in fields",
        ),
        ("name: x\ndata: missing.jsonl\nfields: {instruction: q}\n", "does not exist"),
        (
            "name: x\ndata: data.jsonl\nfields: {instruction: question}\n",
            "no field 'question'.*fields are: q",
        ),
        (
            "name: x\ndata: data.jsonl\nlayout: stacked\nfields: {instruction: q}\n",
            "layout: stacked",
        ),
        (
            "name: x\ndata: data.jsonl\nlayout: grouped\nfields: {instruction: q}\n",
            "needs `fields.task`",
        ),
        (
            "name: x\ndata: data.jsonl\nfields: {instruction: q}\njudge: {mode: elo}\n",
            "judge.mode: elo",
        ),
        (
            "name: x\ndata: data.jsonl\nfields: {instruction: q}\nsplit: {n_observed: -1}\n",
            "split.n_observed",
        ),
        ("name: x\ndata: [unclosed\n", "not valid YAML"),
        ("name: 'lm-eval:x'\ndata: data.jsonl\nfields: {instruction: q}\n", "may not contain ':'"),
    ],
)
def test_validate_gives_one_clear_error_for_a_bad_suite_file(tmp_path, yaml_text, message):
    with pytest.raises(UserError, match=message):
        validate_suite_file(write(tmp_path, yaml_text))


def test_validate_fails_when_no_task_can_be_split(tmp_path):
    path = write(
        tmp_path, "name: x\ndata: data.jsonl\nlayout: grouped\nfields: {instruction: q, task: q}\n"
    )
    with pytest.raises(UserError, match="no task has 3 observed"):
        validate_suite_file(path)


def test_validate_fails_when_no_reference_joins(tmp_path):
    (tmp_path / "refs.jsonl").write_text('{"id": 99, "answer": "z"}\n', encoding="utf-8")
    path = write(
        tmp_path,
        "name: x\ndata: data.jsonl\nfields: {instruction: q, id: q}\n"
        "references: {file: refs.jsonl, key: q, file_key: id, answer: answer}\n",
    )
    with pytest.raises(UserError, match="no data row matched a reference"):
        validate_suite_file(path)


def test_the_validate_command_prints_findings_or_one_error_line(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(suites_cli, ["validate", str(TOY)])
    assert ok.exit_code == 0, ok.output
    assert "ok:" in ok.output and "tasks" in ok.output and "translation" in ok.output
    as_json = runner.invoke(suites_cli, ["validate", str(TOY), "--json"])
    assert json.loads(as_json.output)["name"] == "toy"

    bad = runner.invoke(
        suites_cli,
        [
            "validate",
            str(write(tmp_path, "name: x\ndata: data.jsonl\nfields: {instruction: nope}\n")),
        ],
    )
    assert isinstance(bad.exception, UserError) and "no field 'nope'" in str(bad.exception)


def test_the_shipped_suite_files_all_validate():
    from ads_bench import paths

    files = sorted(paths.REPO_DIR.joinpath("tasks").glob("*.yaml"))
    assert {f.stem for f in files} >= {
        "alpacaeval",
        "arena-hard",
        "mt-bench",
        "mt-bench-fixed-refs",
        "inhouse",
        "inhouse-train",
    }
    for file in files:
        assert validate_suite_file(file)["tasks"] > 0


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    from ads_bench.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def test_ads_bench_suites_validate_runs_from_the_main_command(capsys, tmp_path):
    from ads_bench.cli import main

    main(["suites", "validate", str(TOY)])  # success returns normally
    assert "ok:" in capsys.readouterr().out
    bad = write(tmp_path, "name: x\ndata: data.jsonl\nfields: {instruction: nope}\n")
    code, _, err = run_main(["suites", "validate", str(bad)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error:") and "no field 'nope'" in err
