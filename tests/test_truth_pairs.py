"""Judging the judge against the truth: pairs where exactly one answer is verified right."""

from __future__ import annotations

import json

import pytest

from ads_bench.errors import UserError
from ads_bench.judging.truth_pairs import truth_pairs, wilson_interval, with_interval


def _run_folder(path, rows):
    path.mkdir()
    with open(path / "answers.jsonl", "w") as answers, open(path / "judgments.jsonl", "w") as judgments:
        for pid, question, model, reference, scores in rows:
            answers.write(json.dumps({"id": pid, "turns": [question], "answers": [model]}) + "\n")
            judgments.write(json.dumps({"id": pid, "model_output": model, "reference_output": reference,
                                        "scores": scores, "preference": 0.5, "failed": False}) + "\n")
    return path


def test_only_pairs_with_exactly_one_right_answer_shown_in_a_seeded_order(tmp_path):
    folder = _run_folder(tmp_path / "run", [
        ("t#0", "When was A born?", "1879", "1900", {"model": 1.0, "reference": 0.0}),
        ("t#1", "When was B born?", "1700", "1642", {"model": 0.0, "reference": 1.0}),
        ("t#2", "When was C born?", "1500", "1500", {"model": 1.0, "reference": 1.0}),  # both right
        ("t#3", "When was D born?", "x", "y", {"model": 0.0, "reference": 0.0}),  # both wrong
    ])
    pairs = truth_pairs([folder], limit=10, seed=0)
    assert sorted(p.item.instruction for p in pairs) == ["When was A born?", "When was B born?"]
    for pair in pairs:
        right = pair.item.model_output if pair.second_is_better else pair.item.reference_output
        assert right in ("1879", "1642") and pair.source == "truth"
    assert [p.item.id for p in truth_pairs([folder], 10, 0)] == [p.item.id for p in pairs]  # seeded
    assert len(truth_pairs([folder], limit=1, seed=0)) == 1


def test_no_usable_run_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="--runs"):
        truth_pairs([], 10, 0)
    with pytest.raises(UserError, match="not a run folder"):
        truth_pairs([tmp_path], 10, 0)
    folder = _run_folder(tmp_path / "ties", [("t#0", "q", "a", "a", {"model": 1.0, "reference": 1.0})])
    with pytest.raises(UserError, match="exactly one right"):
        truth_pairs([folder], 10, 0)


def test_agreement_comes_with_its_n_and_a_wilson_interval():
    low, high = wilson_interval(20, 40)
    assert low == pytest.approx(0.3520, abs=1e-3) and high == pytest.approx(0.6480, abs=1e-3)
    assert wilson_interval(0, 0) == (None, None)
    report = with_interval({"n_pairs": 42, "n_failed": 2, "agreement": 0.5})
    assert report["n_judged"] == 40 and report["agreement_ci_lower"] == pytest.approx(low)
