"""The judge engine: published prompts rendered faithfully, both orders, retries, failures kept."""

import pytest

from ads_bench.errors import UserError
from ads_bench.judging import (
    GradeItem,
    PairItem,
    PairwiseJudge,
    SingleGrader,
    builtin_judges,
    load_judge_config,
    pairwise_metrics,
)
from ads_bench.judging.configs import default_judge
from ads_bench.judging.engine import PairJudgment
from ads_bench.models import Runtime
from ads_bench.models.types import Completion, TokenLogprob, Usage


def test_the_builtin_judges_are_the_published_ones():
    assert set(builtin_judges()) >= {"alpaca_eval_2", "arena_hard_v0.1", "mt_bench_single", "mt_bench_pair"}


def test_alpaca_eval_prompt_renders_to_system_and_user_with_the_outputs_in_place():
    config = load_judge_config("alpaca_eval_2")
    messages = config.render({"instruction": "Say hi {politely}", "first": "Hi.", "second": "Hello!"})
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert '"instruction": """Say hi {politely}"""' in user  # braces in data survive
    assert user.index('"output": """Hi."""') < user.index('"output": """Hello!"""')
    assert "{output_1}" not in user and "{instruction}" not in user


def test_mt_bench_picks_the_reference_guided_and_multi_turn_prompts():
    config = load_judge_config("mt_bench_single")
    plain = config.render({"question": "q", "answer": "a"})
    guided = config.render({"question": "q", "answer": "a", "ref_answer_1": "r"}, reference_guided=True)
    second = config.render(
        {"question_1": "q1", "answer_1": "a1", "question_2": "q2", "answer_2": "a2"}, multi_turn=True
    )
    assert "[The Start of Reference Answer]" in guided[1]["content"] and "r" in guided[1]["content"]
    assert "Reference" not in plain[1]["content"]
    assert "q2" in second[1]["content"] and "a1" in second[1]["content"]


def test_suites_name_their_judges():
    assert default_judge("pairwise", "judges/arena_hard/judge_config_v0.1.yaml") == "arena_hard_v0.1"
    assert default_judge("single", "judges/mt_bench/judge_prompts.jsonl") == "mt_bench_single"
    assert default_judge("pairwise") == "alpaca_eval_2"


def test_an_unknown_judge_config_is_a_user_error():
    with pytest.raises(UserError, match="alpaca_eval_2"):
        load_judge_config("gpt5_judge")


class ScriptedBackend:
    """Answers each judge prompt from a script keyed by (order, attempt) — a unit-test double."""

    name = "scripted"
    identity = {"engine": "scripted"}
    price_name = None
    batch_size = 1
    context_window = None

    def __init__(self, script):
        self.script = script
        self.calls = 0

    async def start(self):
        pass

    async def generate(self, requests):
        out = []
        for request in requests:
            self.calls += 1
            user = request.messages[-1]["content"]
            model_first = user.index("MODEL") < user.index("REF")
            attempt = 0 if request.params.seed is None else request.params.seed
            text, p_second = self.script[(model_first, attempt)]
            logprobs = None
            if p_second is not None:
                import math

                top = (("M", math.log(max(p_second, 1e-9))), ("m", math.log(max(1 - p_second, 1e-9))))
                logprobs = (TokenLogprob(top[0][0], top[0][1], top),)
            out.append([Completion(text, "stop", Usage(10, 1), logprobs=logprobs)])
        return out

    async def count_tokens(self, text):
        return 0

    async def aclose(self):
        pass


def scripted_model(script):
    runtime = Runtime.create(use_cache=False)
    runtime._backends["embedded"] = ScriptedBackend(script)
    return runtime.model("embedded", role="judge")


ITEM = PairItem("x", "instruction", "MODEL", "REF")


async def test_both_orders_are_averaged_from_the_models_side():
    # model shown second: P(M)=0.9 -> p_model 0.9; model shown first: P(M)=0.3 -> p_model 0.7
    judge = PairwiseJudge(scripted_model({(False, 0): ("M", 0.9), (True, 0): ("m", 0.3)}))
    [judgment] = await judge.judge([ITEM])
    assert judgment.preference == pytest.approx(0.8)
    assert judgment.agreement is True
    assert {o["model_position"] for o in judgment.orders} == {"first", "second"}


async def test_unparseable_output_is_retried_with_a_new_seed_then_succeeds():
    script = {(False, 0): ("The first one", None), (False, 1): ("M", None), (True, 0): ("M", None)}
    judge = PairwiseJudge(scripted_model(script))
    [judgment] = await judge.judge([ITEM])
    second_shown = next(o for o in judgment.orders if o["model_position"] == "second")
    assert len(second_shown["attempts"]) == 2 and second_shown["attempts"][0]["reason"]
    assert judgment.preference == pytest.approx(0.5)  # 1.0 one way, 0.0 the other
    assert judgment.agreement is False


async def test_a_judgment_that_never_parses_is_a_failure_with_its_raw_outputs():
    script = {(False, a): ("no idea", None) for a in range(3)} | {(True, 0): ("m", None)}
    judge = PairwiseJudge(scripted_model(script), retries=2)
    [judgment] = await judge.judge([ITEM])
    assert judgment.failed and judgment.preference is None
    failed_order = next(o for o in judgment.orders if o["model_position"] == "second")
    assert [a["raw"] for a in failed_order["attempts"]] == ["no idea"] * 3
    metrics = pairwise_metrics([judgment, PairJudgment("y", 1.0, [], None)])
    assert metrics["n_failed"] == 1 and metrics["n_total"] == 1  # never counted as a tie


async def test_random_order_mode_judges_once_and_records_where_the_model_was():
    judge = PairwiseJudge(scripted_model({(False, 0): ("M", 1.0), (True, 0): ("m", 0.0)}), orders="random")
    judgments = await judge.judge([PairItem(f"i{k}", "q", "MODEL", "REF") for k in range(20)])
    positions = {j.orders[0]["model_position"] for j in judgments}
    assert all(len(j.orders) == 1 and j.agreement is None for j in judgments)
    assert positions == {"first", "second"}
    assert all(j.preference == pytest.approx(1.0) for j in judgments)


@pytest.mark.model
async def test_the_embedded_judge_runs_for_real_and_grades_a_turn(fresh_runtime):
    judge_model = fresh_runtime.model("embedded", role="judge")
    [pair] = await PairwiseJudge(judge_model).judge([PairItem("p", "Add 2 and 3.", "5", "7")])
    assert pair.failed or 0.0 <= pair.preference <= 1.0
    assert all("top_logprobs" in a for o in pair.orders for a in o["attempts"])
    grader = SingleGrader(judge_model, max_tokens=48, retries=1)
    [grade] = await grader.grade([GradeItem("g", ("What is 2+2?",), ("4",), category="math")])
    assert grade.failed or 1 <= grade.score <= 10
    assert grade.attempts and all("raw" in a for a in grade.attempts)
