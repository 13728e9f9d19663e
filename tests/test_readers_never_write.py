"""Readers never write (issue 12, item 10): opening or reading a JSONL log leaves its bytes alone;
only the writer, on its first append, repairs a torn tail; garbage lines are skipped and named."""

from __future__ import annotations

import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ads_bench.utils.jsonl import JsonlLog

RUNS = Path(__file__).parent / "data" / "runs"


def lines(*records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def ads(*args):
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_reading_a_log_whose_last_line_lacks_its_newline_keeps_that_record_and_the_file(tmp_path):
    path = tmp_path / "answers.jsonl"
    data = lines({"id": "a"}, {"id": "b"}).rstrip(b"\n")
    path.write_bytes(data)
    log = JsonlLog(path)
    assert [r["id"] for r in log.records()] == ["a", "b"]
    assert set(log.index()) == {"a", "b"}
    assert path.read_bytes() == data


def test_a_reader_leaves_a_record_being_appended_for_the_writer_to_finish(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(lines({"id": "a"}) + b'{"id": "b", "text": "half writ')  # the writer is mid-line
    assert [r["id"] for r in JsonlLog(path)] == ["a"]
    with path.open("ab") as writer:
        writer.write(b'ten"}\n')
    assert [r["id"] for r in JsonlLog(path)] == ["a", "b"]


def test_opening_a_log_in_a_missing_folder_creates_nothing(tmp_path):
    log = JsonlLog(tmp_path / "absent" / "answers.jsonl")
    assert log.records() == [] and not (tmp_path / "absent").exists()


def test_the_writer_drops_a_torn_last_line_before_its_first_append(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(lines({"id": "a"}) + b'{"id": "b", "te')
    JsonlLog(path).append({"id": "c"})
    assert path.read_bytes() == lines({"id": "a"}, {"id": "c"})


def test_the_writer_completes_a_valid_last_line_that_lacks_its_newline(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(lines({"id": "a"}, {"id": "b"}).rstrip(b"\n"))
    JsonlLog(path).append({"id": "c"})
    assert path.read_bytes() == lines({"id": "a"}, {"id": "b"}, {"id": "c"})


def test_a_garbage_line_in_the_middle_is_skipped_counted_and_named_once(tmp_path, caplog):
    path = tmp_path / "judgments.jsonl"
    data = lines({"id": "a"}) + b"not json at all\n" + b"[1, 2]\n" + lines({"id": "d"})
    path.write_bytes(data)
    log = JsonlLog(path)
    with caplog.at_level(logging.WARNING, logger="ads_bench.utils.jsonl"):
        assert [r["id"] for r in log.records()] == ["a", "d"]
        assert set(log.index()) == {"a", "d"}  # read again: no second warning
    assert log.skipped == 2
    [warning] = [r.getMessage() for r in caplog.records]
    assert str(path) in warning and "skipped 2 lines" in warning and "line 2, 3" in warning
    assert path.read_bytes() == data


def test_undecodable_bytes_are_a_skipped_line_not_a_crash(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(lines({"id": "a"}) + b"\xff\xfe\x00garbage\n" + lines({"id": "b"}))
    log = JsonlLog(path)
    assert [r["id"] for r in log] == ["a", "b"] and log.skipped == 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_log_refuses_non_finite_numbers(tmp_path, value):
    log = JsonlLog(tmp_path / "judgments.jsonl")
    with pytest.raises(ValueError):
        log.append({"id": "a", "preference": value})
    assert not (tmp_path / "judgments.jsonl").exists() or b"NaN" not in (tmp_path / "judgments.jsonl").read_bytes()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("*.jsonl")}


def test_report_and_leaderboard_keep_a_log_without_final_newline_byte_for_byte(tmp_path):
    run = tmp_path / "rule-qa-inhouse"
    shutil.copytree(RUNS / "rule-qa-inhouse", run)
    for name in ("answers.jsonl", "judgments.jsonl"):
        (run / name).write_bytes((run / name).read_bytes().rstrip(b"\n"))
    before = folder_bytes(run)
    report = ads("report", str(run), "--out", str(tmp_path / "report.html"))
    assert report.returncode == 0, report.stderr
    board = ads("leaderboard", str(run), "--format", "json")
    assert board.returncode == 0, board.stderr
    assert folder_bytes(run) == before
    assert len((run / "answers.jsonl").read_bytes().splitlines()) == 12


def test_leaderboard_and_report_go_on_past_a_garbage_line_and_say_where_it_is(tmp_path):
    run = tmp_path / "rule-qa-inhouse"
    shutil.copytree(RUNS / "rule-qa-inhouse", run)
    judgments = (run / "judgments.jsonl").read_bytes().splitlines(keepends=True)
    (run / "judgments.jsonl").write_bytes(b"".join(judgments[:3]) + b"}{ garbage\n" + b"".join(judgments[3:]))
    for args in (("leaderboard", str(run)), ("report", str(run), "--out", str(tmp_path / "r.html"))):
        result = ads(*args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        message = " ".join(result.stderr.split())  # rich may wrap the warning
        assert "judgments.jsonl" in message and "skipped 1 line" in message and "line 4" in message


def test_a_lone_surrogate_in_a_record_is_written_escaped_and_reads_back(tmp_path):
    log = JsonlLog(tmp_path / "answers.jsonl")
    log.append({"id": "a", "text": "caf\u00e9 \ud800"})
    assert (tmp_path / "answers.jsonl").read_bytes().isascii()
    assert log.records() == [{"id": "a", "text": "caf\u00e9 \ud800"}]
