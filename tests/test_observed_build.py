"""`suites build-observed`: Self-Instruct observed instructions for one-prompt tasks, filtered as
the ADS paper filters them (ROUGE-L <= 0.7 against the prompt), seeded, resumable, and read back
by the suite loader so that the benchmark prompt is held out only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ads_bench.cli import main
from ads_bench.errors import UserError
from ads_bench.suites import Task, load_suite_file
from ads_bench.suites.inhouse.expand import RougeL
from ads_bench.suites.observed_build import (
    BuildSettings,
    build_observed,
    read_observed_file,
    rejection,
)

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import serve  # noqa: E402

PROMPTS = ["Give me three tips for growing tomatoes on a balcony.", "Explain how a bicycle gear works."]
TASKS = [Task(id=str(i), suite="toy", category="", observed=(), held_out=(p,)) for i, p in enumerate(PROMPTS)]


class Reply:
    def __init__(self, text: str):
        self.text, self.error = text, None


class Scripted:
    """A model that answers each request with the next scripted text, and counts requests."""

    def __init__(self, texts: list[str]):
        self.texts, self.requests = list(texts), []

    def __call__(self, requests):
        self.requests += list(requests)
        return [Reply(self.texts.pop(0)) for _ in requests]


def test_rouge_l_is_the_lcs_f_measure_of_rouge_score():
    # LCS of "the cat sat on the mat" / "the cat lay on the mat" is 5 tokens: P = R = 5/6
    assert RougeL().f1("the cat sat on the mat", "the cat lay on the mat") == pytest.approx(5 / 6)


@pytest.mark.parametrize(("candidate", "reason"), [
    ("Hi there", "near_empty"),
    ("Here are the new instructions:", "preamble"),
    ("give me three tips for growing  TOMATOES on a balcony.", "duplicate"),
    ("Please: Give me three tips for growing tomatoes on a balcony. Be brief.", "contains_original"),
    ("Give me three tips for growing peppers on a balcony.", "rouge_l_original"),
    ("Suggest a weekend itinerary for Lisbon on a small budget.", None),
])
def test_a_candidate_is_kept_only_if_it_is_a_new_instruction(candidate, reason):
    assert rejection(candidate, [PROMPTS[0]], [], RougeL(), 0.7) == reason


@pytest.mark.parametrize(("prompt", "candidate"), [
    # the prompt run on into a sentence, its question mark gone (the embedded model wrote these)
    ("What exactly causes volcanoes to form?",
     "What exactly causes volcanoes to form is a topic that has puzzled scientists for centuries."),
    ("Solve for x in the equation 3x + 10 = 5(x - 2).",
     "To solve for x in the equation 3x + 10 = 5(x - 2), I will rewrite the equation."),
    # a prompt too short for the run-time guard is still never put into an observed set
    ("What is Atlantis?", 'Explain "what is Atlantis" to a ten-year-old, with three facts about the myth.'),
])
def test_a_candidate_holding_the_prompt_in_other_punctuation_is_dropped(prompt, candidate):
    assert rejection(candidate, [prompt], [], RougeL(), 0.7) == "contains_original"


def test_a_short_prompt_inside_another_word_is_no_reason_to_drop():
    assert rejection("Write a thank-you note to a neighbour who watered the plants.", ["Hi"], [], RougeL(),
                     0.7) is None


def test_too_few_survivors_are_asked_again_a_bounded_number_of_times(tmp_path):
    out = tmp_path / "observed.jsonl"
    model = Scripted([
        "1. Suggest a weekend itinerary for Lisbon.\n2. Hi",  # task 0: one survivor, one near-empty
        "1. Compare two ways of learning a language.\n2. List the planets in order from the sun.\n"
        "3. Summarise the plot of Hamlet in two sentences.",  # task 1: three
        "1. Suggest a weekend itinerary for Lisbon.",  # task 0, attempt 2: a duplicate only
        "nothing useful",  # task 0, attempt 3: the last one allowed
    ])
    summary = build_observed("toy", TASKS, model, BuildSettings(model="scripted", max_attempts=3), out)
    _, records = read_observed_file(out)
    assert records["0"]["observed"] == ["Suggest a weekend itinerary for Lisbon."]
    assert records["0"]["attempts"] == 3 and records["1"]["attempts"] == 1
    assert records["0"]["dropped"] == {"near_empty": 2, "duplicate": 1}
    assert summary["tasks_with_3"] == 1 and len(model.requests) == 4
    seeds = [r.params.seed for r in model.requests]
    assert len(set(seeds)) == 4  # each attempt samples with its own seed


def test_a_killed_build_resumes_without_asking_again_and_keeps_its_provenance(tmp_path):
    out = tmp_path / "observed.jsonl"
    answer = "1. Compare two ways of learning a language.\n2. List the planets in order.\n3. Name five rivers in Asia."
    first = Scripted([answer])
    build_observed("toy", TASKS[:1], first, BuildSettings(model="scripted", batch=1), out, command="ads-bench x")
    second = Scripted([answer])
    build_observed("toy", TASKS, second, BuildSettings(model="scripted", batch=1), out, command="ads-bench x")
    assert len(second.requests) == 1  # only the task not yet built
    header, records = read_observed_file(out)
    assert set(records) == {"0", "1"}
    assert header["model"] == "scripted" and header["seed"] == 0 and header["command"] == "ads-bench x"
    assert "{instruction}" in header["prompt"]
    with pytest.raises(UserError, match="was built with seed=0, not 1"):
        build_observed("toy", TASKS, second, BuildSettings(model="scripted", seed=1), out)


def _suite_yaml(tmp_path: Path, observed_file: str | None) -> Path:
    rows = [{"instruction": p} for p in PROMPTS]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    extra = f"observed_file: {observed_file}\n" if observed_file else ""
    path = tmp_path / "toy.yaml"
    path.write_text(f"name: toy\ndata: data.jsonl\nlayout: row\n{extra}fields: {{instruction: instruction}}\n")
    return path


def test_the_loader_makes_the_prompt_held_out_only_and_refuses_to_acquire_without_a_set(tmp_path):
    suite = load_suite_file(_suite_yaml(tmp_path, "observed.jsonl"))
    assert [t.held_out for t in suite] == [(p,) for p in PROMPTS]
    assert all(t.observed == () and "build-observed --suite toy" in t.metadata["observed_missing"] for t in suite)
    build_observed("toy", TASKS[:1], Scripted(["1. Name five rivers in Asia.\n2. List the planets in order.\n"
                                               "3. Compare two ways of learning a language."]),
                   BuildSettings(model="scripted"), tmp_path / "observed.jsonl")
    first, second = load_suite_file(tmp_path / "toy.yaml").tasks
    assert len(first.observed) == 3 and PROMPTS[0] not in first.observed and "observed_missing" not in first.metadata
    assert "lacks 1 of its 2 tasks" in second.metadata["observed_missing"]


def test_a_task_left_with_no_observed_instruction_refuses_to_acquire_and_says_why(tmp_path):
    build_observed("toy", TASKS, Scripted(["Hi", "1. Name five rivers in Asia."]),
                   BuildSettings(model="s", max_attempts=1), tmp_path / "observed.jsonl")
    empty, fine = load_suite_file(_suite_yaml(tmp_path, "observed.jsonl")).tasks
    assert "no instruction the model wrote for this task survived" in empty.metadata["observed_missing"]
    assert fine.observed == ("Name five rivers in Asia.",) and "observed_missing" not in fine.metadata


def test_a_set_built_for_other_prompts_is_refused(tmp_path):
    other = [Task(id="0", suite="toy", category="", observed=(), held_out=("Something else entirely here.",))]
    build_observed("toy", other, Scripted(["1. Name five rivers in Asia."]), BuildSettings(model="s", max_attempts=1),
                   tmp_path / "observed.jsonl")
    with pytest.raises(UserError, match="was built for other prompts"):
        load_suite_file(_suite_yaml(tmp_path, "observed.jsonl"))


def test_observed_file_is_only_for_the_row_layout(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("name: g\ndata: d.jsonl\nlayout: grouped\nobserved_file: o.jsonl\nfields: {instruction: q, task: t}\n")
    with pytest.raises(UserError, match="`observed_file` is for layout 'row'"):
        load_suite_file(path)


def test_the_command_builds_through_a_real_model_client_and_prints_what_it_kept(tmp_path, capsys):
    suite = _suite_yaml(tmp_path, "observed.jsonl")
    with serve() as server:
        args = ["suites", "build-observed", "--suite", str(suite), "--model", server.spec("writer"),
                "--max-tokens", "24", "--max-attempts", "1", "--out", str(tmp_path / "observed.jsonl")]
        main(args)
        printed = capsys.readouterr().out
        main(args)  # again: nothing left to build, no request
        assert server.stats()["received"] == 2
    assert "toy: 2/2 tasks" in printed and "wrote " in printed
    header, records = read_observed_file(tmp_path / "observed.jsonl")
    assert header["model"] == server.spec("writer") and "build-observed --suite" in header["command"]
    assert set(records) == {"0", "1"}
    load_suite_file(suite)  # the loader accepts what the command wrote


def test_a_suite_that_splits_its_own_instructions_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["suites", "build-observed", "--suite", "inhouse"])
    assert exit_.value.code == 2 and "layout 'row'" in capsys.readouterr().err
