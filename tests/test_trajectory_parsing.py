"""Reading optimizer output: realistic messy examples, as a small model writes them."""

from __future__ import annotations

import json
import time

import pytest

from ads_bench.acquisition.trajectory import (
    API_NAMES,
    ApiCall,
    Dropped,
    Trajectory,
    parse_trajectory,
    resolve_api_name,
)
from ads_bench.errors import UserError


def calls_of(trajectory: Trajectory) -> list[tuple[str, dict]]:
    return [(call.api, call.args) for call in trajectory.calls]


def reasons_of(trajectory: Trajectory) -> list[tuple[int, str]]:
    return [(drop.position, drop.reason) for drop in trajectory.dropped]


# --- API names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("question_answering", "question_answering"),
        ("Question Answering", "question_answering"),
        ("QUESTION-ANSWERING", "question_answering"),
        ("QuestionAnswering", "question_answering"),
        ("QA", "question_answering"),
        ("Q&A", "question_answering"),
        ("qa_api", "question_answering"),
        ("ask_expert", "question_answering"),
        ("retrieval", "information_retrieval"),
        ("search", "information_retrieval"),
        ("IR", "information_retrieval"),
        ("Information Retrieval API", "information_retrieval"),
        ("demo", "demonstration_generation"),
        ("generate_demonstrations", "demonstration_generation"),
        ("DemonstrationGeneration", "demonstration_generation"),
    ],
)
def test_api_names_resolve_whatever_the_case_spacing_or_alias(written, meant):
    assert resolve_api_name(written) == meant


@pytest.mark.parametrize("written", ["", "fly_to_moon", "analysis", "api", None, 3, ["qa"]])
def test_names_of_no_api_resolve_to_none(written):
    assert resolve_api_name(written) is None


# --- realistic outputs (written by hand after what SmolLM2-135M and 7B models produce) --------

FENCED_WITH_PROSE_AND_SLIPS = """Sure! Here is my plan for this task.

```json
{
  "analysis": "The user wants limericks about animals.",
  "self_reflection": "I may miss the AABBA rhyme scheme.",
  "calls": [
    {"api": "Question Answering", "args": "What is the rhyme scheme of a limerick?"},
    {"api": "retrieval", "query": "limerick poetry form", "k": "3"},
    {'api': 'demo', 'args': {'scenario': 'funny limericks about animals', 'n': 5,},},
  ],
}
```

Let me know if you need anything else!"""


def test_fenced_json_with_prose_trailing_commas_single_quotes_and_aliases():
    trajectory = parse_trajectory(FENCED_WITH_PROSE_AND_SLIPS)
    assert trajectory.error is None
    assert trajectory.analysis == "The user wants limericks about animals."
    assert trajectory.self_reflection == "I may miss the AABBA rhyme scheme."
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "What is the rhyme scheme of a limerick?"}),
        ("information_retrieval", {"query": "limerick poetry form", "k": 3}),
        ("demonstration_generation", {"scenario": "funny limericks about animals", "n": 5}),
    ]
    assert [call.position for call in trajectory.calls] == [0, 1, 2]
    assert trajectory.dropped == []
    assert trajectory.raw == FENCED_WITH_PROSE_AND_SLIPS


NUMBERED_LIST = """Analysis: The task asks for explanations of how vaccines work.
It needs immunology facts.
Self-reflection: The assistant may confuse antibodies and T cells.

API calls:
1. question_answering("How do mRNA vaccines train the immune system?")
2. information_retrieval: history of vaccination
3. **Demo**: questions about vaccines answered for a teenager
4. search(query="adaptive immune system", k=2)
5. fly_to_moon("now")
"""


def test_numbered_list_is_read_line_by_line_with_its_sections():
    trajectory = parse_trajectory(NUMBERED_LIST)
    assert trajectory.error is None
    assert trajectory.analysis == (
        "The task asks for explanations of how vaccines work.\nIt needs immunology facts."
    )
    assert trajectory.self_reflection == "The assistant may confuse antibodies and T cells."
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "How do mRNA vaccines train the immune system?"}),
        ("information_retrieval", {"query": "history of vaccination"}),
        (
            "demonstration_generation",
            {"scenario": "questions about vaccines answered for a teenager"},
        ),
        ("information_retrieval", {"query": "adaptive immune system", "k": 2}),
    ]
    assert reasons_of(trajectory) == [(4, "unknown api: 'fly_to_moon'")]
    assert trajectory.dropped[0].raw_call == '5. fly_to_moon("now")'


CUT_OFF_BY_TOKEN_LIMIT = """{"analysis": "Python debugging tasks.",
 "self_reflection": "The assistant forgets that list.sort() returns None.",
 "calls": [
  {"api": "question_answering", "args": {"question": "Why does a.sort() return None?"}},
  {"api": "demonstration_generation", "args": {"scenario": "fix a bug in a short Python function", "n": 3}},
  {"api": "information_retrieval", "args": {"query": "Python list meth"""


def test_output_cut_off_keeps_the_complete_calls_and_drops_the_cut_one():
    trajectory = parse_trajectory(CUT_OFF_BY_TOKEN_LIMIT)
    assert trajectory.error is None
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "Why does a.sort() return None?"}),
        ("demonstration_generation", {"scenario": "fix a bug in a short Python function", "n": 3}),
    ]
    assert [drop.kind for drop in trajectory.dropped] == ["truncated output"]
    assert trajectory.dropped[0].position == 2


def test_calls_missing_only_their_final_brackets_are_kept():
    text = '{"analysis": "a", "calls": [{"api": "qa", "args": {"question": "Why?"}}'
    assert calls_of(parse_trajectory(text)) == [("question_answering", {"question": "Why?"})]


BARE_LIST_WITH_PROBLEMS = """[
  {"api": "QA", "question": "What is a sonnet?"},
  {"api": "qa", "question": "what is  a SONNET?"},
  {"api": "IR"},
  {"api": "IR", "query": "Shakespeare sonnets", "k": "five"},
  {"api": "demo", "scenario": ["a", "b"]},
  {"api": "telepathy", "args": {"question": "?"}},
  {"note": "remember to be concise"},
  {"api": "IR", "args": {"query": "Petrarchan sonnet", "top_k": 2.0}}
]"""


def test_a_bare_list_reports_each_dropped_call_with_its_reason():
    trajectory = parse_trajectory(BARE_LIST_WITH_PROBLEMS)
    assert trajectory.error is None
    assert trajectory.analysis == "" and trajectory.self_reflection == ""
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "What is a sonnet?"}),
        ("information_retrieval", {"query": "Petrarchan sonnet", "k": 2}),
    ]
    assert [call.position for call in trajectory.calls] == [0, 7]
    assert reasons_of(trajectory) == [
        (1, "duplicate call: same as position 0"),
        (2, "missing required arg: query"),
        (3, "wrong arg type: k must be a positive integer (got 'five')"),
        (4, "wrong arg type: scenario must be text (got list)"),
        (5, "unknown api: 'telepathy'"),
        (6, "not an api call: no API name"),
    ]
    assert trajectory.dropped[5].raw_call == {"note": "remember to be concise"}


PYTHON_LITERAL = """Here is the trajectory as a Python dict:
{'analysis': 'Needs recipes without eggs.', 'self_reflection': None,
 'calls': [('question_answering', 'Which foods are high in protein but have no eggs?'),
           ['information_retrieval', 'vegan breakfast', 4]],
 'done': True}"""


def test_python_style_literals_are_read_without_being_executed():
    trajectory = parse_trajectory(PYTHON_LITERAL)
    assert trajectory.error is None
    assert trajectory.self_reflection == ""
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "Which foods are high in protein but have no eggs?"}),
        ("information_retrieval", {"query": "vegan breakfast", "k": 4}),
    ]


def test_code_in_the_output_is_data_never_run(tmp_path):
    marker = tmp_path / "pwned"
    text = (
        '{"calls": [{"api": "qa", "args": {"question": __import__("pathlib").Path('
        f'"{marker}").touch()}}}}]}}\n'
        f'1. question_answering(__import__("os").system("touch {marker}"))'
    )
    trajectory = parse_trajectory(text)
    assert not marker.exists()
    assert all(isinstance(call.args["question"], str) for call in trajectory.calls)


TOOL_CALLS_AND_WRAPPERS = """{"response": {"plan": {
  "Analysis": "Translation into French.",
  "Weaknesses": ["idioms", "formal register"],
  "API_Calls": [
    {"type": "function", "function": {"name": "question_answering",
      "arguments": "{\\"question\\": \\"How is 'it is raining cats and dogs' said in French?\\"}"}},
    {"Search": "French formal register vous"},
    "demonstration_generation('English idioms translated into natural French', n=2)"
  ]}}}"""


def test_other_field_names_wrappers_and_call_shapes():
    trajectory = parse_trajectory(TOOL_CALLS_AND_WRAPPERS)
    assert trajectory.error is None
    assert trajectory.analysis == "Translation into French."
    assert trajectory.self_reflection == "idioms\nformal register"
    assert calls_of(trajectory) == [
        (
            "question_answering",
            {"question": "How is 'it is raining cats and dogs' said in French?"},
        ),
        ("information_retrieval", {"query": "French formal register vous"}),
        (
            "demonstration_generation",
            {"scenario": "English idioms translated into natural French", "n": 2},
        ),
    ]


def test_calls_grouped_by_api_keep_the_written_order():
    text = '{"analysis": "x", "calls": {"QA": ["Q1?", "Q2?"], "retrieval": "topic"}}'
    assert calls_of(parse_trajectory(text)) == [
        ("question_answering", {"question": "Q1?"}),
        ("question_answering", {"question": "Q2?"}),
        ("information_retrieval", {"query": "topic"}),
    ]


def test_one_json_object_per_call_is_read_in_order():
    text = (
        "I'll make these calls:\n"
        '{"api": "question_answering", "args": {"question": "one?"}}\n'
        '{"api": "information_retrieval", "args": {"query": "two"}}\n'
    )
    assert calls_of(parse_trajectory(text)) == [
        ("question_answering", {"question": "one?"}),
        ("information_retrieval", {"query": "two"}),
    ]


def test_calls_written_as_a_numbered_string_inside_json():
    text = '{"analysis": "a", "calls": "1. QA: why is the sky blue?\\n2. IR - Rayleigh scattering"}'
    trajectory = parse_trajectory(text)
    assert trajectory.analysis == "a"
    assert calls_of(trajectory) == [
        ("question_answering", {"question": "why is the sky blue?"}),
        ("information_retrieval", {"query": "Rayleigh scattering"}),
    ]


COPIED_EXAMPLE_WITH_WRONG_ARG = """{"analysis": "The task asks for short poems about nature.",
"self_reflection": "The assistant may ignore the requested form.",
"calls": [
  {"api": "information_retrieval", "args": {"query": "haiku about a season", "n": 4}},
  {"api": "self_reflection", "args": {"query": "cliches"}},
  {"api": "question_answering", "args": {"question": "What makes a poem vivid?"}}
 ]}"""


def test_what_smollm2_wrote_an_argument_alias_and_an_invented_api():
    # SmolLM2-135M copied the prompt's example and used n for retrieval's k.
    trajectory = parse_trajectory(COPIED_EXAMPLE_WITH_WRONG_ARG)
    assert calls_of(trajectory) == [
        ("information_retrieval", {"query": "haiku about a season", "k": 4}),
        ("question_answering", {"question": "What makes a poem vivid?"}),
    ]
    assert reasons_of(trajectory) == [(1, "unknown api: 'self_reflection'")]


SMOLLM2_OFF_TOPIC = """Bondi (2023) creates a limerick about a cat.
Output: [
{
  "name": "Bondi",
  "description": "Bondi the cat is a cat, a cat, a cat. I am a cat, I am a cat.",
  "finally": "I am a cat. I am a cat.",
  "lots_of_fascination_in_the_tail"
}
]

Output: [
{
  "name": "Bondi",
  "description": "Bondi the cat is a cat,"""


def test_what_smollm2_wrote_json_about_something_else_is_an_error():
    trajectory = parse_trajectory(SMOLLM2_OFF_TOPIC)
    assert trajectory.calls == [] and trajectory.dropped == []
    assert trajectory.error.startswith("no trajectory found")


SMOLLM2_NESTED_AND_CUT = """{"analysis": "The task asks for short poems about nature.",
"self_reflection": "The assistant may ignore the requested form and repeat cliches.",
"calls": [
  {"api": "self_reflection", "args": {
    "query": {"n": 4, "type": "cliches", "genre": "fantasy"},
    "k": 3,
    "api": "demonstration_generation",
    "args": {"query": {"n": 3, "genre": "fantasy"}, "k": 3},
    "api": "question_answering",
    "args": {
      \""""


def test_what_smollm2_wrote_a_runaway_call_cut_off_is_dropped_not_an_error():
    trajectory = parse_trajectory(SMOLLM2_NESTED_AND_CUT)
    assert trajectory.error is None
    assert trajectory.analysis == "The task asks for short poems about nature."
    assert trajectory.calls == []
    assert [drop.kind for drop in trajectory.dropped] == ["truncated output"]


# --- malformed output ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error_start"),
    [
        ("", "empty output"),
        ("   \n ", "empty output"),
        ("I think the model should study more poems.", "no trajectory found"),
        ('{"analysis": "only an analysis"}', "the trajectory has no 'calls' list"),
        ('{"analysis": "a", "calls": 42}', "'calls' must be a list of calls, got int"),
        ('[1, 2, 3] {"key": "value"}', "no trajectory found"),
        ("- print(1)\n- run(x)", "no trajectory found"),
        (None, "expected text, got NoneType"),
    ],
)
def test_malformed_output_gives_no_calls_and_an_error(text, error_start):
    trajectory = parse_trajectory(text)
    assert trajectory.calls == []
    assert trajectory.error is not None and trajectory.error.startswith(error_start)
    assert not trajectory.ok


def test_analysis_survives_when_calls_are_missing():
    trajectory = parse_trajectory('{"analysis": "only an analysis"}')
    assert trajectory.analysis == "only an analysis"


def test_an_explicitly_empty_call_list_is_not_an_error():
    trajectory = parse_trajectory('{"analysis": "nothing to learn", "calls": []}')
    assert trajectory.error is None and trajectory.calls == []


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"a":' * 20_000,
        "{" * 50_000,
        '"' * 100_000,
        "[1," * 30_000,
        "1. qa(" * 5_000,
    ],
)
def test_pathological_input_returns_quickly(text):
    started = time.perf_counter()
    trajectory = parse_trajectory(text)
    assert time.perf_counter() - started < 5
    assert isinstance(trajectory, Trajectory)


# --- storage --------------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trips_through_a_json_line():
    trajectory = parse_trajectory(BARE_LIST_WITH_PROBLEMS)
    line = json.dumps(trajectory.to_dict())
    restored = Trajectory.from_dict(json.loads(line))
    assert restored == trajectory
    assert restored.raw == trajectory.raw
    assert restored.dropped[2].kind == "wrong arg type"


def test_a_corrupt_record_is_a_user_error_naming_the_fix():
    with pytest.raises(UserError, match="corrupt trajectory record.*delete the damaged line"):
        Trajectory.from_dict({"calls": [{"args": {}}]})


def test_render_is_the_documented_canonical_layout():
    trajectory = Trajectory(
        "needs facts",
        "may hallucinate",
        [
            ApiCall("question_answering", {"question": "Why “quotes”?"}, 0),
            ApiCall("information_retrieval", {"query": "x", "k": 2}, 1),
        ],
    )
    assert trajectory.render() == (
        '{"analysis": "needs facts",\n'
        ' "self_reflection": "may hallucinate",\n'
        ' "calls": [\n'
        '  {"api": "question_answering", "args": {"question": "Why “quotes”?"}},\n'
        '  {"api": "information_retrieval", "args": {"query": "x", "k": 2}}\n'
        " ]}"
    )
    assert Trajectory().render() == '{"analysis": "",\n "self_reflection": "",\n "calls": []}'


def test_render_drops_the_dropped_calls_and_renumbers():
    trajectory = parse_trajectory(BARE_LIST_WITH_PROBLEMS)
    again = parse_trajectory(trajectory.render())
    assert calls_of(again) == calls_of(trajectory)
    assert [call.position for call in again.calls] == [0, 1]
    assert again.dropped == []


def test_dropped_kind_is_the_reason_without_detail():
    assert Dropped(0, {}, "over budget: max_calls").kind == "over budget"


def test_every_api_is_documented(pytestconfig):
    doc = (pytestconfig.rootpath / "docs" / "trajectory-format.md").read_text(encoding="utf-8")
    for api in API_NAMES:
        assert f"`{api}`" in doc


def test_the_documented_example_is_canonical(pytestconfig):
    doc = (pytestconfig.rootpath / "docs" / "trajectory-format.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("\n```", 1)[0]
    trajectory = parse_trajectory(example)
    assert trajectory.error is None and trajectory.dropped == []
    assert trajectory.render() == example
