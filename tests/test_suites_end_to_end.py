"""Every built-in suite runs end to end with its own default judge on the embedded model.

``ads-bench evaluate`` runs in this process (one model load for the whole test session) with
tiny limits: one task, 8 answer tokens, 16 judge tokens, no parse retries. A judge of 16 tokens
rarely reaches a verdict, so the test asks for what must hold whatever the model says: the
suite's own judge saw the answer and the reference, replied, and its judgment reached
metrics.json. A suite with no reference answers (in-house) must refuse in one line, before any
model call, and point at ``run``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ads_bench.cli import main
from ads_bench.judging.configs import default_judge
from ads_bench.suites import load_suite
from ads_bench.suites._registry import suite_entries

pytestmark = pytest.mark.model

GSM8K_DATA = Path(__file__).parent / "data" / "suites" / "lm_eval" / "gsm8k"
TINY = ["--limit", "1", "--max-tokens", "8", "--judge-max-tokens", "16", "--retries", "0"]
PLACEHOLDER = re.compile(r"\{\w+\}")


def evaluate(suite: str, out: Path) -> int:
    try:
        main(["evaluate", "--suite", suite, *TINY, "--out", str(out)])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def judged_messages(record: dict) -> list[dict]:
    if "orders" in record:  # pairwise: one judge call per order shown
        return [m for order in record["orders"] for m in order["messages"]]
    return record["messages"]


def raw_outputs(record: dict) -> list:
    attempts = [a for order in record["orders"] for a in order["attempts"]] if "orders" in record else record["attempts"]
    return [a["raw"] for a in attempts]


BUILTIN = sorted(name for name, entry in suite_entries().items() if entry.origin == "yaml")


def test_the_builtin_suites_are_all_covered():
    assert {"alpacaeval", "arena-hard", "mt-bench", "mt-bench-fixed-refs", "inhouse", "inhouse-train"} <= set(BUILTIN)


def _has_references(name: str) -> bool:
    """Judged against references (or graded alone): not in-house, and not judged by a program
    against the truth (wikifacts), which compare with the un-updated policy under `run`."""
    suite = load_suite(name, limit=1)
    return suite.kind != "inhouse" and not any("truth" in task.metadata for task in suite.tasks)


@pytest.mark.parametrize("name", [n for n in BUILTIN if _has_references(n)])
def test_a_benchmark_suite_is_answered_and_judged_by_its_own_judge(name, tmp_path, capsys):
    out = tmp_path / "run"
    assert evaluate(name, out) == 0, capsys.readouterr().err
    task = load_suite(name, limit=1).tasks[0]
    expected_judge = default_judge(task.judge_mode, task.metadata.get("judge_prompts"))
    expected_ids = {f"{task.id}#{i}" for i in range(len(task.held_out))}

    judgments = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert judgments and {j.get("prompt_id", j["id"]) for j in judgments} == expected_ids
    for judgment in judgments:
        assert judgment["judge"] == expected_judge
        assert all(isinstance(raw, str) for raw in raw_outputs(judgment))  # the judge model replied
        shown = "\n".join(m["content"] for m in judged_messages(judgment))
        assert PLACEHOLDER.findall(shown) == []  # it saw the answers, not "{answer_2}"
        if "model_output" in judgment:
            assert judgment["model_output"] in shown and judgment["reference_output"] in shown

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["suite"] == name and metrics["n_prompts"] == len(expected_ids)
    assert metrics["n_unjudged"] == 0
    section = metrics.get("pairwise") or metrics.get("single")
    assert section["n_items"] == len(judgments)


# in-house suites and wikifacts: judged against the un-updated policy (wikifacts by a program)
@pytest.mark.parametrize("name", [n for n in BUILTIN if not _has_references(n)])
def test_a_suite_without_references_says_it_needs_run_and_exits_2_before_any_model_call(name, tmp_path, capsys):
    out = tmp_path / "run"
    assert evaluate(name, out) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "needs `run`" in error and f"ads-bench run --suite {name}" in error
    assert not out.exists()  # no run folder, so nothing was answered


def test_an_lm_eval_suite_is_scored_by_lm_evals_own_metrics(tmp_path, capsys):
    pytest.importorskip("lm_eval")
    out = tmp_path / "run"
    assert evaluate(f"lm-eval:gsm8k@{GSM8K_DATA}", out) == 0, capsys.readouterr().err
    [judgment] = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert judgment["scorer"] == "lm-eval" and not judgment["failed"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["lm_eval"]["exact_match,strict-match"]["n"] == 1
