"""The held-out guard: no text sent to the optimizer or to an acquisition API may contain one of
the task's held-out prompts (the prompts the taught policy is scored on).

The check is containment after normalisation (case folded, every run of whitespace one space,
the prompt's closing punctuation and quotes dropped), so a prompt copied with different line
breaks or capitals, or run on into a sentence ("What causes volcanoes to form is a topic ..."),
is still caught. Held-out prompts
shorter than :data:`MIN_GUARDED_CHARS` normalised characters are not checked: "Hi", "Why?" or a
one-word lm-eval question occur by chance in ordinary text, and refusing on them would abort
honest runs. Such short prompts are still never *put* into an observed set (the observed-set
builder drops any candidate that contains one as whole words, :func:`contains_prompt`), so what
the guard skips is only coincidence.

A leak raises :class:`HeldOutLeak`, a :class:`~ads_bench.errors.UserError`, which aborts the run
with one line (exit 2) rather than failing only that task: a leak is systematic (a strategy or a
suite that hands the optimizer what it is scored on), so every other task's score of the same run
is suspect too, and a run that silently drops the leaking tasks would report a biased sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ads_bench.errors import UserError

#: held-out prompts shorter than this (normalised characters) are not guarded; see the module doc
MIN_GUARDED_CHARS = 20


class HeldOutLeak(UserError):
    """A request would show the optimizer or an acquisition API a held-out prompt."""


#: what may close a prompt and not a sentence that runs it on: "Why is the sky blue?" leaks in
#: "Why is the sky blue is a question ..." too
_CLOSING = " \t\n?.!;:,'\"\u201d\u2019)]"


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def prompt_core(prompt: str) -> str:
    """A held-out prompt as searched for: normalised, its closing punctuation and quotes dropped."""
    return normalise(prompt).rstrip(_CLOSING)


def guarded_prompts(held_out: Iterable[str]) -> list[str]:
    """The held-out prompts long enough to guard, as searched for."""
    texts = (prompt_core(prompt) for prompt in held_out)
    return [text for text in texts if len(text) >= MIN_GUARDED_CHARS]


def contains_prompt(text: str, prompts: Iterable[str]) -> bool:
    """Whether ``text`` holds one of ``prompts`` as whole words, however short the prompt: the
    observed-set builder's check, stricter than the guard's since dropping a candidate costs
    nothing ("What is Atlantis" inside "Explain what is Atlantis, and ..." is caught)."""
    haystack = normalise(text)
    for prompt in prompts:
        core = prompt_core(prompt)
        if core and re.search(rf"(?<!\w){re.escape(core)}(?!\w)", haystack):
            return True
    return False


def leaked_prompt(text: str, held_out: Iterable[str]) -> str | None:
    """The first guarded held-out prompt that ``text`` contains, or None."""
    haystack = normalise(text)
    for prompt in guarded_prompts(held_out):
        if prompt in haystack:
            return prompt
    return None


def _texts(value: Any) -> Iterable[str]:
    """Every string inside a request's payload (messages, call arguments), however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, Sequence | set | frozenset):
        for item in value:
            yield from _texts(item)
    elif value is not None and not isinstance(value, int | float | bool):
        yield json.dumps(value, default=str, ensure_ascii=False)


def check_request(task: Any, api: str, payload: Any) -> None:
    """Refuse ``payload`` (a message list, a call's arguments ...) bound for ``api`` if it holds
    one of ``task``'s held-out prompts. ``task`` is an :class:`~ads_bench.suites.Task`."""
    text = "\n".join(_texts(payload))
    prompt = leaked_prompt(text, task.held_out)
    if prompt is not None:
        shown = prompt if len(prompt) <= 60 else prompt[:57] + "..."
        raise HeldOutLeak(
            f"task {task.uid}: the request to {api} contains the held-out prompt {shown!r}, which "
            "the policy is scored on; refused (give the task observed instructions that are not its "
            "held-out ones, e.g. `ads-bench suites build-observed`, or fix the strategy)"
        )


def check_observed_ready(task: Any) -> None:
    """Refuse to acquire for a one-prompt task whose observed set was never built: it would
    observe nothing (see ``yaml_suite.load_observed_sets``)."""
    refusal = task.metadata.get("observed_missing")
    if refusal:
        raise UserError(f"task {task.uid}: {refusal}")


def guard_request(task: Any, api: str, payload: Any) -> None:
    """Both checks, as the strategies call them before sending anything for ``task``."""
    check_observed_ready(task)
    check_request(task, api, payload)
