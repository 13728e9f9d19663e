"""AlpacaEval's length-controlled win rate: same GLM, same fit, same number as AlpacaEval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ads_bench.judging.format_alpaca_eval import read_alpaca_eval, read_gamed_annotations
from ads_bench.judging.metrics import GamedAnnotations, length_controlled_win_rate

VALIDATION = (
    Path(__file__).resolve().parents[1]
    / "tasks/judge_check/gpt-3.5-turbo-1106_weighted_alpaca_eval_gpt4_turbo_annotations.json.gz"
)
PUBLISHED_LC = 19.30058903498905


@pytest.fixture
def alpaca_glm():
    """AlpacaEval's GLM module; it flips scikit-learn's global metadata routing, so undo it."""
    glm = pytest.importorskip("alpaca_eval.metrics.glm_winrate")
    import sklearn

    yield glm
    sklearn.set_config(enable_metadata_routing=False)


def test_without_alpaca_eval_hub_tables_lc_is_alpaca_evals_minimal_glm(alpaca_glm):
    import pandas as pd

    annotations = read_alpaca_eval(VALIDATION)
    ours = length_controlled_win_rate(
        annotations.preferences, annotations.lengths_model, annotations.lengths_reference
    )
    assert ours.method == "length_controlled_minimal"

    delta = annotations.lengths_reference - annotations.lengths_model
    data = pd.DataFrame(
        {
            "preference": annotations.preferences,
            "std_delta_len": delta / np.std(delta, ddof=1),
            "not_gamed_baseline": True,
        }
    )
    test = data[["not_gamed_baseline"]].assign(std_delta_len=0.0)
    train, test = alpaca_glm.make_dmatrix_for_model(
        data, test, formula=alpaca_glm.GLM_INFO["length_controlled_minimal"]["formula"]
    )
    model = alpaca_glm.fit_LogisticRegressionCV(train, "preference", is_ytrue_proba=True)
    theirs = model.predict_proba(test)[:, 1].mean() * 100
    assert ours.win_rate == pytest.approx(theirs, rel=1e-12)
    # the documented gap to the leaderboard's length_controlled_v1 figure (see length_control.py)
    assert ours.win_rate == pytest.approx(37.7737, abs=1e-3)
    assert ours.win_rate - PUBLISHED_LC == pytest.approx(18.47, abs=0.01)


def _synthetic_alpaca_eval(n: int = 60, seed: int = 3):
    """Annotations of one model plus AlpacaEval-style gamed annotations and difficulties."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, n)
    reference_length = rng.integers(200, 2000, n)
    model_length = rng.integers(100, 2500, n)
    delta = (reference_length - model_length) / np.std(reference_length - model_length, ddof=1)
    preference = 1 / (1 + np.exp(-(-0.8 + 0.9 * difficulty - 1.2 * np.tanh(delta))))
    preference = np.clip(preference + rng.normal(0, 0.05, n), 0, 1)
    preference[5] = np.nan  # a failed judgment
    gamed_rows = []
    for variant, shift in (("verbose", -1.0), ("concise", 1.0)):
        gamed_delta = rng.normal(shift, 0.5, n)
        gamed_preference = 1 / (1 + np.exp(-(0.8 * difficulty - 1.5 * np.tanh(gamed_delta))))
        for index in range(n):
            gamed_rows.append(
                (
                    f"gpt4_1106_preview_{variant}",
                    index,
                    gamed_preference[index],
                    gamed_delta[index],
                    difficulty[index],
                )
            )
    return preference, model_length, reference_length, difficulty, gamed_rows


def _write_gamed_csv(path: Path, rows) -> None:
    lines = ["model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline"]
    lines += [f"{m},{i},{float(p)!r},{float(d)!r},{float(x)!r},False" for m, i, p, d, x in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("glm_name", ["length_controlled_v1", "length_controlled_noreg"])
def test_with_difficulty_and_gamed_baselines_lc_equals_alpaca_evals(
    glm_name, alpaca_glm, tmp_path, monkeypatch
):
    import pandas as pd

    preference, model_length, reference_length, difficulty, gamed_rows = _synthetic_alpaca_eval()
    gamed_csv = tmp_path / "df_gamed.csv"
    _write_gamed_csv(gamed_csv, gamed_rows)
    # AlpacaEval downloads df_gamed.csv from the hub; hand it our file instead
    monkeypatch.setattr(alpaca_glm, "hf_hub_download", lambda **_: str(gamed_csv))
    annotations = pd.DataFrame(
        {
            "instruction": [f"instruction {i}" for i in range(len(preference))],
            "output_1": ["r" * int(length) for length in reference_length],
            "output_2": ["m" * int(length) for length in model_length],
            "generator_1": "gpt4_1106_preview",
            "generator_2": "my-model",
            "annotator": "weighted_alpaca_eval_gpt4_turbo",
            "preference": 1 + preference,
        }
    )
    theirs = alpaca_glm.get_length_controlled_winrate(
        annotations, glm_name=glm_name, save_weights_dir=None, is_warn_extreme_changes=False
    )

    gamed = read_gamed_annotations(gamed_csv)
    if glm_name == "length_controlled_v1":
        ours = length_controlled_win_rate(preference, model_length, reference_length, gamed=gamed)
    else:
        ours = length_controlled_win_rate(
            preference, model_length, reference_length, instruction_difficulty=difficulty
        )
    assert ours.method == glm_name
    assert ours.win_rate == pytest.approx(theirs["length_controlled_winrate"], rel=1e-10)
    assert ours.standard_error == pytest.approx(theirs["lc_standard_error"], rel=1e-8)


def test_lc_removes_a_pure_length_effect():
    """A model judged only by its length wins ~50% once length is controlled."""
    rng = np.random.default_rng(0)
    n = 400
    reference_length = rng.integers(500, 1500, n).astype(float)
    model_length = reference_length * rng.uniform(0.3, 3.0, n)
    delta = (reference_length - model_length) / np.std(reference_length - model_length, ddof=1)
    preference = 1 / (1 + np.exp(2.0 * np.tanh(delta)))  # longer model answer -> preferred
    result = length_controlled_win_rate(preference, model_length, reference_length)
    assert result.coefficients["np.tanh(std_delta_len)"] < -1.5
    assert result.win_rate == pytest.approx(50.0, abs=1.0)
    assert abs(np.nanmean(preference) * 100 - 50.0) > 5  # the raw win rate was length-driven


def test_the_reference_against_itself_is_fifty_percent_by_construction():
    result = length_controlled_win_rate([0.5, 0.5], [10, 20], [10, 20], model_is_reference=True)
    assert result.win_rate == 50.0


def test_gamed_annotations_give_the_difficulty_of_each_instruction():
    gamed = GamedAnnotations(
        preference=np.array([0.4, 0.6, 0.5, 0.3]),
        std_delta_len=np.zeros(4),
        instruction_difficulty=np.array([0.1, 0.2, 0.1, 0.2]),
        instruction_index=np.array([0, 1, 0, 1]),
    )
    assert gamed.difficulty_table() == {0: 0.1, 1: 0.2}


def test_too_few_prompts_for_the_cross_validated_glm_is_reported_not_guessed():
    with pytest.raises(ValueError, match="at least 5 judged prompts"):
        length_controlled_win_rate([0.2, 0.9, np.nan], [10, 50, 30], [20, 20, 20])
    from ads_bench.judging.metrics import win_rate_summary

    summary = win_rate_summary([0.2, 0.9], lengths_model=[10, 50], lengths_reference=[20, 20])
    assert summary["length_controlled_winrate"] is None
    assert "at least 5" in summary["lc_note"]
    assert summary["win_rate"] == pytest.approx(55.0)
