"""Transport faults never touch a result: they are retried with the same request, counted by cause,
and a reply that stays broken is a failed call, never an answer, a judgment or a cache entry.

Every test talks to tests/openai_server.py, a real OpenAI-compatible server on 127.0.0.1 whose
replies are a pure function of the request and whose faults land on chosen request numbers.
"""

import json
import math
import time

import pytest
from openai_server import FaultPlan, serve

from ads_bench.judging.engine import GradeItem, PairItem, PairwiseJudge, SingleGrader
from ads_bench.judging.parsing import parse_logprob_tokens
from ads_bench.learning.policy import Policy
from ads_bench.models import ChatRequest, Runtime
from ads_bench.models.openai_http import retry_after_seconds
from ads_bench.models.types import Completion, SamplingParams, TokenLogprob
from ads_bench.pipeline.answering import answer_prompts, failed_answers
from ads_bench.pipeline.judging_step import judge_answers
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.atomic import write_json_atomic
from ads_bench.utils.jsonl import JsonlLog

FAST = {"max_retries": 4, "backoff": 0.001, "timeout": 5}
MALFORMED = ("bad_json", "no_choices", "empty_length", "nan_logprobs")


def logged_bodies(path):
    return [json.loads(line)["body"] for line in path.read_text().splitlines()]


def judge_like(i: int) -> ChatRequest:
    """A request whose reply any fault can spoil: it asks for logprobs, so NaN ones can appear."""
    return ChatRequest.user(f"Which output is better, m or M? case {i}", max_tokens=1, seed=i,
                            logprobs=True, top_logprobs=2)


@pytest.mark.parametrize("kind", MALFORMED)
async def test_a_malformed_reply_is_retried_with_the_same_request_and_only_the_good_reply_is_kept(kind, tmp_path):
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    with serve(FaultPlan.parse(f"1:{kind}"), log_path=str(tmp_path / "requests.jsonl")) as server:
        [response] = await runtime.model(server.spec(**FAST), role="judge").generate([judge_like(1)])
        first, retry = logged_bodies(tmp_path / "requests.jsonl")
    assert response.ok, response.error
    assert retry == first  # same messages, seed, temperature: a retry is not a new sample
    with serve() as clean:
        [expected] = await Runtime.create(use_cache=False).model(clean.spec(), role="judge").generate([judge_like(1)])
    assert response.text == expected.text and response.completions[0].logprobs == expected.completions[0].logprobs
    assert runtime.ledger.retries_by() == {"malformed": 1}


async def test_a_reply_that_stays_malformed_is_a_failed_call_never_an_answer_nor_cached(tmp_path):
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    with serve(FaultPlan.parse("1:bad_json,2:no_choices,3:empty_length")) as server:
        model = runtime.model(server.spec(max_retries=2, backoff=0.001), role="policy")
        [failed] = await model.generate([ChatRequest.user("hello", max_tokens=8)])
        assert not failed.ok and "malformed" in failed.error
        [again] = await model.generate([ChatRequest.user("hello", max_tokens=8)])
        assert again.ok and not again.cached  # nothing was cached from the broken replies
        assert server.stats()["received"] == 4
    assert runtime.ledger.total().failures == 1


@pytest.mark.parametrize("fault, longest", [
    ("503+ra=1", 2.0),
    # the date has one-second resolution: "in 2 s" means a wait of between 1 and 2 seconds
    ("503+radate=2", 2.5),
], ids=["seconds", "http-date"])
async def test_retry_after_is_honoured_on_503_in_seconds_and_as_an_http_date(fault, longest):
    with serve(FaultPlan.parse(f"1:{fault}")) as server:
        model = Runtime.create(use_cache=False).model(server.spec(**FAST))
        started = time.monotonic()
        [response] = await model.generate([ChatRequest.user("hello", max_tokens=4)])
        waited = time.monotonic() - started
    assert response.ok and 0.95 <= waited < longest


def test_retry_after_reads_seconds_and_dates_and_caps_them_at_a_minute():
    now = 1_000_000_000.0  # Sun, 09 Sep 2001 01:46:40 GMT
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Sun, 09 Sep 2001 01:46:45 GMT", now=now) == pytest.approx(5.0)
    assert retry_after_seconds("Sun, 09 Sep 2001 01:46:30 GMT", now=now) == 0.0  # already past
    assert retry_after_seconds("86400") == 60.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


async def test_twenty_two_faults_are_twenty_two_retries_by_cause_and_change_no_result(tmp_path):
    faults = (
        "1:429,2:503,3:500,4:bad_json,5:no_choices,6:empty_length,7:nan_logprobs,8:hang,9:drop,"
        "10:429+ra=0,11:503+ra=0,12:bad_json,13:no_choices,14:empty_length,15:nan_logprobs,16:drop,"
        "17:500,18:503,19:429,20:bad_json,21:hang,22:drop"
    )
    requests = [judge_like(i) for i in range(12)]
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    # a 1 s client timeout against 5 s hangs: a reply that is merely slow on a loaded 2-core CI
    # machine (0.3 s was too tight there) must not count as a timeout fault. Faults land on arrival
    # order, so how they spread over the 4 concurrent requests depends on timing: one request may
    # draw any number of them (9 of 22 happened on CI), hence a retry allowance of all 22, with no
    # backoff so that 22 doublings cost nothing
    with serve(FaultPlan.parse(faults, hang_seconds=5.0)) as server:
        spec = server.spec(max_retries=22, backoff=0, timeout=1.0, concurrency=4)
        faulty = await runtime.model(spec, role="judge").generate(requests)
        assert server.stats()["received"] == len(requests) + 22
    with serve() as clean:
        expected = await Runtime.create(use_cache=False).model(clean.spec(), role="judge").generate(requests)
    assert [(r.text, r.completions[0].logprobs) for r in faulty] == [
        (r.text, r.completions[0].logprobs) for r in expected
    ]
    assert runtime.ledger.retries_by() == {"429": 3, "5xx": 5, "malformed": 9, "timeout": 2, "connection": 3}
    assert runtime.ledger.retries_by("role") == {"judge": runtime.ledger.retries_by()}


# -- the judge: transport failures repeat the request, only a parse failure resamples ------------

async def test_a_judge_call_that_failed_in_transport_is_asked_again_with_the_same_seed_and_temperature(tmp_path):
    # every attempt of the first request's transport (max_retries=1) fails; the judge engine asks
    # again with the same parameters, so the stored judgment is the one a fault-free run stores
    with serve(FaultPlan.parse("1:bad_json,2:bad_json"), log_path=str(tmp_path / "requests.jsonl")) as server:
        judge = PairwiseJudge(Runtime.create(use_cache=False).model(server.spec(max_retries=1, backoff=0.001, concurrency=1), "judge"),
                              orders="fixed")
        [judgment] = await judge.judge([PairItem("x", "Say hi.", "hi", "hello")])
        bodies = logged_bodies(tmp_path / "requests.jsonl")
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]
    with serve() as clean:
        clean_judge = PairwiseJudge(Runtime.create(use_cache=False).model(clean.spec(), "judge"), orders="fixed")
        [expected] = await clean_judge.judge([PairItem("x", "Say hi.", "hi", "hello")])
    assert not judgment.failed and judgment.preference == expected.preference
    assert [a.get("error") is not None for a in judgment.orders[0]["attempts"]] == [True, False]


async def test_a_judge_whose_transport_never_recovers_is_a_failed_judgment_not_a_resample(tmp_path):
    with serve(FaultPlan.parse(",".join(f"{i}:503" for i in range(1, 20))),
               log_path=str(tmp_path / "requests.jsonl")) as server:
        grader = SingleGrader(Runtime.create(use_cache=False).model(server.spec(max_retries=1, backoff=0.001), "judge"),
                              retries=2)
        [grade] = await grader.grade([GradeItem("q/turn1", ("What is 2+2?",), ("4",))])
        bodies = logged_bodies(tmp_path / "requests.jsonl")
    assert grade.failed and "503" in grade.error
    assert len({json.dumps(b, sort_keys=True) for b in bodies}) == 1  # never another seed or temperature


# -- non-finite logprobs are failures, never judgments; no file holds NaN -------------------------------------

@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_logprob_is_a_parse_failure_not_a_preference(bad):
    top = (("m", bad), ("M", -0.5))
    parsed = parse_logprob_tokens(Completion("m", "stop", logprobs=(TokenLogprob("m", -0.1, top),)), "m", "M")
    assert not parsed.ok and parsed.value is None and "logprob" in parsed.reason


def test_no_json_file_we_write_holds_nan_or_infinity(tmp_path):
    write_json_atomic(tmp_path / "metrics.json", {
        "win_rate": math.nan, "ci": [-math.inf, 0.5], "per_task": {"t": {"se": math.inf}}, "n": 3,
    })

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    assert json.loads((tmp_path / "metrics.json").read_text(), parse_constant=refuse) == {
        "win_rate": None, "ci": [None, 0.5], "per_task": {"t": {"se": None}}, "n": 3,
    }


async def test_a_nan_logprob_reply_never_becomes_a_stored_judgment(tmp_path):
    prompts = [prompt("t#0")]
    answers = {"t#0": {"id": "t#0", "answers": ["hi"]}}
    references = {"t#0": ["hello"]}
    with serve(FaultPlan.parse("1:nan_logprobs")) as server:
        judge = Runtime.create(use_cache=False).model(server.spec(max_retries=0), "judge")
        log = JsonlLog(tmp_path / "judgments.jsonl")
        [judged] = (await judge_answers(judge, prompts, answers, log, reference_answers=references)).values()
    with serve() as clean:
        judge = Runtime.create(use_cache=False).model(clean.spec(), "judge")
        [expected] = (await judge_answers(judge, prompts, answers, JsonlLog(tmp_path / "clean.jsonl"),
                                          reference_answers=references)).values()
    assert not judged["failed"] and judged["preference"] == expected["preference"]
    assert "NaN" not in (tmp_path / "judgments.jsonl").read_text()


# -- a policy that gives no usable answer: a failed answer, counted, never judged ---------------

def prompt(pid: str) -> Prompt:
    return Prompt(pid, pid.split("#")[0], "general", (f"Say hi ({pid}).",), None, "t", "pairwise", False, "alpaca_eval_2")


async def test_an_answer_that_stays_empty_is_logged_as_failed_counted_never_judged_and_asked_again(tmp_path):
    prompts = [prompt("t#0"), prompt("t#1")]
    log = JsonlLog(tmp_path / "answers.jsonl")
    params = SamplingParams(max_tokens=8)
    # one request at a time, so t#0 gets both broken replies (its try and its one retry)
    with serve(FaultPlan.parse("1:empty_length,2:empty_length")) as server:
        runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
        policy = Policy(runtime.model(server.spec(max_retries=1, backoff=0.001, concurrency=1)))
        answers = await answer_prompts(policy, prompts, log, params)
        assert set(answers) == {"t#1"}
        failed = failed_answers(log.index())
        assert list(failed) == ["t#0"] and "malformed" in failed["t#0"]["error"] and failed["t#0"]["answers"] == []

        judge = runtime.model(server.spec(), "judge")
        before = server.stats()["received"]
        judged = await judge_answers(judge, prompts, log.index(), JsonlLog(tmp_path / "judgments.jsonl"),
                                     reference_answers={"t#0": ["hello"], "t#1": ["hello"]})
        assert set(judged) == {"t#1"} and server.stats()["received"] - before == 2  # both orders of t#1

        again = await answer_prompts(policy, prompts, log, params)  # the rerun asks again, and gets one
        assert set(again) == {"t#0", "t#1"} and failed_answers(log.index()) == {}
