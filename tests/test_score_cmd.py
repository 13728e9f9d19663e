"""``ads-bench score``: a benchmark's published judgment file in, its published metrics out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ads_bench.cli.score_cmd import score
from ads_bench.errors import UserError

DATA = Path(__file__).parent / "data" / "judgments"
VALIDATION = (
    Path(__file__).resolve().parents[1]
    / "tasks/judge_check/gpt-3.5-turbo-1106_weighted_alpaca_eval_gpt4_turbo_annotations.json.gz"
)
# AlpacaEval 2.0 leaderboard, gpt-3.5-turbo-1106 (weighted_alpaca_eval_gpt4_turbo)
PUBLISHED = {
    "win_rate": 9.177964561962735,
    "standard_error": 0.8904117511864436,
    "n_wins": 64,
    "n_wins_base": 737,
    "n_draws": 4,
    "n_total": 805,
    "discrete_win_rate": 8.198757763975156,
    "avg_length": 796,
}


def run_score(*args: str) -> dict:
    result = CliRunner().invoke(score, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def score_error(*args: str) -> str:
    result = CliRunner().invoke(score, list(args))
    assert isinstance(result.exception, UserError), result.output
    return str(result.exception)


def test_score_json_prints_alpaca_evals_published_figures_exactly():
    output = run_score(str(VALIDATION))
    for key, value in PUBLISHED.items():
        assert output[key] == value, key
    assert output["n_failed"] == 0
    assert output["model"] == "gpt-3.5-turbo-1106"
    # without AlpacaEval's hub tables the LC figure is its minimal GLM, and says so
    assert output["lc_method"] == "length_controlled_minimal"
    assert output["length_controlled_winrate"] == pytest.approx(37.7737, abs=1e-3)


def test_alpaca_eval_failed_judgments_are_reported_not_tied():
    output = run_score(str(DATA / "alpaca_eval_annotations.json"))
    assert output["n_failed"] == 1  # the null preference
    assert output["n_total"] == 5
    assert output["n_draws"] == 2  # 1.5 and the legacy 0
    assert output["win_rate"] == pytest.approx((0.25 + 0.9 + 0.5 + 0.5 + 0.0000001) / 5 * 100)


def test_arena_hard_folder_scores_each_model_against_the_baseline():
    output = run_score(str(DATA / "arena_hard"))
    assert output["format"] == "arena_hard"
    assert output["baseline"] == "gpt-4-0314"
    models = {entry["model"]: entry for entry in output["models"]}
    # each model met only the baseline, so its BT win rate is its weighted empirical win rate:
    # model-x: 10 wins (one strong = 3+3), 2 ties, 3 losses; model-y: 2 wins, 3 ties, 10 losses
    assert models["model-x"]["score"] == pytest.approx((10 + 1) / 15 * 100)
    assert models["model-y"]["score"] == pytest.approx((2 + 1.5) / 15 * 100)
    assert models["gpt-4-0314"]["rating"] == 1000.0
    for name in ("model-x", "model-y"):
        assert models[name]["n_games"] == 12
        assert models[name]["n_failed_games"] == 1  # a null score, an unparseable label
        assert models[name]["lower"] <= models[name]["score"] <= models[name]["upper"]
    assert output["n_failed_games"] == 2


def test_arena_hard_with_questions_resamples_topic_clusters():
    by_battle = run_score(str(DATA / "arena_hard"))
    by_cluster = run_score(
        str(DATA / "arena_hard"), "--questions", str(DATA / "arena_hard_questions.jsonl")
    )
    assert by_cluster["resample"] == "prompt"
    x_battle = next(m for m in by_battle["models"] if m["model"] == "model-x")
    x_cluster = next(m for m in by_cluster["models"] if m["model"] == "model-x")
    assert x_cluster["score"] == x_battle["score"]
    assert x_cluster["upper"] - x_cluster["lower"] > x_battle["upper"] - x_battle["lower"]


def test_arena_hard_style_control_reads_the_answers(tmp_path):
    answers = tmp_path / "model_answer"
    answers.mkdir()
    for model, text in (
        ("gpt-4-0314", "## Answer\n- a\n- b\n**done**"),
        ("model-x", "Short."),
        ("model-y", "# Long\n" + "1. item\n" * 20),
    ):
        with open(answers / f"{model}.jsonl", "w") as handle:
            for index in range(1, 7):
                turn = {"content": f"{text} {index}", "token_len": 10 * index}
                handle.write(
                    json.dumps(
                        {
                            "question_id": f"q{index}",
                            "model_id": model,
                            "choices": [{"index": 0, "turns": [turn]}],
                        }
                    )
                    + "\n"
                )
    output = run_score(
        str(DATA / "arena_hard"), "--style-control", "all", "--answers", str(answers)
    )
    assert output["style_control"] == ["length", "headers", "lists", "bold"]
    assert set(output["style_coefficients"]) == {"length", "headers", "lists", "bold"}
    assert "--answers" in score_error(str(DATA / "arena_hard"), "--style-control", "length")


def test_mt_bench_scores_per_turn_average_and_category():
    output = run_score(
        str(DATA / "mt_bench_single.jsonl"), "--questions", str(DATA / "mt_bench_questions.jsonl")
    )
    first, second = output["models"]
    assert first["model"] == "model-a"
    assert first["turn_1"] == {"score": 8.5, "n": 2, "n_failed": 0}
    assert first["turn_2"] == {"score": 7.0, "n": 1, "n_failed": 1}  # -1 = no rating
    assert first["average"] == {"score": 8.0, "n": 3, "n_failed": 1}
    assert first["categories"]["writing"]["score"] == 7.5
    assert first["categories"]["reasoning"]["score"] == 9.0
    assert second["average"]["score"] == pytest.approx((6 + 5 + 3 + 4.5) / 4)


def test_tables_are_printed_without_json():
    result = CliRunner().invoke(
        score, [str(DATA / "mt_bench_single.jsonl")], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert "model-a" in result.output and "failed" in result.output
    result = CliRunner().invoke(score, [str(DATA / "arena_hard")], catch_exceptions=False)
    assert "separability" in result.output


def test_options_of_another_format_are_rejected():
    message = score_error(str(DATA / "mt_bench_single.jsonl"), "--baseline", "gpt-4")
    assert "--baseline applies to arena_hard" in message


def test_a_file_of_the_wrong_format_is_a_user_error(tmp_path):
    wrong = tmp_path / "judgments.jsonl"
    wrong.write_text('{"question_id": 1, "model": "m"}\n')
    assert "pass --format" in score_error(str(wrong))
    message = score_error(str(wrong), "--format", "mt_bench")
    assert str(wrong) in message and "line 1" in message
