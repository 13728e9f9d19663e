"""Programmatic judges: normalisation, the four checks, the pairwise rule, their records."""

from __future__ import annotations

import pytest

from ads_bench.errors import UserError
from ads_bench.judging.programmatic import (
    first_number,
    normalise,
    pairwise_preference,
    parse_program_judge,
    token_f1,
)
from ads_bench.pipeline.program_judging import judge_answers_programmatically, program_judgment
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.jsonl import JsonlLog

YEAR = {"answer": "1879", "answer_type": "year"}


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Eiffel Tower.", "eiffel tower"),
        ("  an   Apple,  a PEAR ", "apple pear"),
        ("Rock 'n' roll!", "rock n roll"),
        ("1879–1955", "1879 1955"),
        ("theatre", "theatre"),  # 'the' only as a word
    ],
)
def test_normalisation_is_squads(text, normal):
    assert normalise(text) == normal


@pytest.mark.parametrize(
    ("spec", "answer", "truth", "score"),
    [
        ("program:exact", "the Eiffel Tower", {"answer": "Eiffel tower."}, 1.0),
        ("program:exact", "It is the Eiffel Tower", {"answer": "Eiffel Tower"}, 0.0),
        ("program:f1", "Paris France", {"answer": "Paris"}, pytest.approx(2 / 3)),
        ("program:f1", "", {"answer": "Paris"}, 0.0),
        ("program:numeric", "He was born on 14 March 1879 in Ulm.", YEAR, 1.0),  # the year, not 14
        ("program:numeric", "1880", YEAR, 0.0),
        ("program:numeric?tolerance=1", "1880", YEAR, 1.0),
        ("program:numeric", "I do not know.", YEAR, 0.0),
        ("program:numeric", "about 3,400 km", {"answer": "3400"}, 1.0),
        ("program:numeric?rel=0.1", "3,700", {"answer": "3400"}, 1.0),
        ("program:regex", "born in 1879.", YEAR, 1.0),
        ("program:regex", "born in 18790", YEAR, 0.0),  # a whole word only
        ("program:regex?pattern=^ulm", "Ulm, Germany", {"answer": "x"}, 1.0),
    ],
)
def test_scores(spec, answer, truth, score):
    assert parse_program_judge(spec).score(answer, truth) == score


def test_first_number_of_a_year_skips_days_and_decimals():
    assert first_number("On 3 May 1945 (aged 56.5)", "year") == 1945
    assert first_number("On 3 May 1945") == 3
    assert token_f1("a b c", "c b a") == 1.0


@pytest.mark.parametrize(("a", "b", "preference"), [(1, 0, 1.0), (0, 1, 0.0), (1, 1, 0.5), (0, 0, 0.5), (0.4, 0.4, 0.5)])
def test_pairwise_outcome_follows_from_the_two_scores(a, b, preference):
    assert pairwise_preference(a, b) == preference


@pytest.mark.parametrize(
    "spec", ["program:bleu", "program:numeric?tolerance=-1", "program:exact?pattern=x", "program:regex?pattern=(", "openai:x"]
)
def test_bad_specs_are_one_line_user_errors(spec):
    with pytest.raises(UserError):
        parse_program_judge(spec)


def _prompt(pid: str, truth=YEAR) -> Prompt:
    return Prompt(id=pid, task_id=pid.split("#")[0], category="People", turns=("When?",), reference=None,
                  cluster=pid.split("#")[0], judge_mode="pairwise", reference_guided=False,
                  judge="alpaca_eval_2", truth=truth)


def test_records_have_the_llm_judges_shape_with_both_scores():
    record = program_judgment(parse_program_judge("program:numeric"), _prompt("t#0"), "1879", "1900")
    assert record["preference"] == 1.0 and not record["failed"]
    assert record["scores"] == {"model": 1.0, "reference": 0.0}
    assert record["orders"] == [] and record["agreement"] is None and record["judge"] == "program:numeric"
    missing = program_judgment(parse_program_judge("program:numeric"), _prompt("t#1", None), "1879", "1900")
    assert missing["failed"] and missing["preference"] is None and "truth" in missing["error"]


def test_the_step_judges_what_the_log_lacks_and_skips_failed_answers(tmp_path):
    log = JsonlLog(tmp_path / "judgments.jsonl")
    prompts = [_prompt("t#0"), _prompt("t#1"), _prompt("t#2")]
    answers = {"t#0": {"answers": ["1879"]}, "t#1": {"answers": ["1700"]},
               "t#2": {"answers": [""], "failed": True}}
    base = {"t#0": ["no idea"], "t#1": ["1879"], "t#2": ["1879"]}
    out = judge_answers_programmatically("program:numeric", prompts, answers, log, reference_answers=base)
    assert {k: v["preference"] for k, v in out.items()} == {"t#0": 1.0, "t#1": 0.0}
    again = judge_answers_programmatically("program:numeric", prompts, answers, log, reference_answers=base)
    assert again == out and len(log.index()) == 2 and len(log.path.read_text().splitlines()) == 2


def test_a_program_judged_run_has_no_length_controlled_win_rate():
    """LC corrects an LLM judge's taste for long answers; a program checking the truth has none."""
    from ads_bench.pipeline.scoring import score_run

    prompts = [Prompt(id=f"p{i}", task_id=f"t{i % 5}", category="c", turns=("q",), reference=None,
                      cluster=f"t{i % 5}", judge_mode="pairwise", reference_guided=False, judge="alpaca_eval")
               for i in range(20)]
    judgments = {p.id: {"id": p.id, "preference": [0.0, 0.5, 1.0][i % 3], "cluster": p.cluster,
                        "model_output": "x" * (10 + 7 * i), "reference_output": "y" * (80 - 3 * i)}
                 for i, p in enumerate(prompts)}
    by_program = score_run(prompts, judgments, judge="program:numeric")["pairwise"]
    assert by_program.get("length_controlled_winrate") is None and "program judge" in by_program["lc_note"]
    assert score_run(prompts, judgments, judge="embedded")["pairwise"]["length_controlled_winrate"] is not None
