"""Task and Suite records: what a task holds, how it round-trips, how splits are drawn."""

from __future__ import annotations

import pytest

from ads_bench.suites import Suite, Task, read_tasks_jsonl, split_instructions, write_tasks_jsonl


def make_task(**overrides) -> Task:
    fields = dict(
        id="t1",
        suite="demo",
        category="math",
        observed=("What is 2+2?",),
        held_out=("What is 3+3?", "What is 4+4?"),
        references=(("6",), ("8",)),
        metadata={"judge_mode": "single", "reference_guided": True},
    )
    fields.update(overrides)
    return Task(**fields)


def test_a_task_round_trips_through_a_dict_and_jsonl(tmp_path):
    task = make_task(turns=(("What is 3+3?", "And doubled?"), ("What is 4+4?",)))
    assert Task.from_dict(task.to_dict()) == task
    assert Task.from_dict(task.to_dict()).metadata == task.metadata

    path = tmp_path / "tasks.jsonl.gz"
    write_tasks_jsonl(path, [task, make_task(id="t2")])
    loaded = read_tasks_jsonl(path)
    assert [t.id for t in loaded] == ["t1", "t2"]
    assert loaded[0].turns == task.turns


def test_lists_from_json_become_tuples_so_tasks_stay_immutable():
    task = make_task(observed=["a"], held_out=["b"], references=[["ref"]])
    assert task.observed == ("a",) and task.held_out == ("b",) and task.references == (("ref",),)
    with pytest.raises(AttributeError):
        task.id = "other"  # type: ignore[misc]


def test_references_and_turns_must_align_with_held_out_prompts():
    with pytest.raises(ValueError, match="references"):
        make_task(references=(("6",),))
    with pytest.raises(ValueError, match="start with its prompt"):
        make_task(references=(), turns=(("something else",), ("What is 4+4?",)))
    with pytest.raises(ValueError, match="no held-out"):
        make_task(held_out=(), references=())


def test_a_task_answers_lookups_by_index_and_by_instruction():
    task = make_task(turns=(("What is 3+3?", "And doubled?"), ("What is 4+4?",)))
    assert task.conversation(0) == ("What is 3+3?", "And doubled?")
    assert task.reference(1) == ("8",)
    assert task.reference_for("What is 4+4?") == ("8",)
    assert task.reference_for("not a held-out prompt") is None
    assert task.judge_mode == "single" and task.reference_guided
    assert task.uid == "demo/t1"
    assert make_task(references=()).reference(0) is None


def test_a_suite_counts_tasks_and_distinct_prompts_and_rejects_duplicate_ids():
    suite = Suite(
        "demo", (make_task(), make_task(id="t2", held_out=("What is 3+3?", "new?"), references=()))
    )
    assert len(suite) == 2
    assert suite.prompt_count == 4  # 2+2, 3+3, 4+4, new?
    assert suite.held_out_count == 4
    assert suite.task("t2").held_out[1] == "new?"
    assert [t.id for t in suite.limited(1)] == ["t1"]
    with pytest.raises(ValueError, match="two tasks"):
        Suite("demo", (make_task(), make_task()))


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    instructions = [f"instruction {i}" for i in range(12)]
    first = split_instructions(instructions, n_observed=3, seed=0, key="task-a")
    assert first == split_instructions(instructions, n_observed=3, seed=0, key="task-a")
    observed, held_out = first
    assert len(observed) == 3 and len(held_out) == 9
    assert set(observed) | set(held_out) == set(instructions) and not set(observed) & set(held_out)
    # both parts keep the instructions' original order
    assert list(held_out) == [t for t in instructions if t in held_out]
    others = {
        split_instructions(instructions, n_observed=3, seed=s, key="task-a")[0] for s in range(1, 6)
    }
    assert any(o != observed for o in others)
    assert split_instructions(instructions, n_observed=3, seed=0, key="task-b") != first


def test_a_split_cannot_observe_more_instructions_than_exist():
    with pytest.raises(ValueError):
        split_instructions(["a", "b"], n_observed=3, seed=0, key="k")
