"""Judge output is data: verdicts, logprob preferences and ratings are parsed, failures named."""

import math

import pytest

from ads_bench.judging.parsing import parse_logprob_tokens, parse_rating, parse_verdict
from ads_bench.models.types import Completion, TokenLogprob

ARENA = r"\[\[([AB<>=]+)\]\]"
ARENA_SCORES = {"A>>B": 0.0, "A>B": 0.0, "A=B": 0.5, "B>A": 1.0, "B>>A": 1.0}


def with_top(*alternatives, text="M"):
    token = TokenLogprob(alternatives[0][0], alternatives[0][1], tuple(alternatives))
    return Completion(text, logprobs=(token,))


def test_logprob_preference_is_the_normalised_probability_of_the_second_label():
    parsed = parse_logprob_tokens(with_top(("M", math.log(0.6)), ("m", math.log(0.2)), ("The", -3.0)), "m", "M")
    assert parsed.source == "logprobs"
    assert parsed.value == pytest.approx(0.75)  # 0.6 / (0.6 + 0.2), as AlpacaEval's logprob_parser


def test_a_label_missing_from_the_top_logprobs_has_probability_zero():
    parsed = parse_logprob_tokens(with_top(("m", -0.1), ("The", -2.0), text="m"), "m", "M")
    assert parsed.value == 0.0 and parsed.label == "m"


def test_whitespace_variants_of_a_label_count_for_it():
    parsed = parse_logprob_tokens(with_top((" M", math.log(0.3)), ("M", math.log(0.3)), ("m", math.log(0.4))), "m", "M")
    assert parsed.value == pytest.approx(0.6)


def test_without_logprobs_the_text_decides_and_anything_else_fails():
    assert parse_logprob_tokens(Completion("M"), "m", "M").value == 1.0
    assert parse_logprob_tokens(Completion(" m\n"), "m", "M").value == 0.0
    failed = parse_logprob_tokens(Completion("Output (a) is better"), "m", "M")
    assert not failed.ok and "expected" in failed.reason


def test_arena_verdicts_map_to_the_probability_that_b_wins():
    assert parse_verdict("My answer... My final verdict is: [[B>>A]]", ARENA, ARENA_SCORES).value == 1.0
    assert parse_verdict("[[A=B]]", ARENA, ARENA_SCORES).value == 0.5
    assert parse_verdict("[[A>B]] and again [[A>B]]", ARENA, ARENA_SCORES).label == "A>B"


def test_conflicting_missing_or_unknown_verdicts_are_failures_not_ties():
    assert parse_verdict("[[A>B]] ... no wait [[B>A]]", ARENA, ARENA_SCORES).reason.startswith("conflicting")
    assert parse_verdict("Both are fine.", ARENA, ARENA_SCORES).reason == "no verdict found"
    assert "unknown" in parse_verdict("[[A>>>B]]", ARENA, ARENA_SCORES).reason


def test_ratings_use_the_double_bracket_then_the_backup_pattern():
    assert parse_rating("Rating: [[7]]", r"\[\[(\d+\.?\d*)\]\]", r"\[(\d+\.?\d*)\]", 1, 10).value == 7.0
    assert parse_rating("Rating: [8.5]", r"\[\[(\d+\.?\d*)\]\]", r"\[(\d+\.?\d*)\]", 1, 10).value == 8.5
    assert not parse_rating("I'd give it a seven", r"\[\[(\d+\.?\d*)\]\]", None, 1, 10).ok
    assert "outside" in parse_rating("[[11]]", r"\[\[(\d+\.?\d*)\]\]", None, 1, 10).reason
