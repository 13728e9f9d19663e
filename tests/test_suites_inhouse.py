"""The in-house suite builder: decontamination, near-duplicate filtering, clustering into
tasks, Self-Instruct expansion, and the shipped inhouse / inhouse-train suites."""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ads_bench.errors import UserError
from ads_bench.models.types import ChatRequest
from ads_bench.suites import load_suite, load_suite_file
from ads_bench.suites.inhouse.build import BuildConfig, build_inhouse, write_build
from ads_bench.suites.inhouse.clustering import mean_pairwise_cosine, minilm_embedder
from ads_bench.suites.inhouse.decontaminate import Decontaminator, benchmark_prompts, words
from ads_bench.suites.inhouse.expand import (
    RougeL,
    expand_tasks,
    filter_near_duplicates,
    parse_numbered_list,
)
from ads_bench.suites.inhouse.pool import PoolItem, PoolSource, dedupe, load_pool

FIXTURES = Path(__file__).parent / "data" / "suites"
POOL = FIXTURES / "pool_small.jsonl"
BROADWAY = "What are the names of some famous actors that started their careers on Broadway?"


@pytest.fixture(scope="module")
def benchmarks() -> dict[str, list[str]]:
    return benchmark_prompts()


@pytest.fixture(scope="module")
def decontaminator(benchmarks) -> Decontaminator:
    return Decontaminator(benchmarks, n=8)


# ------------------------------------------------------------------ decontamination


def test_benchmark_prompts_cover_every_turn_of_the_three_public_benchmarks(benchmarks):
    assert {name: len(p) for name, p in benchmarks.items()} == {
        "alpacaeval": 805,
        "arena-hard": 500,
        "mt-bench": 160,
    }


def test_a_planted_alpacaeval_prompt_is_caught_verbatim_and_inside_a_longer_text(decontaminator):
    hit = decontaminator.check(BROADWAY)
    assert (
        hit is not None
        and hit.benchmark == "alpacaeval"
        and hit.prompt_index == 0
        and hit.reason == "exact"
    )
    wrapped = decontaminator.check("Quick question - " + BROADWAY.lower().rstrip("?") + " and why?")
    assert wrapped is not None and wrapped.reason == "8-gram" and wrapped.benchmark == "alpacaeval"


def test_short_texts_must_equal_a_prompt_and_unrelated_texts_pass(decontaminator):
    assert (
        decontaminator.check("Prove the Pythagorean theorem!").reason == "exact"
    )  # an MT-Bench turn
    assert decontaminator.check("Prove the Pythagorean theorem using similar triangles") is None
    assert decontaminator.check("Write a limerick about a cat who learns to code in Rust.") is None


def test_n_gram_length_is_respected():
    index = Decontaminator({"bench": ["one two three four five six seven eight nine"]}, n=8)
    assert index.check("zero one two three four five six seven eight") is not None  # 8 shared words
    assert index.check("zero one two three four five six seven") is None  # only 7
    assert words("Hello, World!  It's") == ("hello", "world", "it", "s")


# ------------------------------------------------------------------ near-duplicates (ROUGE-L)


def test_rouge_l_matches_the_rouge_score_package_exactly():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    a, b = (
        "Write a Python function that reverses a string.",
        "Write a Python function that reverses a given string.",
    )
    assert RougeL().f1(a, b) == pytest.approx(scorer.score(a, b)["rougeL"].fmeasure)
    assert RougeL().f1(a, b) > 0.7


def test_the_rouge_l_filter_drops_a_near_duplicate_and_keeps_distinct_instructions():
    texts = [
        "Write a Python function that reverses a string.",
        "Write a Python function that reverses a given string.",
        "Explain how photosynthesis works to a ten-year-old.",
    ]
    assert filter_near_duplicates(texts) == [texts[0], texts[2]]


def test_exact_duplicates_fold_case_and_whitespace():
    items = [PoolItem("Say hi"), PoolItem("say   HI"), PoolItem("Say hi", input="to Bob")]
    kept, dropped = dedupe(items)
    assert dropped == 1 and [i.text for i in kept] == ["Say hi", "Say hi\n\nto Bob"]


# ------------------------------------------------------------------ Self-Instruct expansion


@dataclass
class Reply:
    text: str = ""
    error: str | None = None


def test_numbered_lists_parse_into_items_including_multiline_ones():
    text = "Sure!\n1. First one.\n2) Second one\nwith an input line.\n 3. Third.\n"
    assert parse_numbered_list(text) == ["First one.", "Second one\nwith an input line.", "Third."]
    assert parse_numbered_list("No list here, just prose.") == []


def test_expansion_keeps_only_new_distinct_clean_instructions(decontaminator):
    task = [
        "Write a Python function that reverses a string.",
        "Implement a Python function to check whether a number is prime.",
        "Write Python code that counts the vowels in a sentence.",
    ]
    seen_requests: list[ChatRequest] = []

    def generate(requests):
        seen_requests.extend(requests)
        return [
            Reply(
                "1. Write a Python function that reverses a given string.\n"  # ROUGE-L > 0.7
                "2. Draw an image of a snake eating a keyboard.\n"  # not doable by a text model
                f"3. {BROADWAY}\n"  # an AlpacaEval prompt
                "4. Write a Python function that returns the median of a list of numbers.\n"
                "5. Write a Python function that returns the median of a list of numbers.\n"  # repeat
                "6. Create a Python function that converts Celsius to Fahrenheit.\n"
            ),
            Reply(error="server down"),
        ]

    grown, stats = expand_tasks(
        [task, list(task)],
        generate,
        target_size=5,
        seed=0,
        max_rounds=1,
        decontaminator=decontaminator,
    )
    assert grown[0] == task + [
        "Write a Python function that returns the median of a list of numbers.",
        "Create a Python function that converts Celsius to Fahrenheit.",
    ]
    assert grown[1] == task  # its request failed
    assert stats.failed_requests == 1 and stats.accepted == 2 and stats.requests == 2
    assert stats.dropped == {"rouge_l": 1, "blocked_word": 1, "contaminated": 1, "duplicate": 1}
    assert stats.tasks_reaching_target == 1
    prompt = seen_requests[0].messages[-1]["content"]
    assert all(example in prompt for example in task) and "2 new instructions" in prompt
    assert seen_requests[0].params.temperature == 0.7


def test_expansion_stops_when_the_model_gives_nothing_new():
    calls = []

    def generate(requests):
        calls.append(len(requests))
        return [Reply("1. Write a Python function that reverses a string.")] * len(requests)

    grown, stats = expand_tasks(
        [["Write a Python function that reverses a string.", "b c d e"]],
        generate,
        target_size=10,
        patience=2,
    )
    assert grown[0] == ["Write a Python function that reverses a string.", "b c d e"]
    assert len(calls) == 2 and stats.rounds == 2


@pytest.mark.model
def test_expansion_runs_against_the_real_embedded_model(fresh_runtime):
    model = fresh_runtime.model("embedded", role="expert")
    task = [
        "Classify the sentiment of this review as positive or negative: the pasta was cold.",
        "Is this tweet positive or negative? 'Best concert of my life!'",
        "Decide whether this review is positive or negative: the battery died in a day.",
    ]
    grown, stats = expand_tasks(
        [task], model.generate_sync, target_size=5, seed=0, max_rounds=1, max_tokens=200
    )
    assert stats.requests == 1 and stats.failed_requests == 0
    rouge = RougeL()
    for index, new in enumerate(grown[0][3:], start=3):
        assert rouge.max_f1(new, grown[0][:index]) <= 0.7


# ------------------------------------------------------------------ building from a small pool


@pytest.fixture(scope="module")
def small_build(benchmarks, tmp_path_factory):
    config = BuildConfig(
        sources=(PoolSource(POOL, "prompt", None, "fixture"),),
        n_tasks=2,
        seed=0,
        mean_cluster_size=7,
        min_size=5,
        max_size=10,
        compare_methods=True,
    )
    result = build_inhouse(config, embed=minilm_embedder(), benchmarks=benchmarks)
    out = tmp_path_factory.mktemp("inhouse")
    write_build(result, out, command="test")
    return result, out


def test_the_build_removes_the_planted_prompt_and_the_near_duplicate(small_build):
    result, _ = small_build
    report = result.report
    assert report["pool"]["loaded"] == 30
    assert report["decontamination"]["removed"] == 1
    assert report["decontamination"]["by_benchmark"] == {"alpacaeval": 1}
    assert report["decontamination"]["examples"][0]["text"] == BROADWAY
    assert report["near_duplicates"]["dropped"] >= 1
    everything = [text for task in result.test + result.train for text in task.instructions]
    assert BROADWAY not in everything
    reverses = [t for t in everything if "reverses a" in t]
    assert len(reverses) <= 1
    assert {m["method"] for m in report["method_comparison"]} == {"kmeans", "agglomerative"}


def test_built_tasks_group_instructions_of_one_kind(small_build):
    result, _ = small_build
    kinds = {
        json.loads(line)["prompt"]: json.loads(line)["kind"]
        for line in POOL.read_text().splitlines()
    }
    tasks = result.test + result.train
    assert len(tasks) >= 3
    for task in tasks:
        assert 5 <= len(task.instructions) <= 10
        majority = max(
            {kinds[t] for t in task.instructions}, key=[kinds[t] for t in task.instructions].count
        )
        assert sum(kinds[t] == majority for t in task.instructions) >= 0.8 * len(task.instructions)


def test_the_written_suites_load_disjoint_with_3_observed_and_2_held_out(small_build, tmp_path):
    result, out = small_build
    assert len(result.test) == 2
    for name in ("inhouse.jsonl.gz", "inhouse-train.jsonl.gz", "build_report.json"):
        shutil.copy(out / name, tmp_path / name)
    spec = (Path(__file__).parents[1] / "tasks" / "inhouse.yaml").read_text()
    (tmp_path / "suite.yaml").write_text(
        spec.replace("data/inhouse/inhouse.jsonl.gz", "inhouse.jsonl.gz")
    )
    suite = load_suite_file(tmp_path / "suite.yaml")
    assert len(suite) == 2
    assert all(len(t.observed) == 3 and len(t.held_out) >= 2 for t in suite)
    test_texts = {text for task in result.test for text in task.instructions}
    train_texts = {text for task in result.train for text in task.instructions}
    assert test_texts and train_texts and not test_texts & train_texts
    # the build is reproducible byte for byte
    with gzip.open(out / "inhouse.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    assert [r["instructions"] for r in rows] == [t.instructions for t in result.test]
    assert all(len(r["metadata"]["instruction_sources"]) == len(r["instructions"]) for r in rows)


def test_a_user_pool_without_the_named_field_is_a_user_error(tmp_path):
    path = tmp_path / "pool.json"
    path.write_text(json.dumps([{"question": "hi"}]))
    with pytest.raises(UserError, match="no field 'instruction'.*--field"):
        load_pool([PoolSource(path)])


def test_bad_build_settings_are_user_errors():
    with pytest.raises(UserError, match="min-size"):
        BuildConfig(sources=(), min_size=4)
    with pytest.raises(UserError, match="go together"):
        BuildConfig(sources=(), expand_with="embedded")


# ------------------------------------------------------------------ the shipped suites


@pytest.fixture(scope="module")
def shipped():
    return load_suite("inhouse"), load_suite("inhouse-train")


def test_the_shipped_inhouse_suites_are_disjoint_and_well_filled(shipped):
    test, train = shipped
    assert len(test) == 500 and len(train) > 100
    for suite in shipped:
        assert all(len(t.observed) == 3 and len(t.held_out) >= 2 for t in suite)
        assert all(t.category for t in suite)
    assert not {x for t in test for x in t.instructions} & {
        x for t in train for x in t.instructions
    }
    assert not {t.id for t in test} & {t.id for t in train}


def test_the_shipped_suites_hold_no_benchmark_prompt(shipped, decontaminator):
    assert not [
        x for suite in shipped for t in suite for x in t.instructions if decontaminator.check(x)
    ]


def test_the_shipped_split_is_seeded(shipped):
    test, _ = shipped
    reseeded = load_suite("inhouse", seed=1)
    assert [t.instructions for t in reseeded] != [] and [set(t.instructions) for t in reseeded] == [
        set(t.instructions) for t in test
    ]
    assert [t.observed for t in reseeded] != [t.observed for t in test]
    assert [t.observed for t in load_suite("inhouse", seed=0)] == [t.observed for t in test]


def test_tighter_than_random_grouping(shipped):
    """Clustered tasks are far more coherent than random groups of the same instructions."""
    import random

    test, _ = shipped
    embed = minilm_embedder()
    sample = test.tasks[:20]
    clustered = [mean_pairwise_cosine(embed(t.instructions)) for t in sample]
    pool = [x for t in sample for x in t.instructions]
    random.Random(0).shuffle(pool)
    shuffled = [mean_pairwise_cosine(embed(pool[i : i + 6])) for i in range(0, 120, 6)]
    assert sum(clustered) / len(clustered) > sum(shuffled) / len(shuffled) + 0.15


def test_the_build_command_writes_both_suites_and_the_report(tmp_path):
    from click.testing import CliRunner

    from ads_bench.cli.suites_cmd import suites

    args = [
        "build-inhouse",
        "--pool",
        str(POOL),
        "--field",
        "prompt",
        "--n-tasks",
        "1",
        "--mean-cluster-size",
        "7",
        "--max-size",
        "10",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(suites, args)
    assert result.exit_code == 0, result.output
    assert "inhouse: 1 tasks" in result.output and "decontamination removed 1" in result.output
    report = json.loads((tmp_path / "build_report.json").read_text())
    assert report["config"]["seed"] == 3 and report["config"]["method"] == "agglomerative"
    assert report["command"] == (
        f"ads-bench suites build-inhouse --pool {POOL} --field prompt --n-tasks 1 --seed 3 "
        f"--mean-cluster-size 7.0 --max-size 10 --out {tmp_path}"
    )
    assert (tmp_path / "inhouse.jsonl.gz").is_file() and (
        tmp_path / "inhouse-train.jsonl.gz"
    ).is_file()

    lonely = CliRunner().invoke(
        suites, ["build-inhouse", "--pool", str(POOL), "--expand-with", "embedded"]
    )
    assert isinstance(lonely.exception, UserError) and "go together" in str(lonely.exception)
