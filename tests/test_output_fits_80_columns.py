"""Output read in a log file or an 80-column terminal is whole: no table cell cut to "…", no
line wider than the terminal, no carriage-return redraws, one progress line per stage (issue 14,
item 3). Runs `ads-bench run` for real in a subprocess with its output piped, against the fake
OpenAI-compatible server (instant replies, so the layout is all that is tested)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import serve  # noqa: E402

from ads_bench.cli.tables import ledger_table  # noqa: E402
from ads_bench.models.ledger import Ledger  # noqa: E402
from ads_bench.models.types import CallRecord  # noqa: E402


def _piped_run(args: list[str], workdir: Path) -> str:
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(workdir / "cache"), "COLUMNS": "80"}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def test_a_piped_run_prints_whole_cells_within_80_columns(tmp_path):
    with serve() as server:
        policy = server.spec(price_in=1, price_out=2, context_window=4096)
        other = server.spec(price_in=1, price_out=2)
        output = _piped_run(["run", "--strategy", "rule-qa", "--suite", "inhouse", "--limit", "2",
                             "--policy", policy, "--expert", other, "--judge", other], tmp_path)
    lines = output.splitlines()
    assert "\r" not in output
    assert "…" not in output, "\n".join(line for line in lines if "…" in line)
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    # one line per stage, not a redraw per step
    assert sum("judging" in line for line in lines) == 1
    assert any("question_answering" in line for line in lines)  # the API is named whole
    # the header says the run is a slice, and how to run it all
    assert "inhouse: 2 of 500 tasks × 2 held-out prompts (--limit all: the whole suite)" in lines


def _ledger() -> Ledger:
    ledger = Ledger()
    for role, model, api in [("policy", "openai:gpt-4o-mini-2024-07-18", None),
                             ("expert", "http://127.0.0.1:8000/v1::Qwen2-72B-Instruct", "question_answering"),
                             ("judge", "openai:gpt-4o-mini", None)]:
        ledger.record(role=role, model=model, api=api, cost_usd=12.3456,
                      call=CallRecord(prompt_tokens=123_456, completion_tokens=7_890, seconds=1234.5))
    return ledger


def test_the_cost_table_keeps_every_figure_whole_at_any_width():
    for width in (160, 150, 120, 100, 80, 60, 40):
        console = Console(width=width, record=True, force_terminal=False)
        console.print(ledger_table(_ledger(), "this execution spent"))
        text = console.export_text()
        assert "…" not in text, (width, text)
        assert max(map(len, text.splitlines())) <= width
        for figure in ("123,456", "7,890", "1234.5", "12.3456", "370,368", "37.0368"):
            assert figure in text, (width, figure, text)


def test_an_optimizer_run_ends_with_the_trajectory_it_chose(tmp_path):
    from ads_bench.cli.run_cmd import example_trajectory

    record = {"id": "inhouse-00007", "strategy": "ads", "trajectory": {"calls": [
        {"api": "information_retrieval", "args": {"query": "Byzantine emperors " * 10}, "position": 0},
        {"api": "question_answering", "args": {"question": "Who founded Constantinople?"}, "position": 1}]}}
    (tmp_path / "acquisitions.jsonl").write_text(json.dumps(record) + "\n")
    lines = example_trajectory(tmp_path)
    assert lines[0] == "the optimizer's trajectory for inhouse-00007 (2 calls):"
    assert lines[1].startswith("  information_retrieval: Byzantine emperors") and lines[1].endswith("...")
    assert len(lines[1]) <= 80
    assert lines[2] == "  question_answering: Who founded Constantinople?"
