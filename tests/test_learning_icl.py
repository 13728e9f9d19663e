"""The in-context learner: items packed whole, in trajectory order, within an exact token budget."""

from __future__ import annotations

import pytest

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning import Policy, get_learner
from ads_bench.learning.icl import IclConfig, TokenCountCache, pack, update
from ads_bench.models import ChatRequest, SamplingParams


async def count_words(text: str) -> int:
    """A tokenizer stand-in where a text's count is the sum of its pieces' counts."""
    return len(text.split())


def item(words: int, position: int, tag: str | None = None) -> AcquiredItem:
    """An answer item rendering to ``words`` + 4 words ("Question: q Expert answer: ...")."""
    content = " ".join([tag or f"w{position}"] * words)
    return AcquiredItem("question_answering", "answer", "q", content, call_position=position)


class FakeModel:
    """Just what the learner asks of a chat model: a window, a tokenizer and an identity."""

    def __init__(self, window: int | None = 100):
        self.context_window = window
        self.label = "fake"
        self.backend = type("Backend", (), {"identity": {"engine": "fake"}})()
        self.counted: list[str] = []

    async def start(self) -> None:
        pass

    async def count_tokens(self, text: str) -> int:
        self.counted.append(text)
        return await count_words(text)


HEADER = "Use this."  # 2 words


async def test_the_packed_text_fills_the_budget_exactly_and_never_more():
    items = [item(6, 0), item(6, 1), item(6, 2)]  # 10 words each
    packing = await pack(items, count_words, budget=2 + 10 + 10, header=HEADER)
    assert [d.used for d in packing.decisions] == [True, True, False]
    assert packing.tokens == await count_words(packing.text) == 22


async def test_an_item_that_does_not_fit_is_dropped_whole_and_later_ones_still_tried():
    items = [item(6, 0, "a"), item(30, 1, "b"), item(1, 2, "c")]  # 10, 34, 5 words
    packing = await pack(items, count_words, budget=2 + 10 + 5, header=HEADER)
    used = [d.index for d in packing.used]
    assert used == [0, 2]
    assert "b" not in packing.text.split()  # nothing of the dropped item, not even a prefix
    big = packing.decisions[1]
    assert (
        not big.used and big.tokens == 34 and big.reason == "over budget: needs 34 tokens, 5 left"
    )


async def test_items_are_packed_in_api_call_order_whatever_order_they_arrive_in():
    items = [item(1, 2, "late"), item(1, 0, "first"), item(1, 1, "second")]
    packing = await pack(items, count_words, budget=100, header=HEADER)
    assert [d.index for d in packing.used] == [1, 2, 0]
    text = packing.text
    assert text.index("first") < text.index("second") < text.index("late")


async def test_repeats_and_empty_items_are_dropped_with_a_reason():
    repeat = item(2, 0, "same")
    empty = AcquiredItem("question_answering", "answer", "q", "   ", call_position=1)
    packing = await pack([repeat, repeat, empty], count_words, budget=100, header=HEADER)
    reasons = {d.index: d.reason for d in packing.decisions if not d.used}
    assert reasons == {1: "duplicate of item 0", 2: "empty content"}


async def test_when_whole_text_counts_more_than_its_pieces_the_last_items_go():
    async def merging(text: str) -> int:  # a tokenizer whose whole is longer than its parts
        return len(text.split()) + (3 if text.count("Question:") >= 2 else 0)

    packing = await pack([item(6, 0), item(6, 1)], merging, budget=22, header=HEADER)
    assert [d.used for d in packing.decisions] == [True, False]
    assert "as a whole" in packing.decisions[1].reason
    assert packing.tokens == await merging(packing.text) <= 22


def test_the_budget_is_the_window_minus_the_reserve_capped_by_fraction_and_max_tokens():
    assert IclConfig(reserve_tokens=1024, max_fraction=0.75).budget(8192) == 6144
    assert IclConfig(reserve_tokens=1024, max_fraction=0.9).budget(2048) == 1024
    assert IclConfig(max_tokens=500).budget(8192) == 500


async def test_update_records_what_it_used_dropped_and_why():
    model = FakeModel(window=100)
    config = IclConfig(reserve_tokens=70, max_fraction=1.0, header=HEADER)  # budget 30
    items = [item(6, 1), item(30, 0), item(6, 2), item(6, 3)]
    policy = await update(Policy(model), items, task_id="t1", config=config)
    d = policy.details
    assert policy.context is not None and policy.context.startswith(HEADER)
    assert (d["budget"], d["n_items"], d["n_used"], d["n_dropped"]) == (30, 4, 2, 2)
    assert d["tokens_used"] == len(policy.context.split()) == 22 <= d["budget"]
    assert d["order"] == [0, 2]
    assert d["dropped"] == {"over budget": 2}
    assert [row["index"] for row in d["items"]] == [1, 0, 2, 3]
    assert d["budget_rule"]["context_window"] == 100
    assert d["context_sha"] == policy.context_sha


async def test_an_existing_context_is_kept_first_and_counts_against_the_budget():
    model = FakeModel(window=100)
    config = IclConfig(reserve_tokens=80, max_fraction=1.0, header=HEADER)  # budget 20
    policy = Policy(model, context="You are terse.")  # 3 words
    packed = await update(policy, [item(6, 0), item(6, 1)], config=config)
    assert packed.context.startswith("You are terse.\n\nUse this.")
    assert packed.details["header_tokens"] == 5 and packed.details["n_used"] == 1


async def test_no_items_or_nothing_that_fits_leaves_the_policy_as_it_was():
    model = FakeModel()
    untouched = await update(Policy(model), [])
    assert untouched.context is None and untouched.details["n_items"] == 0
    tiny = IclConfig(reserve_tokens=0, max_tokens=3, header=HEADER)
    nothing_fits = await update(Policy(model), [item(6, 0)], config=tiny)
    assert nothing_fits.context is None
    assert nothing_fits.details["n_dropped"] == 1 and nothing_fits.details["tokens_used"] == 0


async def test_an_impossible_budget_or_unknown_window_is_a_user_error():
    with pytest.raises(UserError, match="lower reserve_tokens"):
        await update(Policy(FakeModel(window=512)), [item(1, 0)], config=IclConfig())
    with pytest.raises(UserError, match="context_window"):
        await update(Policy(FakeModel(window=None)), [item(1, 0)], config=IclConfig())
    known = await update(
        Policy(FakeModel(window=None)), [item(1, 0)], config=IclConfig(context_window=4096)
    )
    assert known.details["budget"] == 3072


async def test_token_counts_are_asked_once_per_distinct_text():
    model = FakeModel()
    count = TokenCountCache().counter(model)
    for _ in range(3):
        assert await count("a b c") == 3
    assert model.counted == ["a b c"]


async def test_the_registry_builds_the_config_from_a_plain_mapping():
    icl = get_learner("icl")
    policy = await icl(
        Policy(FakeModel(window=100)),
        [item(6, 0)],
        runtime=None,
        task_id="t",
        config={"reserve_tokens": "50", "header": HEADER},
    )
    assert policy.details["budget"] == 50
    with pytest.raises(UserError, match="unknown option"):
        await icl(
            Policy(FakeModel()), [item(1, 0)], runtime=None, task_id="t", config={"budget": 3}
        )


@pytest.mark.model
async def test_the_embedded_model_answers_from_packed_material(fresh_runtime):
    model = fresh_runtime.model("embedded")
    fact = AcquiredItem(
        "question_answering",
        "answer",
        "What is the password of the vault?",
        "The password of the vault is PINEAPPLE.",
        call_position=0,
    )
    filler = AcquiredItem(
        "information_retrieval",
        "document",
        "Weather",
        "Rain is common in spring. " * 40,
        call_position=1,
    )
    config = IclConfig(max_tokens=150)  # room for the fact, not for the long document
    policy = await update(Policy(model), [fact, filler], task_id="t", config=config)
    assert policy.details["order"] == [0]
    assert policy.details["dropped"] == {"over budget": 1}
    assert policy.details["tokens_used"] == await model.count_tokens(policy.context) <= 150
    question = "What is the password of the vault? Answer with the password only."
    [with_context] = await model.generate(
        [ChatRequest(tuple(policy.messages([question])), SamplingParams(max_tokens=30))]
    )
    [without] = await model.generate([ChatRequest.user(question, max_tokens=30)])
    assert "PINEAPPLE" in with_context.text.upper()
    assert "PINEAPPLE" not in without.text.upper()
