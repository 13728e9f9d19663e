"""Decontamination: keep evaluation prompts out of the in-house suites by word n-gram overlap.

The rule follows GPT-3 (Brown et al., 2020, appendix C) and lm-evaluation-harness's
decontamination: a training text is contaminated when it shares any word n-gram with an
evaluation text, after lower-casing and dropping punctuation. GPT-3 chose N per benchmark as
the 5th-percentile example length clamped to [8, 13]; evaluation prompts here are short
instructions (AlpacaEval has prompts of a few words), so the default is N = 8. A pool text
shorter than N words cannot share an N-gram; it is contaminated when it *equals* an evaluation
prompt (same normalised words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_NGRAM = 8
BENCHMARKS: tuple[str, ...] = ("alpacaeval", "arena-hard", "mt-bench")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def words(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens without punctuation (as lm-eval's janitor normalises)."""
    return tuple(_NON_WORD.sub(" ", text.lower()).split())


def ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    return (tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class Contamination:
    benchmark: str
    prompt_index: int
    reason: str  # "8-gram" / "exact"
    evidence: str  # the shared n-gram, or the prompt


class Decontaminator:
    """Index of evaluation prompts' n-grams; :meth:`check` finds the first overlap."""

    def __init__(self, benchmarks: Mapping[str, Sequence[str]], n: int = DEFAULT_NGRAM):
        if n < 1:
            raise ValueError("n must be >= 1")
        self.n = n
        self.benchmarks = {name: len(prompts) for name, prompts in benchmarks.items()}
        self._ngrams: dict[tuple[str, ...], tuple[str, int]] = {}
        self._exact: dict[tuple[str, ...], tuple[str, int]] = {}
        for name, prompts in benchmarks.items():
            for index, prompt in enumerate(prompts):
                tokens = words(prompt)
                self._exact.setdefault(tokens, (name, index))
                for gram in ngrams(tokens, n):
                    self._ngrams.setdefault(gram, (name, index))

    def check(self, text: str) -> Contamination | None:
        tokens = words(text)
        if not tokens:
            return None
        hit = self._exact.get(tokens)
        if hit is not None:
            return Contamination(hit[0], hit[1], "exact", " ".join(tokens))
        for gram in ngrams(tokens, self.n):
            hit = self._ngrams.get(gram)
            if hit is not None:
                return Contamination(hit[0], hit[1], f"{self.n}-gram", " ".join(gram))
        return None


def benchmark_prompts(names: Sequence[str] = BENCHMARKS) -> dict[str, list[str]]:
    """Every user turn of the built-in public benchmarks (both MT-Bench turns)."""
    from ads_bench.suites import load_suite

    prompts: dict[str, list[str]] = {}
    for name in names:
        texts: list[str] = []
        for task in load_suite(name):
            for index in range(len(task.held_out)):
                texts.extend(task.conversation(index))
        prompts[name] = texts
    return prompts
