"""`pip install ads-bench` with no extras (issue 14, item 6): score, leaderboard and list work,
and every other command names the extra it needs in one line (exit 2) before it spends anything
or writes a run folder. `tests/core_only.py` makes every extra's modules fail to import."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
DATA = TESTS / "data"
HTTP = "http://127.0.0.1:9/v1::m"  # never called: every check fails first


def _core(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(workdir / "cache"), "COLUMNS": "120"}
    return subprocess.run([sys.executable, str(TESTS / "core_only.py"), *args], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=300)


@pytest.mark.parametrize("args", [
    ["list", "suites"], ["list", "strategies"], ["list", "backends"],
    ["score", str(DATA / "judgments" / "alpaca_eval_annotations.json")],
    ["score", str(DATA / "judgments" / "mt_bench_single.jsonl")],
    ["leaderboard", str(DATA / "runs" / "ads-partial")],
])
def test_the_core_commands_work_without_any_extra(tmp_path, args):
    done = _core(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("args", "extra"), [
    (["run", "--strategy", "none", "--limit", "1"], "local"),  # the embedded policy
    (["run", "--strategy", "rag", "--limit", "1", "--policy", f"{HTTP}?context_window=4096", "--expert", HTTP,
      "--judge", HTTP], "retrieval"),
    (["run", "--strategy", "none", "--limit", "1", "--learner", "finetune", "--policy", HTTP, "--expert", HTTP,
      "--judge", HTTP], "train"),
    (["evaluate", "--suite", "mt-bench", "--limit", "1"], "local"),
    (["report", str(DATA / "runs" / "ads-partial"), "--out", "report.html"], "report"),
])
def test_other_commands_name_their_extra_in_one_line_before_writing_anything(tmp_path, args, extra):
    done = _core(tmp_path, *args)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"pip install 'ads-bench[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists() and not (tmp_path / "report.html").exists()
