"""Programmatic judges: an answer checked against the known truth by a program, not a model.

A judge is named like a model spec, ``program:KIND[?option=value&...]``:

- ``program:exact`` — equal after normalisation (SQuAD's: lower case, punctuation and the
  articles a/an/the removed, whitespace collapsed); score 1 or 0;
- ``program:f1`` — token F1 between the normalised answer and truth (SQuAD's); score in [0, 1];
- ``program:numeric`` — the answer's number equals the truth within ``tolerance`` (absolute,
  default 0) or ``rel`` (relative, default 0); for a truth of type ``year`` the answer's number is
  its first 3–4 digit integer (so "born on 14 March 1879" reads 1879, not 14), otherwise its first
  number; score 1 or 0; an answer with no number scores 0;
- ``program:regex`` — ``re.search`` of ``pattern`` (option, else the truth's own ``pattern``, else
  the truth answer as a whole word) in the answer, case-insensitive; score 1 or 0.

**Pairwise outcome** (``run`` compares the taught policy's answer A with the un-updated policy's
answer B, or with the suite's reference answer): both are scored against the truth and
``preference = 1`` if score(A) > score(B), ``0`` if score(A) < score(B), ``0.5`` if they are equal
(both right, or both wrong, or equal F1). The win rate is then the usual mean preference, so
metrics, leaderboard and report read these records exactly as an LLM judge's.

They cost nothing and are never cached: the judgment is recomputed from the logged answers.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ads_bench.errors import UserError
from ads_bench.registry import Registry

PREFIX = "program:"
#: the built-in kinds (``PROGRAM_JUDGES`` below holds these and any plugin's)
KINDS = ("exact", "f1", "numeric", "regex")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | {"–", "—", "‘", "’", "“", "”"}
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
_YEAR = re.compile(r"(?<![\d.,])\d{3,4}(?![\d.,]\d)")


def is_program_judge(spec: str | None) -> bool:
    return bool(spec) and str(spec).startswith(PREFIX)


@dataclass(frozen=True)
class ProgramJudge:
    """A parsed ``program:KIND?...`` spec."""

    kind: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{PREFIX}{self.kind}" + (f"?{query}" if query else "")

    def score(self, answer: str, truth: Mapping[str, Any]) -> float:
        """How right ``answer`` is against ``truth`` (``{answer, answer_type, pattern?}``), in [0, 1]."""
        return float(PROGRAM_JUDGES.load(self.kind)(self, answer or "", truth))


def parse_program_judge(spec: str) -> ProgramJudge:
    """``program:numeric?tolerance=1`` -> ProgramJudge; anything else a one-line UserError."""
    if not is_program_judge(spec):
        raise UserError(f"'{spec}' is not a programmatic judge: write program:KIND, KIND one of {', '.join(KINDS)}")
    body = spec[len(PREFIX):]
    kind, _, query = body.partition("?")
    if kind not in PROGRAM_JUDGES:
        kinds = PROGRAM_JUDGES.names()
        raise UserError(f"programmatic judge '{kind}' is unknown in '{spec}': use program:" + " or program:".join(kinds))
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    accepted = set(getattr(PROGRAM_JUDGES.load(kind), "options", ()))
    unknown = set(options) - accepted
    if unknown:
        allowed = ", ".join(sorted(accepted)) or "none"
        raise UserError(f"program:{kind} takes no option {', '.join(sorted(unknown))} (options: {allowed})")
    for name in ("tolerance", "rel"):
        if name in options:
            try:
                if float(options[name]) < 0:
                    raise ValueError
            except ValueError:
                raise UserError(f"program:numeric {name}={options[name]!r}: give a number >= 0") from None
    if "pattern" in options:
        try:
            re.compile(options["pattern"])
        except re.error as exc:
            raise UserError(f"program:regex pattern {options['pattern']!r} is not a valid regex ({exc})") from None
    return ProgramJudge(kind, options)


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(" " if ch in _PUNCTUATION else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def _exact(judge: ProgramJudge, answer: str, truth: Mapping[str, Any]) -> float:
    return float(normalise(answer) == normalise(str(truth["answer"])))


def token_f1(answer: str, truth: str) -> float:
    predicted, gold = normalise(answer).split(), normalise(truth).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _f1(judge: ProgramJudge, answer: str, truth: Mapping[str, Any]) -> float:
    return token_f1(answer, str(truth["answer"]))


def first_number(answer: str, answer_type: str = "") -> float | None:
    """The number an answer gives: its first year-like integer for a ``year``, else its first number."""
    if answer_type == "year":
        match = _YEAR.search(answer)
        return float(match.group(0)) if match else None
    match = _NUMBER.search(answer)
    return float(match.group(0).replace(",", "")) if match else None


def _numeric(judge: ProgramJudge, answer: str, truth: Mapping[str, Any]) -> float:
    value = first_number(answer, str(truth.get("answer_type", "")))
    target = first_number(str(truth["answer"]))
    if value is None or target is None:
        return 0.0
    allowed = max(float(judge.options.get("tolerance", 0)), float(judge.options.get("rel", 0)) * abs(target))
    return float(abs(value - target) <= allowed + 1e-9)


def _regex(judge: ProgramJudge, answer: str, truth: Mapping[str, Any]) -> float:
    pattern = judge.options.get("pattern") or truth.get("pattern") or rf"\b{re.escape(str(truth['answer']))}\b"
    return float(re.search(pattern, answer, flags=re.IGNORECASE) is not None)


Scorer = Callable[[ProgramJudge, str, Mapping[str, Any]], float]

#: a scorer ``(judge, answer, truth) -> score in [0, 1]`` per kind, its accepted options in its
#: ``options`` attribute; other packages add kinds under the entry-point group
#: ``ads_bench.program_judges`` (then ``program:THEIR_KIND`` is a judge)
PROGRAM_JUDGES = Registry("program_judges", what="programmatic judge")


def register_program_judge(kind: str, *, options: tuple[str, ...] = ()) -> Callable[[Scorer], Scorer]:
    """Decorator over a scorer: ``@register_program_judge("contains", options=("word",))``."""

    def decorate(scorer: Scorer) -> Scorer:
        scorer.options = frozenset(options)  # type: ignore[attr-defined]
        return PROGRAM_JUDGES.register(kind, scorer)

    return decorate


register_program_judge("exact")(_exact)
register_program_judge("f1")(_f1)
register_program_judge("numeric", options=("tolerance", "rel"))(_numeric)
register_program_judge("regex", options=("pattern",))(_regex)


def program_judge_table() -> list[dict[str, object]]:
    """Rows for ``ads-bench list program_judges``."""
    rows: list[dict[str, object]] = []
    for entry in PROGRAM_JUDGES:
        try:
            options = ", ".join(sorted(getattr(PROGRAM_JUDGES.load_entry(entry), "options", ()))) or "none"
        except UserError as exc:
            options = f"(unavailable: {exc})"
        rows.append({"judge": f"{PREFIX}{entry.name}", "options": options, "from": entry.source})
    return rows


def pairwise_preference(score_model: float, score_reference: float) -> float:
    """The pairwise outcome of two scores: 1 (model better), 0 (reference better), 0.5 (equal)."""
    if score_model > score_reference:
        return 1.0
    if score_model < score_reference:
        return 0.0
    return 0.5
