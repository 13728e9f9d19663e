"""Issue 17's check, as a test: with a logging OpenAI-compatible server in every role, no request
to the optimizer or to an acquisition API (the QA expert; the policy when it writes
demonstrations) contains a held-out prompt of the run's tasks, for every optimizer-driven strategy
and the optimizer-free baselines that send text, on every built-in suite.

The fake server answers at once, so each run costs little; its optimizer replies are not valid
trajectories, so optimizer-driven strategies send the optimizer request only (what the optimizer
is shown is where the prompt leaked before). `rule-qa` and `self-instruct` reach the expert and
the demonstration API. A task whose observed set is not built must refuse in one line before any
request (tests/test_observed_build.py covers the loader side; tests/test_held_out_guard.py the
guard firing on a leaking strategy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ads_bench.acquisition.api_implementations import INSTRUCTION_PROMPT
from ads_bench.cli import main
from ads_bench.suites import load_suite
from ads_bench.suites._registry import suite_entries
from ads_bench.suites.held_out_guard import MIN_GUARDED_CHARS

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import serve  # noqa: E402

pytestmark = pytest.mark.model

GSM8K = f"lm-eval:gsm8k@{Path(__file__).parent / 'data' / 'suites' / 'lm_eval' / 'gsm8k'}"
SUITES = sorted(name for name, entry in suite_entries().items() if entry.origin == "yaml") + [GSM8K]
OPTIMIZER_DRIVEN = ["prompting", "ads", "ir-only", "demo-only", "qa-only"]
STRATEGIES = [*OPTIMIZER_DRIVEN, "rule-qa", "self-instruct"]
DG_MARKER = INSTRUCTION_PROMPT.split("{scenario}")[0].strip()


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _acquisition_requests(log: Path) -> list[str]:
    """The text of every logged request made to the optimizer or by an acquisition API."""
    texts = []
    for line in log.read_text(encoding="utf-8").splitlines() if log.is_file() else []:
        body = json.loads(line)["body"]
        text = _norm("\n".join(str(m.get("content", "")) for m in body.get("messages", [])))
        role = str(body.get("model", ""))
        if role in ("optimizer", "expert") or (role == "policy" and _norm(DG_MARKER) in text):
            texts.append(text)
    return texts


def _limit(suite: str) -> int:
    """Two tasks; one for lm-eval, whose tasks observe other documents of the same split (so
    task 0 may observe task 1's prompt, which task 0's policy is not scored on; the guard checks
    each task against its own held-out prompt, and this log cannot tell tasks apart)."""
    return 1 if suite.startswith("lm-eval:") else 2


def _run(strategy: str, suite: str, server, out: Path, capsys) -> tuple[int, str]:
    # a cache of its own: a request answered from the cache never reaches the logging server
    args = ["--cache-dir", str(out.parent / "cache"), "run", "--strategy", strategy, "--suite", suite, "--limit", str(_limit(suite)), "--max-held-out", "1",
            "--policy", server.spec("policy", context_window=4096), "--expert", server.spec("expert"),
            "--optimizer", server.spec("optimizer"), "--judge", server.spec("judge"),
            "--max-tokens", "8", "--judge-max-tokens", "8", "--optimizer-max-tokens", "16",
            "--retries", "0", "--retrieval-mode", "bm25", "--out", str(out)]
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.split("@")[0])
def test_no_request_to_the_optimizer_or_an_api_holds_a_held_out_prompt(suite, tmp_path, capsys):
    tasks = load_suite(suite, limit=_limit(suite)).tasks
    held_out = [_norm(p) for task in tasks for p in task.held_out if len(_norm(p)) >= MIN_GUARDED_CHARS]
    built = all("observed_missing" not in task.metadata for task in tasks)
    log = tmp_path / "requests.jsonl"
    with serve(log_path=str(log)) as server:
        for strategy in STRATEGIES:
            code, err = _run(strategy, suite, server, tmp_path / strategy, capsys)
            if built:
                assert code == 0, f"{strategy}: {err}"
            else:  # no observed set yet: one line, and nothing was asked of the optimizer or an API
                assert code == 2 and "build-observed" in err, f"{strategy}: {err}"
    sent = _acquisition_requests(log)
    assert built or sent == []
    assert any(_norm(task.observed[0]) in text for task in tasks if task.observed for text in sent) or not built
    leaks = [(prompt[:60], text[:120]) for text in sent for prompt in held_out if prompt in text]
    assert leaks == []
