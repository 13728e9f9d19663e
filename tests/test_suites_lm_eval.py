"""The lm-eval bridge's data side: lm-eval task definitions on local data, scored by lm-eval."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from ads_bench.errors import UserError  # noqa: E402
from ads_bench.suites import load_suite  # noqa: E402
from ads_bench.suites.lm_eval_suite import LmEvalSuite  # noqa: E402

GSM8K_DATA = Path(__file__).parent / "data" / "suites" / "lm_eval" / "gsm8k"


@pytest.fixture(scope="module")
def gsm8k() -> LmEvalSuite:
    suite = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}")
    assert isinstance(suite, LmEvalSuite)
    return suite


def test_each_document_becomes_a_task_with_lm_evals_prompt_and_target(gsm8k):
    assert len(gsm8k) == 5 and gsm8k.kind == "lm-eval" and gsm8k.name == "lm-eval:gsm8k"
    first = gsm8k.tasks[0]
    assert first.held_out[0] not in first.observed  # the scored prompt is held out only
    assert first.held_out[0] == (
        "Question: Mia has 4 boxes with 6 pencils in each box. She gives away 5 pencils. "
        "How many pencils does she have left?\nAnswer:"
    )
    assert first.references[0][0].endswith("#### 19")
    assert first.metadata["output_type"] == "generate_until"
    assert "Question:" in gsm8k.generation_kwargs["until"]


def test_a_task_observes_other_documents_of_the_same_task_chosen_by_seed(gsm8k):
    prompts = {task.held_out[0] for task in gsm8k}
    for task in gsm8k:
        assert len(task.observed) == 3 and set(task.observed) <= prompts - {task.held_out[0]}
    again = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}")
    other_seed = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}", seed=1)
    assert [t.observed for t in again] == [t.observed for t in gsm8k]
    assert [t.observed for t in other_seed] != [t.observed for t in gsm8k]


def test_lm_evals_own_filters_and_metric_score_an_answer(gsm8k):
    task = gsm8k.tasks[0]
    assert gsm8k.score(task, "4 * 6 = 24 and 24 - 5 = 19.\n#### 19") == {
        "exact_match,strict-match": 1.0,
        "exact_match,flexible-extract": 1.0,
    }
    # no '#### ' marker: only the flexible filter finds the number
    assert gsm8k.score(task, "She has 19 pencils left.") == {
        "exact_match,strict-match": 0.0,
        "exact_match,flexible-extract": 1.0,
    }
    assert gsm8k.score(task, "#### 20") == {
        "exact_match,strict-match": 0.0,
        "exact_match,flexible-extract": 0.0,
    }
    # lm-eval ignores thousands separators and '$' for gsm8k
    assert (
        gsm8k.score(gsm8k.tasks[1], "The change is $29.\n#### 29")["exact_match,strict-match"]
        == 1.0
    )


def test_limit_keeps_the_scorer(gsm8k):
    limited = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}", limit=2)
    assert isinstance(limited, LmEvalSuite) and len(limited) == 2
    assert limited.score(limited.tasks[1], "#### 29")["exact_match,strict-match"] == 1.0


def test_observed_prompts_can_come_from_the_training_split(gsm8k):
    suite = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}", n_observed=2, seed=1)
    train_prompts = {line for line in (GSM8K_DATA / "train.jsonl").read_text().splitlines()}
    assert all(len(t.observed) == 2 and t.held_out[0] not in t.observed for t in suite)
    assert all(
        any(o[len("Question: ") :].split("\n")[0] in p for p in train_prompts)
        for t in suite
        for o in t.observed
    )
    again = load_suite(f"lm-eval:gsm8k@{GSM8K_DATA}", n_observed=2, seed=1)
    assert [t.observed for t in again] == [t.observed for t in suite]


def test_data_is_found_through_the_environment_variable(monkeypatch):
    monkeypatch.setenv("ADS_BENCH_LM_EVAL_DATA", str(GSM8K_DATA.parent))
    assert len(load_suite("lm-eval:gsm8k")) == 5


def test_missing_data_is_one_user_error_naming_the_files_to_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("ADS_BENCH_LM_EVAL_DATA", str(tmp_path))
    with pytest.raises(UserError) as error:
        load_suite("lm-eval:gsm8k")
    message = str(error.value)
    assert "openai/gsm8k" in message and "test.jsonl" in message and "question, answer" in message
    assert "ADS_BENCH_LM_EVAL_DATA" in message


def test_an_unknown_lm_eval_task_is_a_user_error():
    with pytest.raises(UserError, match="unknown lm-eval task 'gsm8kk'"):
        load_suite(f"lm-eval:gsm8kk@{GSM8K_DATA}")
    with pytest.raises(UserError, match="needs a name after 'lm-eval:'"):
        load_suite("lm-eval:")
