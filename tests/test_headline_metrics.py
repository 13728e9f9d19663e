"""Each suite's own headline, computed the same way in every path (issue 12, items 13–15, 19, 20).

Arena-Hard: the Bradley–Terry score against the baseline, where a strong verdict weighs three
battles and a failed game drops out alone; ``score --format arena_hard`` reads labels exactly as
Arena-Hard-Auto v0.1's ``show_result.py``; a position-biased judge is marked in the headline; the
AlpacaEval suite is judged in the published protocol's single random order by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alpaca_eval.metrics.glm_winrate import get_is_extreme_changes
from click.testing import CliRunner
from rich.console import Console
from run_folders import verdict_record, write_run

from ads_bench.cli.evaluate_cmd import evaluate
from ads_bench.cli.run_cmd import run
from ads_bench.cli.score_cmd import score
from ads_bench.cli.tables import metrics_table
from ads_bench.judging.engine import PairJudgment
from ads_bench.judging.headline import ARENA_HARD, WIN_RATE
from ads_bench.judging.metrics import Battles, bradley_terry
from ads_bench.judging.metrics.winrate import lc_far_from_win_rate
from ads_bench.judging.summary import pairwise_metrics
from ads_bench.pipeline.evaluate import EvalConfig
from ads_bench.pipeline.run import RunConfig
from ads_bench.pipeline.scoring import NOT_COMPARABLE_WITH_ALPACA_EVAL, resolve_orders
from ads_bench.reporting.leaderboard import load_leaderboard
from ads_bench.reporting.report import build_report

# (baseline shown first, model shown first): the model wins weakly, then loses strongly
MIXED = ("B>A", "B>>A")


def arena_judgment(item: str, verdicts) -> PairJudgment:
    from ads_bench.pipeline.prompts import Prompt
    from ads_bench.pipeline.scoring import _pair

    prompt = Prompt(item, item, "general", ("q",), None, item, "pairwise", False, "arena_hard_v0.1")
    return _pair(verdict_record(prompt, verdicts))


def table_text(metrics: dict) -> str:
    console = Console(width=200, record=True)
    console.print(metrics_table(metrics, "metrics"))
    return console.export_text()


# -- item 13 ----------------------------------------------------------------------------------------

def test_one_fully_failed_item_leaves_the_arena_hard_score_of_the_others():
    good = [arena_judgment(f"q{i}", ("B>A", "A>B") if i % 3 else MIXED) for i in range(20)]
    alone = pairwise_metrics(good, model_name="m", reference_name="base")["arena_hard"]
    failed = arena_judgment("q-failed", (None, None))
    assert failed.failed
    with_failure = pairwise_metrics([*good, failed], model_name="m", reference_name="base")["arena_hard"]
    assert with_failure["score"] == pytest.approx(alone["score"])
    assert (with_failure["n_games"], with_failure["n_failed_games"]) == (42, 2)


# -- item 14 ----------------------------------------------------------------------------------------

def test_the_arena_hard_headline_is_the_bradley_terry_score_where_a_strong_verdict_weighs_three(tmp_path):
    folder = write_run(tmp_path / "arena", "none", [[MIXED]] * 12, suite="arena-hard",
                       judge_config="arena_hard_v0.1")
    metrics = json.loads((folder / "metrics.json").read_text())
    # one weak win and one strong loss per question: a preference of 0.5, but 1 battle point of 4
    assert metrics["pairwise"]["win_rate"] == pytest.approx(50.0)
    battles = Battles.from_rows([("base", "none", 0.0), *[("base", "none", 1.0)] * 3])
    expected = bradley_terry(battles, baseline="base", rounds=1).rating_of("none").win_rate
    assert metrics["pairwise"]["arena_hard"]["score"] == pytest.approx(expected) == pytest.approx(25.0, abs=1e-4)
    [entry] = load_leaderboard([folder]).entries
    assert entry.metric == ARENA_HARD and entry.score == pytest.approx(25.0, abs=1e-4)
    assert "Arena-Hard score % (95% CI)" in table_text(metrics).split("win rate")[0]
    assert "Arena-Hard score %" in build_report(folder)


def test_a_failed_game_drops_out_alone_in_metrics_and_leaderboard_alike(tmp_path):
    # every question: the baseline-first game failed, the model-first game is a strong model win
    folder = write_run(tmp_path / "arena", "none", [[(None, "A>>B")]] * 12, suite="arena-hard",
                       judge_config="arena_hard_v0.1")
    arena = json.loads((folder / "metrics.json").read_text())["pairwise"]["arena_hard"]
    assert arena["score"] == pytest.approx(100.0, abs=0.01)
    assert (arena["n_games"], arena["n_failed_games"]) == (24, 12)
    [entry] = load_leaderboard([folder]).entries
    assert entry.score == pytest.approx(arena["score"]) and (entry.n_judged, entry.n_failed) == (12, 12)


def test_paired_arena_hard_differences_are_differences_of_the_bt_scores(tmp_path):
    base = write_run(tmp_path / "none", "none", [[MIXED]] * 12, suite="arena-hard", judge_config="arena_hard_v0.1")
    better = [[("B>A", "A>B") if t % 2 else MIXED] for t in range(12)]  # half the questions: two weak wins
    gain = write_run(tmp_path / "ads", "ads", better, suite="arena-hard", judge_config="arena_hard_v0.1")
    board = load_leaderboard([base, gain])
    ads = next(e for e in board.entries if e.name == "ads")
    none = next(e for e in board.entries if e.name == "none")
    assert ads.metric == none.metric == ARENA_HARD
    assert ads.difference == pytest.approx(ads.score - none.score, abs=1e-3)
    assert ads.p_value is not None and ads.ci_lower is not None and ads.n_paired_tasks == 12


def test_an_alpaca_eval_headline_carries_its_lc_win_rate_and_mt_bench_its_mean(tmp_path):
    folder = write_run(tmp_path / "run", "none", [[0.6, 0.7]] * 12, suite="alpacaeval", orders="random")
    [entry] = load_leaderboard([folder]).entries
    assert entry.metric == WIN_RATE
    metrics = json.loads((folder / "metrics.json").read_text())
    assert entry.lc_win_rate == metrics["pairwise"].get("length_controlled_winrate")
    board = load_leaderboard([Path(__file__).parent / "data" / "runs" / "mt-bench-eval"])
    assert board.entries[0].metric == "MT-Bench 1–10" and board.entries[0].score == pytest.approx(6.0)


def test_failed_answers_are_shown_beside_the_failed_judgments(tmp_path):
    folder = write_run(tmp_path / "run", "none", [[0.6, None]] * 12, n_failed_answers=3)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert "failed answers (not judged)" in table_text(metrics)
    board = load_leaderboard([folder])
    assert board.rows()[0]["failed"] == "12 of 24; 3 failed answers not judged"
    assert "failed answers" in build_report(folder)


# -- item 15 ----------------------------------------------------------------------------------------

def v01_show_result_score(records) -> float:
    """Arena-Hard-Auto v0.1's get_battles_from_row, for one model against its baseline: only the
    five labels count (``==``), a strong one as 3 battles; anything else drops that game."""
    points = {"A>>B": (0, 3), "A>B": (0, 1), "A=B": (0.5, 1), "B>A": (1, 1), "B>>A": (1, 3)}
    won = total = 0.0
    for record in records:
        for game, swapped in zip(record["games"], (False, True), strict=True):
            if game is None or game["score"] not in points:
                continue
            share, weight = points[game["score"]]
            won += weight * (1 - share if swapped else share)
            total += weight
    return 100 * won / total


def test_score_arena_hard_counts_only_v01s_five_labels_unless_asked_to_normalise(tmp_path):
    labels = [("B>A", "B=A"), ("A<B", "A>B"), ("B>>A", None), (" A>B", "B<<A"), ("A=B", "B>A"),
              ("B>A", "A>>B"), ("A>B", "A<<B")]
    records = [{"question_id": f"q{i}", "model": "m", "judge": "gpt-4", "baseline": "base",
                "games": [{"score": first}, {"score": second}]} for i, (first, second) in enumerate(labels)]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    runner = CliRunner()
    strict = json.loads(runner.invoke(score, [str(path), "--format", "arena_hard", "--json"]).output)
    [model] = [m for m in strict["models"] if m["model"] == "m"]
    assert model["score"] == pytest.approx(v01_show_result_score(records), abs=1e-4)
    assert model["n_failed_games"] == 6  # B=A, A<B, null, " A>B", B<<A, A<<B
    normalised = json.loads(runner.invoke(
        score, [str(path), "--format", "arena_hard", "--json", "--normalize-labels"]).output)
    [model] = [m for m in normalised["models"] if m["model"] == "m"]
    assert model["n_failed_games"] == 1 and normalised["normalize_labels"] is True


# -- item 19 ----------------------------------------------------------------------------------------

def test_a_position_biased_judge_is_marked_in_the_headline_everywhere(tmp_path):
    # the judge prefers whatever is shown second: the model's preference is 0.9 when it is shown
    # second and 0.1 when shown first, so the orders never agree and P(first) is 0.1
    folder = write_run(tmp_path / "biased", "none", [[0.5]] * 12, p_first=0.1)
    metrics = json.loads((folder / "metrics.json").read_text())
    expected = "judge unreliable: position bias (order agreement 0.00, P(first) 0.10)"
    assert metrics["warnings"] == [expected]
    assert expected in table_text(metrics)
    [entry] = load_leaderboard([folder]).entries
    row = load_leaderboard([folder]).rows()[0]
    assert entry.warnings == [expected] and row["score [95% CI]"].startswith(expected)
    assert expected in build_report(folder)


def test_too_few_pairs_are_not_judged_for_position_bias(tmp_path):
    folder = write_run(tmp_path / "few", "none", [[0.5]] * 9, p_first=0.1)
    assert json.loads((folder / "metrics.json").read_text())["warnings"] == []


# -- item 20 ----------------------------------------------------------------------------------------

def test_alpacaeval_defaults_to_its_published_single_random_order():
    assert EvalConfig(suite="alpacaeval").orders is None and RunConfig(strategy="none").orders is None
    assert resolve_orders(None, "alpacaeval") == "random"
    assert resolve_orders(None, "arena-hard") == resolve_orders(None, "inhouse") == "both"
    assert resolve_orders("both", "alpacaeval") == "both"  # --orders still overrides
    for command in (evaluate, run):
        [option] = [p for p in command.params if p.name == "orders"]
        assert option.default is None


def test_both_orders_on_alpacaeval_are_labelled_not_comparable(tmp_path):
    both = write_run(tmp_path / "both", "none", [[0.6]] * 12, suite="alpacaeval", orders="both")
    metrics = json.loads((both / "metrics.json").read_text())
    assert NOT_COMPARABLE_WITH_ALPACA_EVAL in metrics["warnings"]
    assert "not comparable with the published AlpacaEval leaderboard" in load_leaderboard([both]).rows()[0][
        "score [95% CI]"]
    random = write_run(tmp_path / "random", "none", [[0.6]] * 12, suite="alpacaeval", orders="random")
    assert json.loads((random / "metrics.json").read_text())["warnings"] == []


@pytest.mark.parametrize("win_rate, lc", [(20, 9.9), (20, 10.1), (20, 40.1), (20, 39.9), (50, 37.4), (50, 62.6),
                                          (50, 55), (9.18, 37.77), (90, 97), (90, 79.9)])
def test_the_lc_warning_is_alpaca_evals_extreme_change_check(win_rate, lc):
    assert lc_far_from_win_rate(win_rate, lc) == get_is_extreme_changes(win_rate, lc)


def test_a_headline_the_embedded_model_judged_says_it_tests_the_pipeline_not_models(tmp_path):
    from ads_bench.pipeline.scoring import EMBEDDED_JUDGE_WARNING, judge_warnings

    assert judge_warnings("embedded") == judge_warnings("embedded?ctx=2048") == [EMBEDDED_JUDGE_WARNING]
    assert judge_warnings("http://127.0.0.1:8000/v1::judge") == judge_warnings(None) == []
    folder = write_run(tmp_path / "embedded", "none", [[0.6]] * 12, judge="embedded")
    row = load_leaderboard([folder]).rows()[0]
    assert row["score [95% CI]"].startswith(EMBEDDED_JUDGE_WARNING)
