"""The optimizer's prompt: rendered from a template file into compact chat messages."""

from __future__ import annotations

import json
import re

import pytest

from ads_bench.acquisition.trajectory import (
    API_NAMES,
    DEFAULT_TEMPLATE,
    Budget,
    optimizer_messages,
    parse_trajectory,
)
from ads_bench.acquisition.trajectory.prompt import copied_demonstration, demonstrations
from ads_bench.errors import UserError

OBSERVED = [
    "Write a limerick about a cat.",
    "Write a limerick about rain.",
    "Write a limerick about a lazy dog.",
]
COSTS = {"information_retrieval": 1, "demonstration_generation": 2, "question_answering": 10}


def examples_in(user_message: str) -> list[str]:
    """The demonstrations' JSON, as shown: each runs from its '{"analysis"' to its closing ']}'."""
    starts = [m.start() for m in re.finditer(r'\{"analysis"', user_message)]
    return [user_message[i : user_message.index("]}", i) + 2] for i in starts]


def test_messages_are_a_system_and_a_user_turn_with_every_placeholder_filled():
    messages = optimizer_messages(OBSERVED, COSTS, Budget(max_calls=6, max_cost=30))
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "1. Write a limerick about a cat.\n2. Write a limerick about rain." in user
    assert "Cost 10." in user and "Cost 2." in user
    assert "at most 6 calls; total cost at most 30" in user
    for message in messages:
        assert not re.search(r"\{[a-z_]+\}", message["content"]), message["content"]


def test_two_demonstrations_with_and_without_calls_each_after_its_own_task_and_the_task_last():
    user = optimizer_messages(OBSERVED, COSTS)[1]["content"]
    without_calls, with_calls = (parse_trajectory(e) for e in examples_in(user))
    for shown, trajectory in zip(examples_in(user), (without_calls, with_calls), strict=True):
        assert trajectory.error is None and trajectory.dropped == [] and trajectory.render() == shown
    assert {call.api for call in with_calls.calls} == set(API_NAMES) and without_calls.calls == []
    [first, second] = demonstrations()  # the plan with calls last, nearest the task
    assert first.trajectory == without_calls and second.trajectory == with_calls
    assert all(len(d.task) == 2 for d in (first, second))
    for demonstration in (first, second):  # each follows its own task's instructions
        assert user.index(demonstration.task[-1]) < user.index(demonstration.trajectory.render())
    assert user.rstrip().endswith(OBSERVED[-1])  # the task at hand is what the optimizer reads last


def test_a_copied_demonstration_is_told_apart_from_a_plan_of_its_own():
    [without_calls, with_calls] = shown = demonstrations()
    assert copied_demonstration(with_calls.trajectory, shown) == "identical"
    prose = parse_trajectory(with_calls.trajectory.render().replace("vague or wrong", "wrong"))
    assert copied_demonstration(prose, shown) == "same calls"
    # what the untrained embedded optimizer wrote for a book-review task: the demonstration's query
    one_call = parse_trajectory('{"analysis": "Reviews need a summary.", "self_reflection": "", "calls": '
                                '[{"api": "information_retrieval", "args": {"query": "Rayleigh scattering sunset colour"}}]}')
    assert copied_demonstration(one_call, shown) == "copied call"
    reworded = without_calls.trajectory.analysis.replace("(kilometres to metres, 12 times 3)", "(kilometres to metres)")
    empty = parse_trajectory(json.dumps({"analysis": reworded, "self_reflection": "", "calls": []}))
    assert copied_demonstration(empty, shown) == "copied analysis"
    own = parse_trajectory('{"analysis": "Limericks need an AABBA rhyme.", "self_reflection": "", "calls": '
                           '[{"api": "information_retrieval", "args": {"query": "limerick rhyme scheme"}}]}')
    assert copied_demonstration(own, shown) is None


def test_a_one_shot_template_without_a_task_still_works(tmp_path):
    text = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    one_shot = text[: text.index("---example_no_calls task---")] + text[text.index("---example---") :]
    path = tmp_path / "one-shot.md"
    path.write_text(one_shot, encoding="utf-8")
    [shown] = examples_in(optimizer_messages(OBSERVED, COSTS, template=path)[1]["content"])
    assert parse_trajectory(shown).calls and "Example task:" not in optimizer_messages(OBSERVED, COSTS, template=path)[1]["content"]


@pytest.mark.parametrize("only", API_NAMES)
def test_a_single_api_ablation_shows_only_that_api(only):
    user = optimizer_messages(OBSERVED, {only: 1}, allowed_apis=[only])[1]["content"]
    listed = [api for api in API_NAMES if f"- {api}(" in user]
    assert listed == [only]
    empty, example = (parse_trajectory(e) for e in examples_in(user))
    assert example.calls and {call.api for call in example.calls} == {only} and empty.calls == []


def test_api_costs_and_allowed_apis_accept_aliases():
    user = optimizer_messages(OBSERVED, {"QA": 7, "ir": 1}, allowed_apis=["qa", "search"])[1][
        "content"
    ]
    assert "question_answering(question): an expert answers question. Cost 7." in user


def test_the_prompt_stays_compact_for_a_small_optimizer():
    # two demonstrations with their tasks: ~560 tokens for SmolLM2-135M (~4 characters a token),
    # far below its 8k context
    messages = optimizer_messages(OBSERVED, COSTS, Budget(max_calls=6))
    assert sum(len(m["content"]) for m in messages) < 2400


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((OBSERVED, {"qa": 1}), "no cost given for API information_retrieval"),
        ((OBSERVED, {"telepathy": 1}), "unknown API 'telepathy' in api_costs"),
        (([], COSTS), "no observed instructions"),
        ((OBSERVED, COSTS, None, []), "no API is allowed"),
    ],
)
def test_bad_arguments_are_user_errors_naming_the_fix(arguments, message):
    with pytest.raises(UserError, match=message):
        optimizer_messages(*arguments)


def test_a_custom_template_file_is_used(tmp_path):
    custom = tmp_path / "mine.md"
    custom.write_text(
        DEFAULT_TEMPLATE.read_text(encoding="utf-8").replace(
            "Task examples:", "Instructions of the task:"
        ),
        encoding="utf-8",
    )
    user = optimizer_messages(OBSERVED, COSTS, template=custom)[1]["content"]
    assert "Instructions of the task:\n1. Write a limerick" in user


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("---user---", "---usr---"), "no ---user--- section"),
        (lambda t: t.replace("{budget}", "{budgets}"), r"placeholder \{budgets\}"),
        (lambda t: t.replace("{apis}", "the APIs"), r"placeholder \{apis\}"),
        (
            lambda t: t.replace('"k": 2}}', '"k": "two"}}'),
            "---example--- is not a valid trajectory",
        ),
    ],
)
def test_a_broken_template_is_a_user_error(tmp_path, edit, message):
    broken = tmp_path / "broken.md"
    broken.write_text(edit(DEFAULT_TEMPLATE.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(UserError, match=message):
        optimizer_messages(OBSERVED, COSTS, template=broken)


def test_a_missing_template_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot read the prompt template"):
        optimizer_messages(OBSERVED, COSTS, template=tmp_path / "absent.md")


def test_the_maintainers_note_above_the_sections_is_never_sent():
    messages = optimizer_messages(OBSERVED, COSTS)
    assert all("<!--" not in m["content"] for m in messages)
