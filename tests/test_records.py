"""Run-folder records are typed and versioned: each is checked against its schema and stamped
with ``schema_version`` when written; a folder from a newer release is one clear line, and a
folder written before versioning (``tests/fixtures/run_before_schema_version``: a real rule-qa
run on the embedded model) still reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ads_bench.errors import UserError
from ads_bench.records import SCHEMA_VERSION, SCHEMAS, validate
from ads_bench.store.run_folder import RunFolder
from ads_bench.utils.jsonl import JsonlLog

FIXTURE = Path(__file__).parent / "fixtures" / "run_before_schema_version"
LOGS = ("acquisitions", "policies", "answers", "reference_answers", "judgments", "ledger", "sessions")


def ads(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_every_record_of_a_folder_from_before_versioning_fits_its_schema_as_version_0():
    for name in LOGS:
        records = JsonlLog(FIXTURE / f"{name}.jsonl").records()
        assert records, name
        for record in records:
            assert "schema_version" not in record
            assert validate(name, record, name).schema_version == 0
    assert validate("metrics.json", RunFolder(FIXTURE).read_json("metrics.json"), "metrics").schema_version == 0


def test_a_folder_from_before_versioning_still_makes_a_leaderboard():
    done = ads("leaderboard", str(FIXTURE), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "rule-qa" in done.stdout


def test_a_run_folder_stamps_each_record_and_metrics_but_not_its_config(tmp_path):
    folder = RunFolder.open(tmp_path / "run", {"strategy": "none"}, kind="run")
    folder.log("answers").append({"id": "t#0", "answers": ["hi"], "failed": False})
    folder.log("judgments").append({"id": "t#0", "preference": 0.5, "orders": []})
    folder.log("judgments").append({"id": "t#1/turn1", "score": 7.0})  # a grade
    folder.write_json("metrics.json", {"n_prompts": 1})
    for record in folder.log("answers").records() + folder.log("judgments").records():
        assert record["schema_version"] == SCHEMA_VERSION
    assert folder.read_json("metrics.json") == {"n_prompts": 1, "schema_version": SCHEMA_VERSION}
    assert "schema_version" not in folder.config  # its digest names the folder: unchanged


def test_a_record_that_does_not_fit_its_schema_fails_where_it_is_written(tmp_path):
    folder = RunFolder.open(tmp_path / "run", {"strategy": "none"}, kind="run")
    with pytest.raises(ValueError, match="judgments record.*preference"):
        folder.log("judgments").append({"id": "t#0", "preference": "much better"})
    assert not (folder.path / "judgments.jsonl").exists()


def test_a_folder_from_a_newer_release_is_one_line_saying_to_upgrade(tmp_path):
    newer = tmp_path / "newer"
    shutil.copytree(FIXTURE, newer)
    lines = (newer / "judgments.jsonl").read_text(encoding="utf-8").splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "schema_version": SCHEMA_VERSION + 1})
    (newer / "judgments.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = ads("leaderboard", str(newer))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "newer ads-bench" in done.stderr and "upgrade" in done.stderr


def test_newer_metrics_are_refused_by_the_run_folder(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(UserError, match="newer ads-bench"):
        RunFolder(tmp_path).read_json("metrics.json")


def test_every_record_kind_of_a_run_has_a_schema():
    assert set(LOGS) | {"metrics.json"} <= set(SCHEMAS)
