"""Turn a judge's raw completion into a preference or a rating — or a clear parse failure.

Model output is data: these functions read text and logprobs, never execute anything. A
failure is ``None`` plus a reason; the caller retries and finally records it as a failure,
never as a tie.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ads_bench.models.types import Completion


@dataclass(frozen=True)
class Parsed:
    value: float | None  # P(second wins) for pairwise; the rating for single grading
    label: str | None = None  # the verdict as written (e.g. "B>>A", "M", "7")
    reason: str | None = None  # why it failed, when it did
    source: str = "text"  # "logprobs" or "text"

    @property
    def ok(self) -> bool:
        return self.value is not None


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def parse_logprob_tokens(completion: Completion, first: str, second: str) -> Parsed:
    """AlpacaEval's ``logprob_parser`` (is_binarize=False): P(second) / (P(first) + P(second)).

    Reads the verdict token's top logprobs. Tokens are compared after stripping whitespace (a
    small tokenizer-robustness addition: " M" counts as "M"; AlpacaEval's GPT-4 never emits
    them); a label absent from the top-k gets probability 0, as in AlpacaEval. Without logprobs
    (the backend gave none) the verdict is read from the text. A NaN or infinite logprob is a
    failure: no engine in working order reports one for its top alternatives.
    """
    if completion.logprobs:
        alternatives = completion.logprobs[0].top or ((completion.logprobs[0].token, completion.logprobs[0].logprob),)
        if not all(math.isfinite(logprob) for _, logprob in alternatives):
            # a faulty engine's NaN or infinity would become a NaN preference stored as valid
            return Parsed(None, reason=f"non-finite logprob in {[list(a) for a in alternatives]!r}"[:200])
        by_label: dict[str, list[float]] = {first: [], second: []}
        for token, logprob in alternatives:
            key = token.strip()
            if key in by_label:
                by_label[key].append(logprob)
        if by_label[first] or by_label[second]:
            lp_first = _logsumexp(by_label[first]) if by_label[first] else -math.inf
            lp_second = _logsumexp(by_label[second]) if by_label[second] else -math.inf
            p_second = math.exp(lp_second - _logsumexp([lp_first, lp_second]))
            if not math.isfinite(p_second):
                return Parsed(None, reason="the verdict's probability is not a number")
            label = second if p_second > 0.5 else first if p_second < 0.5 else f"{first}={second}"
            return Parsed(p_second, label, source="logprobs")
    text = completion.text.strip().strip("\"'`*.")
    if text == first:
        return Parsed(0.0, first)
    if text == second:
        return Parsed(1.0, second)
    return Parsed(None, reason=f"expected '{first}' or '{second}', got {completion.text[:40]!r}")


def parse_verdict(text: str, pattern: str, scores: dict[str, float]) -> Parsed:
    """Arena-Hard / FastChat: the one distinct ``[[verdict]]`` in the text; several distinct
    verdicts or none is a failure (Arena-Hard's ``get_score`` returns None and retries)."""
    matches = [m.strip("\n") for m in re.findall(pattern, text) if m]
    distinct = set(matches)
    if not distinct:
        return Parsed(None, reason="no verdict found")
    if len(distinct) > 1:
        return Parsed(None, reason=f"conflicting verdicts {sorted(distinct)}")
    label = matches[0]
    if label not in scores:
        return Parsed(None, label, reason=f"unknown verdict {label!r}")
    return Parsed(scores[label], label)


def parse_rating(text: str, pattern: str, fallback: str | None, low: float, high: float) -> Parsed:
    """FastChat single grading: ``[[rating]]``, else the backup ``[rating]`` pattern."""
    for candidate in (pattern, fallback):
        if not candidate:
            continue
        match = re.search(candidate, text)
        if match:
            try:
                rating = float(match.group(1))
            except ValueError:
                continue
            if math.isfinite(rating) and low <= rating <= high:
                return Parsed(rating, match.group(1))
            return Parsed(None, match.group(1), reason=f"rating {rating:g} outside [{low:g}, {high:g}]")
    return Parsed(None, reason="no [[rating]] found")


def parse_completion(parser: dict[str, Any], completion: Completion) -> Parsed:
    kind = parser["kind"]
    if kind == "logprob_tokens":
        return parse_logprob_tokens(completion, parser["first"], parser["second"])
    if kind == "verdict":
        return parse_verdict(completion.text, parser["pattern"], parser["scores"])
    low, high = parser.get("range", (1, 10))
    return parse_rating(completion.text, parser["pattern"], parser.get("fallback"), low, high)
