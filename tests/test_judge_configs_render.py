"""Every shipped judge renders; a judge that cannot render fails when it is loaded, naming its file."""

from __future__ import annotations

import re

import pytest

from ads_bench.errors import UserError
from ads_bench.judging.configs import builtin_judges, load_judge_config, template_variants

# a placeholder the renderer left in: the judge would read "{answer_2}" instead of an answer
PLACEHOLDER = re.compile(r"\{\w+\}")


def sample_values(mode: str, reference_guided: bool, multi_turn: bool) -> dict[str, str]:
    """What the engine fills in for each kind of judgment (see judging/engine.py)."""
    if mode == "pairwise":
        values = {"instruction": "SAMPLE-instruction", "first": "SAMPLE-first", "second": "SAMPLE-second"}
        if reference_guided:
            values["reference"] = "SAMPLE-reference"
    elif multi_turn:
        values = {"question_1": "SAMPLE-q1", "answer_1": "SAMPLE-a1", "question_2": "SAMPLE-q2", "answer_2": "SAMPLE-a2"}
        if reference_guided:
            values |= {"ref_answer_1": "SAMPLE-r1", "ref_answer_2": "SAMPLE-r2"}
    else:
        values = {"question": "SAMPLE-question", "answer": "SAMPLE-answer"}
        if reference_guided:
            values["ref_answer_1"] = "SAMPLE-r1"
    return values


@pytest.mark.parametrize("name", builtin_judges())
def test_every_builtin_judge_renders_every_template_with_each_value_in_place_and_no_placeholder_left(name):
    config = load_judge_config(name)
    for reference_guided, multi_turn in template_variants(config):
        values = sample_values(config.mode, reference_guided, multi_turn)
        messages = config.render(values, reference_guided=reference_guided, multi_turn=multi_turn)
        assert messages and all(isinstance(m["content"], str) for m in messages)
        assert messages[-1]["role"] == "user"
        text = "\n".join(m["content"] for m in messages)
        for value in values.values():
            if value != "SAMPLE-r2":  # FastChat's multi-turn math prompt shows the first reference only
                assert value in text, (name, reference_guided, multi_turn, value)
        assert PLACEHOLDER.findall(text) == [], (name, reference_guided, multi_turn)


def test_arena_hard_sends_its_system_prompt_then_the_question_and_both_answers_as_gen_judgment_does():
    messages = load_judge_config("arena_hard_v0.1").render(
        {"instruction": "Is 7 prime?", "first": "Yes.", "second": "No."}
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "[[A>>B]]" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.startswith("<|User Prompt|>\nIs 7 prime?\n\n<|The Start of Assistant A's Answer|>\nYes.\n")
    assert user.index("Yes.") < user.index("<|The Start of Assistant B's Answer|>\nNo.")


def write_judge(tmp_path, prompt_yaml: str, mode: str = "pairwise"):
    path = tmp_path / "my_judge.yaml"
    path.write_text(
        f"mode: {mode}\nprompt:\n{prompt_yaml}\nparser: {{kind: verdict, pattern: '\\[\\[([AB])\\]\\]'}}\n",
        encoding="utf-8",
    )
    return path


def test_a_message_whose_content_is_not_a_string_fails_at_load_naming_the_file(tmp_path):
    path = write_judge(
        tmp_path,
        "  format: messages\n  messages:\n    - role: user\n      content: ['{instruction} {first} {second}']",
    )
    with pytest.raises(UserError, match=re.escape(str(path)) + ".*string content"):
        load_judge_config(str(path))


def test_a_template_that_never_shows_the_judge_an_answer_fails_at_load(tmp_path):
    path = write_judge(
        tmp_path,
        "  format: messages\n  fields: {first: answer_a, second: answer_b}\n"
        "  messages:\n    - {role: user, content: 'Q: {instruction} A: {answer_a} B: {answer}'}",
    )
    with pytest.raises(UserError, match=re.escape(str(path)) + r".*\{answer_b\}"):
        load_judge_config(str(path))


def test_a_prompt_section_that_is_not_a_mapping_fails_at_load(tmp_path):
    path = write_judge(tmp_path, "  - just a list")
    with pytest.raises(UserError, match=re.escape(str(path)) + ".*prompt must be a mapping"):
        load_judge_config(str(path))


def test_a_prompt_file_that_is_missing_fails_at_load(tmp_path):
    path = write_judge(tmp_path, "  format: chatml\n  file: alpaca_eval/no_such_prompt.txt")
    with pytest.raises(UserError, match=re.escape(str(path)) + ".*cannot be built"):
        load_judge_config(str(path))
