"""The optimizer's prompt: rendered from a template file into compact chat messages."""

from __future__ import annotations

import re

import pytest

from ads_bench.acquisition.trajectory import (
    API_NAMES,
    DEFAULT_TEMPLATE,
    Budget,
    optimizer_messages,
    parse_trajectory,
)
from ads_bench.errors import UserError

OBSERVED = [
    "Write a limerick about a cat.",
    "Write a limerick about rain.",
    "Write a limerick about a lazy dog.",
]
COSTS = {"information_retrieval": 1, "demonstration_generation": 2, "question_answering": 10}


def example_in(user_message: str) -> str:
    return user_message[user_message.index('{"analysis"') :]


def test_messages_are_a_system_and_a_user_turn_with_every_placeholder_filled():
    messages = optimizer_messages(OBSERVED, COSTS, Budget(max_calls=6, max_cost=30))
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "1. Write a limerick about a cat.\n2. Write a limerick about rain." in user
    assert "Cost 10." in user and "Cost 2." in user
    assert "at most 6 calls; total cost at most 30" in user
    for message in messages:
        assert not re.search(r"\{[a-z_]+\}", message["content"]), message["content"]


def test_the_one_shot_example_is_a_canonical_trajectory_calling_every_api():
    user = optimizer_messages(OBSERVED, COSTS)[1]["content"]
    example = example_in(user)
    trajectory = parse_trajectory(example)
    assert trajectory.error is None and trajectory.dropped == []
    assert trajectory.render() == example
    assert {call.api for call in trajectory.calls} == set(API_NAMES)


@pytest.mark.parametrize("only", API_NAMES)
def test_a_single_api_ablation_shows_only_that_api(only):
    user = optimizer_messages(OBSERVED, {only: 1}, allowed_apis=[only])[1]["content"]
    listed = [api for api in API_NAMES if f"- {api}(" in user]
    assert listed == [only]
    example = parse_trajectory(example_in(user))
    assert example.calls and {call.api for call in example.calls} == {only}


def test_api_costs_and_allowed_apis_accept_aliases():
    user = optimizer_messages(OBSERVED, {"QA": 7, "ir": 1}, allowed_apis=["qa", "search"])[1][
        "content"
    ]
    assert "question_answering(question): an expert answers question. Cost 7." in user


def test_the_prompt_stays_compact_for_a_small_optimizer():
    # SmolLM2-135M reads it as ~390 tokens; ~4 characters per token leaves room below 8k.
    messages = optimizer_messages(OBSERVED, COSTS, Budget(max_calls=6))
    assert sum(len(m["content"]) for m in messages) < 2000


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
    assert user.startswith("Instructions of the task:\n1. Write a limerick")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("---user---", "---usr---"), "no ---user--- section"),
        (lambda t: t.replace("{budget}", "{budgets}"), r"placeholder \{budgets\}"),
        (lambda t: t.replace("{apis}", "the APIs"), r"placeholder \{apis\}"),
        (
            lambda t: t.replace('"k": 3}}', '"k": "three"}}'),
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
