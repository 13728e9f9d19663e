"""Observed instructions for the public benchmarks, made the way the ADS paper makes them.

A public-benchmark task is one prompt, and that prompt is what the taught policy is scored on, so
it must not be what the optimizer sees. The paper (Section 4.3; review answer A6 in the shared
seed) uses Self-Instruct to write three *new* instructions of the same kind per task and drops any
whose ROUGE-L F-measure against the original exceeds 0.7. This module does that:

- one request per task asks for ``n`` instructions at once (a numbered list, a short token cap);
- a candidate is dropped if it is near-empty, a duplicate, contains the original (the guard's
  containment test, :mod:`ads_bench.suites.held_out_guard`), or has ROUGE-L > 0.7 against the
  original (any of its turns) or against an instruction already kept;
- a task with fewer than ``n`` survivors is asked again, with a new seed, at most
  ``max_attempts`` times in all; what survives then is kept, even if fewer than ``n``.

The result is a JSONL file: a header line (model spec, seed, n, the prompt template, sampling,
the command) and one line per task, appended as each batch finishes, so a killed build resumes
where it stopped (and the response cache makes the re-asked batch free).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.models.types import ChatRequest
from ads_bench.suites._split import stable_seed
from ads_bench.suites._task import Task
from ads_bench.suites.held_out_guard import contains_prompt, normalise
from ads_bench.suites.inhouse.expand import ROUGE_L_THRESHOLD, RougeL, parse_numbered_list
from ads_bench.utils.jsonl import JsonlLog

Generate = Callable[[Sequence[ChatRequest]], Sequence[Any]]

FORMAT = "ads-bench observed set v1"
OBSERVED_PROMPT = """\
Here is an instruction a user gave an AI assistant:

{instruction}

Write {n} new instructions of the same kind: the same type of request, about different topics, \
in different words. Do not answer. Reply with a numbered list only, one instruction per item."""
#: long benchmark prompts (code, documents) are cut in the prompt: the kind of request shows early
MAX_PROMPT_CHARS = 1200
MIN_CHARS, MIN_WORDS = 12, 3


@dataclass(frozen=True)
class BuildSettings:
    model: str
    seed: int = 0
    n: int = 3
    max_attempts: int = 3
    temperature: float = 0.7
    max_tokens: int = 128
    batch: int = 8
    rouge_threshold: float = ROUGE_L_THRESHOLD

    def header(self, suite: str, command: str) -> dict[str, Any]:
        return {
            "type": "header",
            "format": FORMAT,
            "suite": suite,
            "model": self.model,
            "seed": self.seed,
            "n": self.n,
            "max_attempts": self.max_attempts,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "rouge_l_max": self.rouge_threshold,
            "prompt": OBSERVED_PROMPT,
            "max_prompt_chars": MAX_PROMPT_CHARS,
            "command": command,
        }


def default_file_name(model: str, seed: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or "model"
    return f"observed-{slug}-seed{seed}.jsonl"


def observed_prompt(instruction: str, n: int) -> str:
    text = instruction.strip()
    if len(text) > MAX_PROMPT_CHARS:
        text = text[:MAX_PROMPT_CHARS].rstrip() + " [...]"
    return OBSERVED_PROMPT.format(instruction=text, n=n)


def _candidates(text: str) -> list[str]:
    items = parse_numbered_list(text)
    if not items:  # a model that ignored the numbering: one candidate a line, bullets stripped
        items = [re.sub(r"^\s*[-*•]\s*", "", line) for line in text.splitlines()]
    return [" ".join(item.split()) for item in items if item.strip()]


def rejection(
    candidate: str, originals: Sequence[str], kept: Sequence[str], rouge: RougeL, threshold: float
) -> str | None:
    """Why ``candidate`` may not be an observed instruction of a task whose prompt (turns) are
    ``originals``, given the instructions ``kept`` so far; None when it may."""
    if len(candidate) < MIN_CHARS or len(candidate.split()) < MIN_WORDS:
        return "near_empty"
    if candidate.endswith(":"):  # "Here are the instructions:" introduces a list, it is not one
        return "preamble"
    norm = normalise(candidate)
    if norm in {normalise(t) for t in (*originals, *kept)}:
        return "duplicate"
    if contains_prompt(candidate, originals):
        return "contains_original"
    if rouge.max_f1(candidate, originals) > threshold:
        return "rouge_l_original"
    if rouge.max_f1(candidate, kept) > threshold:
        return "rouge_l_kept"
    return None


def _originals(task: Task) -> tuple[str, ...]:
    return task.turns[0] if task.turns else task.held_out


def read_observed_file(path: Path) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """The header and the per-task records (by task id) of an observed-set file."""
    log = JsonlLog(path)
    header: dict[str, Any] | None = None
    records: dict[str, dict[str, Any]] = {}
    for record in log.records() if path.is_file() else ():
        if record.get("type") == "header":
            header = record
        elif record.get("type") == "task":
            records[str(record["id"])] = record
    return header, records


def build_observed(
    suite_name: str,
    tasks: Sequence[Task],
    generate: Generate,
    settings: BuildSettings,
    out: Path,
    *,
    command: str = "",
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Write (or complete) the observed-set file ``out`` for ``tasks``; returns a summary."""
    header, done = read_observed_file(out)
    if header is not None:
        for key in ("suite", "model", "seed", "n"):
            mine = settings.header(suite_name, command)[key]
            if header.get(key) != mine:
                raise UserError(
                    f"{out} was built with {key}={header.get(key)!r}, not {mine!r}: give another --out, "
                    "or delete the file to rebuild it"
                )
    writer = JsonlLog(out)
    if header is None:
        writer.append(settings.header(suite_name, command))
    rouge = RougeL()
    todo = [task for task in tasks if task.id not in done]
    log(f"{suite_name}: {len(done)} tasks already built, {len(todo)} to build with {settings.model}")
    for start in range(0, len(todo), settings.batch):
        chunk = todo[start : start + settings.batch]
        kept: dict[str, list[str]] = {task.id: [] for task in chunk}
        dropped: dict[str, dict[str, int]] = {task.id: {} for task in chunk}
        attempts: dict[str, int] = {task.id: 0 for task in chunk}
        for attempt in range(settings.max_attempts):
            asking = [task for task in chunk if len(kept[task.id]) < settings.n]
            if not asking:
                break
            requests = [
                ChatRequest.user(
                    observed_prompt(_originals(task)[0], settings.n),
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    seed=stable_seed(settings.seed, suite_name, task.id, attempt) % (2**31),
                )
                for task in asking
            ]
            for task, response in zip(asking, generate(requests), strict=True):
                attempts[task.id] += 1
                if getattr(response, "error", None) is not None:
                    dropped[task.id]["failed_request"] = dropped[task.id].get("failed_request", 0) + 1
                    continue
                for candidate in _candidates(response.text):
                    if len(kept[task.id]) >= settings.n:
                        break
                    reason = rejection(
                        candidate, _originals(task), kept[task.id], rouge, settings.rouge_threshold
                    )
                    if reason is None:
                        kept[task.id].append(candidate)
                    else:
                        dropped[task.id][reason] = dropped[task.id].get(reason, 0) + 1
        for task in chunk:
            record = {
                "type": "task",
                "id": task.id,
                "prompt": _originals(task)[0],
                "observed": kept[task.id],
                "attempts": attempts[task.id],
                "dropped": dropped[task.id],
            }
            writer.append(record)
            done[task.id] = record
        log(f"{suite_name}: {len(done)}/{len(tasks)} tasks built")
    return summarise(done, tasks, settings.n)


def summarise(records: dict[str, dict[str, Any]], tasks: Sequence[Task], n: int) -> dict[str, Any]:
    counts = [len(records[t.id]["observed"]) for t in tasks if t.id in records]
    dropped: dict[str, int] = {}
    for task in tasks:
        for reason, k in records.get(task.id, {}).get("dropped", {}).items():
            dropped[reason] = dropped.get(reason, 0) + k
    return {
        "tasks": len(tasks),
        "built": len(counts),
        "observed": sum(counts),
        f"tasks_with_{n}": sum(c >= n for c in counts),
        "tasks_with_none": sum(c == 0 for c in counts),
        "dropped": dict(sorted(dropped.items())),
    }
