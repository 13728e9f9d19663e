"""The built-in public benchmark suites, their references, flags and judge prompts."""

from __future__ import annotations

from collections import Counter

import pytest

from ads_bench.errors import UserError
from ads_bench.judging import published_prompts as judge_prompts
from ads_bench.suites import load_suite, suite_names, suite_table

FLAGGED_BY_FASTCHAT_PR_3158 = {104, 105, 109, 111, 113, 114, 120, 122, 124, 125, 126, 128, 130}


@pytest.fixture(scope="module")
def alpacaeval():
    return load_suite("alpacaeval")


@pytest.fixture(scope="module")
def mt_bench():
    return load_suite("mt-bench")


def test_alpacaeval_has_805_single_prompt_tasks_with_gpt4_turbo_references(alpacaeval):
    assert len(alpacaeval) == 805 and alpacaeval.held_out_count == 805
    first = alpacaeval.tasks[0]
    assert first.held_out == (
        "What are the names of some famous actors that started their careers on Broadway?",
    )
    assert all(t.held_out[0] not in t.observed for t in alpacaeval)  # held out only
    assert all(len(t.references) == 1 and t.references[0][0] for t in alpacaeval)
    assert all(t.metadata["reference_model"] == "gpt4_1106_preview" for t in alpacaeval)
    assert Counter(t.category for t in alpacaeval) == {
        "selfinstruct": 252,
        "oasst": 188,
        "koala": 156,
        "helpful_base": 129,
        "vicuna": 80,
    }
    assert {t.judge_mode for t in alpacaeval} == {"pairwise"}


def test_arena_hard_has_500_prompts_in_250_clusters_with_gpt4_0314_answers():
    suite = load_suite("arena-hard")
    assert len(suite) == 500
    assert len({t.metadata["cluster"] for t in suite}) == 250
    assert all(t.category == t.metadata["cluster"] for t in suite)
    assert all(t.references and t.metadata["reference_model"] == "gpt-4-0314" for t in suite)
    melody = suite.task("328c149ed45a41c0b9d6f14659e63599")
    assert melody.held_out[0].startswith("Use ABC notation")
    assert melody.references[0][0].startswith("X:1")


def test_mt_bench_has_80_two_turn_questions_and_30_reference_guided_ones(mt_bench):
    assert len(mt_bench) == 80
    assert all(len(t.conversation(0)) == 2 for t in mt_bench)
    assert Counter(t.category for t in mt_bench) == {
        c: 10
        for c in (
            "writing",
            "roleplay",
            "reasoning",
            "math",
            "coding",
            "extraction",
            "stem",
            "humanities",
        )
    }
    with_refs = {int(t.id) for t in mt_bench if t.references}
    assert with_refs == set(range(101, 131))
    assert all(len(t.references[0]) == 2 for t in mt_bench if t.references)  # one answer per turn
    guided = {t.id for t in mt_bench if t.reference_guided}
    assert guided == {t.id for t in mt_bench if t.category in ("math", "reasoning", "coding")}
    assert {t.judge_mode for t in mt_bench} == {"single"}


def test_mt_bench_flags_the_13_gpt4_references_found_wrong(mt_bench):
    flagged = {int(t.id) for t in mt_bench if t.metadata.get("reference_flagged_wrong")}
    assert flagged == FLAGGED_BY_FASTCHAT_PR_3158
    david = mt_bench.task("104")  # "David has three sisters ..."
    assert david.references[0][0] == "David has only one brother."  # wrong: David is the brother


def test_mt_bench_fixed_refs_uses_the_pr_3158_references_and_flags_none():
    suite = load_suite("mt-bench-fixed-refs")
    assert len(suite) == 80
    assert sum(bool(t.references) for t in suite) == 30
    assert not any(t.metadata.get("reference_flagged_wrong") for t in suite)
    assert {t.metadata["reference_model"] for t in suite if t.references} == {"gpt-4-0125-preview"}
    david = suite.task("104").references[0]
    assert "David has 0 brothers" in david[0] and "David would have 1 brother" in david[1]
    dice = suite.task("114").references[0]
    assert "35/36" in dice[0].replace("\\frac{35}{36}", "35/36")


def test_an_unknown_suite_is_one_user_error_listing_the_known_ones():
    with pytest.raises(UserError) as error:
        load_suite("alpaca-eval-3")
    message = str(error.value)
    assert "unknown suite 'alpaca-eval-3'" in message
    for name in ("alpacaeval", "arena-hard", "mt-bench", "inhouse", "lm-eval:<task>"):
        assert name in message
    assert "alpacaeval" in suite_names()


def test_limit_keeps_the_first_tasks_in_order(alpacaeval):
    limited = load_suite("alpacaeval", limit=3)
    assert [t.id for t in limited] == [t.id for t in alpacaeval.tasks[:3]]
    with pytest.raises(UserError):
        load_suite("alpacaeval", limit=-1)


def test_suite_table_lists_every_suite_with_its_size():
    rows = {row["name"]: row for row in suite_table()}
    observed = {text for task in load_suite("alpacaeval") for text in task.observed}
    # prompts: distinct instructions, the 805 held out and the observed ones built so far
    assert rows["alpacaeval"]["tasks"] == 805 and rows["alpacaeval"]["prompts"] == 805 + len(observed)
    assert rows["arena-hard"]["tasks"] == 500
    assert rows["mt-bench"]["tasks"] == 80 and rows["mt-bench"]["kind"] == "benchmark"
    assert rows["inhouse"]["kind"] == "inhouse" and rows["inhouse"]["tasks"] > 100
    assert rows["inhouse"]["prompts"] >= 5 * rows["inhouse"]["tasks"]
    assert rows["lm-eval:<task>"]["tasks"] is None
    assert all({"name", "kind", "tasks", "prompts", "source"} <= set(row) for row in rows.values())


def test_judge_prompts_are_shipped_as_data_and_load_as_plain_values():
    template = judge_prompts.alpaca_eval_prompt_template()
    assert "{instruction}" in template and "{output_1}" in template and "{output_2}" in template
    config = judge_prompts.alpaca_eval_config()
    assert config["completion_parser_kwargs"]["denominator_tokens"] == ["m", "M"]
    prompts = judge_prompts.mt_bench_judge_prompts()
    assert set(prompts) == {
        "pair-v2",
        "pair-v2-multi-turn",
        "pair-math-v1",
        "pair-math-v1-multi-turn",
        "single-v1",
        "single-math-v1",
        "single-v1-multi-turn",
        "single-math-v1-multi-turn",
    }
    assert (
        "[[rating]]"
        in prompts["single-v1"]["system_prompt"] + prompts["single-v1"]["prompt_template"]
    )
    name = judge_prompts.mt_bench_prompt_name(
        pairwise=False, reference_guided=True, multi_turn=True
    )
    assert name == "single-math-v1-multi-turn" and name in prompts
    arena = judge_prompts.arena_hard_judge_config()
    assert arena["baseline_model"] == "gpt-4-0314" and "[[A>>B]]" in arena["system_prompt"]
    assert all(path.is_file() for path in judge_prompts.judge_prompt_files().values())
