"""Readers of published judgment files: malformed input is one UserError naming file, line, fix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ads_bench.errors import UserError
from ads_bench.judging.format_alpaca_eval import (
    read_alpaca_eval,
    read_gamed_annotations,
    read_instruction_difficulty,
)
from ads_bench.judging.format_arena_hard import read_arena_hard
from ads_bench.judging.format_mt_bench import read_mt_bench, read_questions
from ads_bench.judging.format_text import _pandas_float
from ads_bench.judging.formats import detect_format

DATA = Path(__file__).parent / "data" / "judgments"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_formats_are_detected_from_the_content():
    assert detect_format(DATA / "alpaca_eval_annotations.json") == "alpaca_eval"
    assert detect_format(DATA / "arena_hard") == "arena_hard"
    assert detect_format(DATA / "arena_hard" / "model-x.jsonl") == "arena_hard"
    assert detect_format(DATA / "mt_bench_single.jsonl") == "mt_bench"


def test_alpaca_eval_reader_keeps_failed_judgments_as_nan():
    annotations = read_alpaca_eval(DATA / "alpaca_eval_annotations.json")
    assert annotations.model == "my-model"
    assert annotations.reference == "gpt4_1106_preview"
    assert np.isnan(annotations.preferences[3])
    assert annotations.preferences[[0, 2, 4]].tolist() == [0.25, 0.5, 0.5]
    assert annotations.lengths_model[0] == len("Red, blue, green.")


@pytest.mark.parametrize(
    "token",
    [
        "1.0000009722",
        "0.1",
        "1.9999999999",
        "2.0",
        "1e-05",
        "-2.5E3",
        "1.23456789012345678",
        "0.30000000000000004",
    ],
)
def test_numbers_are_parsed_as_pandas_read_json_parses_them(token):
    import io

    import pandas as pd

    expected = pd.read_json(io.StringIO(f'[{{"x": {token}}}]'))["x"].iloc[0]
    assert _pandas_float(token) == float(expected)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"preference": 1}', "expected a JSON list"),
        (
            '[\n{"output_1": "a", "output_2": "b", "preference": 1.5},\n{"output_1": "a"}\n]',
            "line 3: annotation lacks output_2, preference",
        ),
        (
            '[\n{"output_1": "a", "output_2": "b", "preference": "abc"}\n]',
            "line 2: preference 'abc' is not a number",
        ),
        ('[\n{"output_1": "a", "output_2": "b", "preference": [1]}\n]', "line 2: preference"),
        ('[\n{"output_1": "a", "output_2": "b", "preference": 1.5,}\n]', "line 2: not valid JSON"),
        ("[]", "empty"),
    ],
)
def test_malformed_alpaca_eval_files_are_user_errors(tmp_path, text, needle):
    path = write(tmp_path, "annotations.json", text)
    with pytest.raises(UserError, match="annotations.json") as error:
        read_alpaca_eval(path)
    assert needle in str(error.value)


def test_annotations_of_several_models_must_be_split(tmp_path):
    records = [
        {"output_1": "a", "output_2": "b", "preference": 1.5, "generator_2": name}
        for name in ("m1", "m2")
    ]
    path = write(tmp_path, "annotations.json", json.dumps(records))
    with pytest.raises(UserError, match="one file per generator_2"):
        read_alpaca_eval(path)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"question_id": "q", "model": "m"}', "needs question_id (or uid), model and games"),
        ('{"question_id": "q", "model": "m", "games": [{"judgment": "x"}]}', "with a score"),
        ('{"question_id": "q", "model": "m", "games": [{"score": 3}]}', "not a verdict label"),
        ('{"question_id": "q", "model": "m", "games": []}', "0 games"),
        ("{not json", "not valid JSON"),
    ],
)
def test_malformed_arena_hard_files_are_user_errors(tmp_path, line, needle):
    good = '{"question_id": "q0", "model": "m", "games": [{"score": "A>B"}, {"score": null}]}'
    path = write(tmp_path, "m.jsonl", good + "\n" + line + "\n")
    with pytest.raises(UserError, match=r"m\.jsonl, line 2") as error:
        read_arena_hard([path])
    assert needle in str(error.value)


def test_arena_hard_reader_keeps_null_verdicts_and_reads_v2_uid(tmp_path):
    path = write(
        tmp_path,
        "m.jsonl",
        json.dumps(
            {
                "uid": "u1",
                "model": "m",
                "baseline": "o3",
                "judge": "j",
                "games": [{"score": "A>B"}, {"score": None}],
            }
        )
        + "\n",
    )
    (judgment,) = read_arena_hard([path])
    assert judgment.game.prompt == "u1" and judgment.baseline == "o3"
    assert judgment.game.verdicts == ("A>B", None)


@pytest.mark.parametrize(
    ("record", "needle"),
    [
        ({"question_id": 81, "model": "m", "turn": 1}, "lacks score"),
        (
            {"question_id": 81, "model": "m", "turn": 1, "score": "ten"},
            "score 'ten' is not a number",
        ),
        ({"question_id": 81, "model": "m", "turn": 0, "score": 5}, "turn 0 must be 1 or 2"),
    ],
)
def test_malformed_mt_bench_files_are_user_errors(tmp_path, record, needle):
    path = write(tmp_path, "gpt-4_single.jsonl", json.dumps(record) + "\n")
    with pytest.raises(UserError, match=r"gpt-4_single\.jsonl, line 1") as error:
        read_mt_bench([path])
    assert needle in str(error.value)


def test_mt_bench_reader_turns_minus_one_into_a_failure():
    judgments = read_mt_bench([DATA / "mt_bench_single.jsonl"])
    failed = [j for j in judgments if j.score is None]
    assert [(j.model, j.question_id, j.turn) for j in failed] == [("model-a", 101, 2)]
    assert judgments[0].judge == "gpt-4/single-v1"


def test_questions_give_categories_and_clusters():
    questions = read_questions(DATA / "arena_hard_questions.jsonl")
    assert questions["q1"].cluster == "topic 0"
    assert read_questions(DATA / "mt_bench_questions.jsonl")["101"].category == "reasoning"


def test_alpaca_eval_hub_tables_are_read(tmp_path):
    difficulty = write(
        tmp_path, "instruction_difficulty.csv", ",instruction_difficulty\n0,-0.5\n1,1.25\n"
    )
    assert read_instruction_difficulty(difficulty) == {0: -0.5, 1: 1.25}
    gamed = write(
        tmp_path,
        "df_gamed.csv",
        "model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n"
        "v,0,0.25,-1.0,-0.5,False\nv,1,,0.5,1.25,False\n",
    )
    table = read_gamed_annotations(gamed)
    assert table.difficulty_table() == {0: -0.5, 1: 1.25}
    assert np.isnan(table.preference[1])
    bad = write(tmp_path, "bad.csv", "index,preference\n0,0.5\n")
    with pytest.raises(UserError, match="line 1: .*std_delta_len"):
        read_gamed_annotations(bad)
