"""The held-out guard: nothing sent to the optimizer or an acquisition API may hold a prompt the
taught policy is scored on. A leak aborts the run with one line naming the task and the API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import QUESTION_ANSWERING, CallOutcome
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.errors import UserError
from ads_bench.models.client import Runtime
from ads_bench.strategies.base import AcquisitionContext, run_calls
from ads_bench.suites import Task
from ads_bench.suites.held_out_guard import (
    MIN_GUARDED_CHARS,
    HeldOutLeak,
    check_request,
    leaked_prompt,
)

PROMPT = "Write a limerick about a cat who learns to play the violin."
TASK = Task(id="7", suite="demo", category="", observed=("Write a haiku about rain.",), held_out=(PROMPT,))


def test_a_request_holding_the_held_out_prompt_is_refused_naming_task_and_api():
    with pytest.raises(HeldOutLeak, match=r"task demo/7: the request to the optimizer contains the held-out"):
        check_request(TASK, "the optimizer", [{"role": "user", "content": f"Examples:\n- {PROMPT}"}])
    assert issubclass(HeldOutLeak, UserError)  # one line, exit 2


def test_whitespace_and_case_do_not_hide_a_leak():
    disguised = "  WRITE a limerick\nabout a cat   who learns to play the VIOLIN. please"
    assert leaked_prompt(disguised, [PROMPT]) is not None
    with pytest.raises(HeldOutLeak):
        check_request(TASK, "the qa API", {"question": disguised})


def test_a_prompt_run_on_into_a_sentence_without_its_question_mark_is_a_leak():
    prompt = "Why can I see the moon during the day?"
    assert leaked_prompt("Why can I see the moon during the day: the moon orbits the Earth", [prompt])
    assert leaked_prompt('"Why can I see the moon during the day" asks about the moon', [prompt])


def test_nested_call_arguments_are_searched():
    with pytest.raises(HeldOutLeak):
        check_request(TASK, "the dg API", {"scenario": {"examples": ["x", PROMPT]}, "n": 2})


def test_the_observed_instructions_and_unrelated_text_pass():
    check_request(TASK, "the optimizer", [{"role": "user", "content": "- Write a haiku about rain."}])
    check_request(TASK, "the qa API", {"question": "Write a limerick about a dog."})


def test_held_out_prompts_shorter_than_the_minimum_are_not_guarded():
    short = "Tell me a joke"  # would match "... tell me a joke about ..." in any honest request
    assert len(short) < MIN_GUARDED_CHARS <= len("Tell me a joke about cats")
    assert leaked_prompt("Could you tell me a joke about cats?", [short]) is None
    assert leaked_prompt("Tell me a joke about cats, please", ["Tell me a joke about cats"]) is not None


@dataclass
class EchoApi:
    """Records what reached it: the guard must stop a leaking call before any API runs."""

    seen: list

    async def run(self, call: ApiCall) -> CallOutcome:
        self.seen.append(call)
        return CallOutcome(call)


def _context(api: EchoApi) -> AcquisitionContext:
    return AcquisitionContext(runtime=Runtime.create(use_cache=False), policy=None, expert=None,  # type: ignore[arg-type]
                              apis={QUESTION_ANSWERING: api}, costs=CostModel())


async def test_a_strategy_that_sends_the_held_out_prompt_to_an_api_is_stopped_before_the_call():
    api = EchoApi([])
    honest = ApiCall(QUESTION_ANSWERING, {"question": TASK.observed[0]}, 0)
    leaking = ApiCall(QUESTION_ANSWERING, {"question": PROMPT}, 1)
    with pytest.raises(HeldOutLeak, match=f"the request to the {QUESTION_ANSWERING} API"):
        await run_calls("leaky", TASK, [honest, leaking], _context(api))
    assert api.seen == []  # refused as a whole: not even the honest call ran
    done = await run_calls("honest", TASK, [honest], _context(api))
    assert api.seen == [honest] and done.error is None


async def test_a_task_whose_observed_set_was_never_built_refuses_to_acquire():
    missing = Task(id="1", suite="demo", category="", observed=(), held_out=(PROMPT,),
                   metadata={"observed_missing": "suite demo: the observed set X is missing: build it"})
    with pytest.raises(UserError, match="task demo/1: suite demo: the observed set X is missing"):
        await run_calls("rule-qa", missing, [], _context(EchoApi([])))


def test_an_optimizer_prompt_built_from_a_leaking_task_is_refused_before_it_is_sent():
    from ads_bench.strategies.optimizer_driven import optimizer_request

    leaky = Task(id="8", suite="demo", category="", observed=(PROMPT,), held_out=(PROMPT,))
    context = _context(EchoApi([]))
    with pytest.raises(HeldOutLeak, match="task demo/8: the request to the optimizer"):
        optimizer_request(leaky, context, (QUESTION_ANSWERING,))
    assert optimizer_request(TASK, context, (QUESTION_ANSWERING,)).messages  # an honest task passes


def test_a_run_over_tasks_without_observed_sets_refuses_before_any_task_acquires(tmp_path):
    """arena-hard with an observed set that covers its first 4 tasks only (the shipped one, cut):
    a 100-task run is refused by preflight, so no task acquires (and spends) before the first
    unbuilt one is reached."""
    import os
    import subprocess
    import sys

    from ads_bench.paths import tasks_dir

    shipped = tasks_dir()
    observed = (shipped / "data/arena_hard/observed-embedded-seed0.jsonl").read_text().splitlines()[:5]
    (tmp_path / "observed.jsonl").write_text("\n".join(observed) + "\n")  # its header and 4 tasks
    suite = (shipped / "arena-hard.yaml").read_text()
    for relative in ("data/arena_hard/question.jsonl", "data/arena_hard/model_answer_gpt-4-0314.jsonl.gz",
                     "judges/arena_hard/judge_config_v0.1.yaml"):
        suite = suite.replace(relative, str(shipped / relative))
    suite = suite.replace("data/arena_hard/observed-embedded-seed0.jsonl", str(tmp_path / "observed.jsonl"))
    (tmp_path / "arena-hard.yaml").write_text(suite)
    fake = "http://127.0.0.1:9/v1::m"  # never called
    done = subprocess.run(
        [sys.executable, "-m", "ads_bench.cli", "run", "--strategy", "rule-qa", "--suite",
         str(tmp_path / "arena-hard.yaml"), "--limit", "100",
         "--policy", f"{fake}?context_window=4096", "--expert", fake, "--judge", fake],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "ADS_BENCH_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 2 and "build-observed" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "results").exists()
