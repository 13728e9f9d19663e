"""Self-Instruct expansion of in-house tasks (Wang et al., 2023; the ADS paper grows each task
from 5 to 100 instructions this way).

Each round shows a model a sample of a task's instructions and asks for new ones of the same
kind. A new instruction is kept only if (as in Self-Instruct) its ROUGE-L F-measure against
every instruction the task already has is at most 0.7, it is not a duplicate, it does not ask
for something a text model cannot do (images, files ...), and it does not overlap an evaluation
benchmark (the build's decontaminator).

The model is reached through a ``generate`` callable: ``generate(list[ChatRequest]) ->
list[response]`` with ``response.error`` / ``response.text`` (the contract of
``ads_bench.models``: pass ``open_model(spec, role="expert").generate_sync``).

The paper-size recipe (3 observed + 97 held-out per task; README, tasks/README.md)::

    ads-bench suites build-inhouse --seed 0 --expand-with SPEC --target-size 100 --out DIR
    ads-bench run   --suite DIR/inhouse-100.yaml       --max-held-out 97 ...
    ads-bench train --suite DIR/inhouse-train-100.yaml --max-held-out 97 ...

An expanded build writes those two suite files beside its data (:func:`expanded_suite_files`).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.models.types import ChatRequest
from ads_bench.suites._split import stable_seed
from ads_bench.suites.inhouse.decontaminate import Decontaminator

Generate = Callable[[Sequence[ChatRequest]], Sequence[Any]]

ROUGE_L_THRESHOLD = 0.7
#: Self-Instruct drops instructions that need non-text input or output
BLOCKED_WORDS = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "flowchart",
    "diagram",
)
MIN_WORDS, MAX_WORDS = 3, 150

EXPANSION_PROMPT = """\
Here are {n_examples} instructions that belong to one task:

{examples}

Write {n_new} new instructions for the same task: the same kind of request, with different \
content and wording. Each instruction must be self-contained: if it needs an input (a passage, \
a list, a sentence, numbers), write that input into the instruction. Do not answer them.
Reply with a numbered list only, one instruction per item."""

_ITEM_START = re.compile(r"^\s*(\d{1,3})\s*[.)]\s+", re.M)


def expansion_prompt(examples: Sequence[str], n_new: int) -> str:
    listed = "\n".join(f"{i}. {text}" for i, text in enumerate(examples, 1))
    return EXPANSION_PROMPT.format(n_examples=len(examples), examples=listed, n_new=n_new)


def parse_numbered_list(text: str) -> list[str]:
    """The items of a numbered list ("1. ...", "2) ..."); an item may span several lines."""
    starts = list(_ITEM_START.finditer(text))
    if not starts:
        return []
    items = []
    for this, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(text)
        item = text[this.end() : end].strip()
        if item:
            items.append(item)
    return items


class RougeL:
    """ROUGE-L F-measure with the ``rouge-score`` package (Google's reference implementation,
    the one Self-Instruct uses), tokenising each text once."""

    def __init__(self) -> None:
        from ads_bench.extras import require

        require("suites", "the ROUGE-L filter")
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        # rouge-score's scorer re-tokenises both texts on every call; comparing one candidate
        # with 100 instructions is ~40x faster with the tokens cached and its LCS scorer called
        # directly (both are module-level in rouge-score since 0.0.4).
        self._lcs = getattr(rouge_scorer, "_score_lcs", None)
        self._tokenizer = getattr(self._scorer, "_tokenizer", None)
        self._tokens: dict[str, list[str]] = {}

    def tokens(self, text: str) -> list[str]:
        cached = self._tokens.get(text)
        if cached is None:
            cached = self._tokenizer.tokenize(text) if self._tokenizer is not None else text.split()
            self._tokens[text] = cached
        return cached

    def f1(self, a: str, b: str) -> float:
        if self._lcs is None or self._tokenizer is None:
            return float(self._scorer.score(a, b)["rougeL"].fmeasure)
        return float(self._lcs(self.tokens(a), self.tokens(b)).fmeasure)

    def max_f1(self, candidate: str, others: Sequence[str]) -> float:
        return max((self.f1(other, candidate) for other in others), default=0.0)


def filter_near_duplicates(
    texts: Sequence[str], threshold: float = ROUGE_L_THRESHOLD, rouge: RougeL | None = None
) -> list[str]:
    """Keep texts in order, dropping any whose ROUGE-L against a kept one exceeds ``threshold``."""
    rouge = rouge or RougeL()
    kept: list[str] = []
    for text in texts:
        if rouge.max_f1(text, kept) <= threshold:
            kept.append(text)
    return kept


@dataclass
class ExpansionStats:
    requests: int = 0
    failed_requests: int = 0
    candidates: int = 0
    accepted: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    rounds: int = 0
    tasks_reaching_target: int = 0

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def _rejection(
    text: str,
    task: Sequence[str],
    seen: set[str],
    rouge: RougeL,
    threshold: float,
    decontaminator: Decontaminator | None,
) -> str | None:
    n_words = len(text.split())
    if n_words < MIN_WORDS or n_words > MAX_WORDS:
        return "length"
    lowered = text.lower()
    if " ".join(lowered.split()) in seen:
        return "duplicate"
    if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in BLOCKED_WORDS):
        return "blocked_word"
    if rouge.max_f1(text, task) > threshold:
        return "rouge_l"
    if decontaminator is not None and decontaminator.check(text) is not None:
        return "contaminated"
    return None


def expand_tasks(
    tasks: Sequence[Sequence[str]],
    generate: Generate,
    *,
    target_size: int,
    seed: int = 0,
    n_examples: int = 8,
    n_new: int = 8,
    max_rounds: int | None = None,
    patience: int = 3,
    rouge_threshold: float = ROUGE_L_THRESHOLD,
    decontaminator: Decontaminator | None = None,
    temperature: float = 0.7,
    max_tokens: int = 1024,
    on_round: Callable[[int, ExpansionStats], None] | None = None,
) -> tuple[list[list[str]], ExpansionStats]:
    """Grow every task towards ``target_size`` instructions; returns the grown tasks (existing
    instructions first, new ones after) and what happened. All tasks of a round go to the
    model in one ``generate`` call, so a batching backend can serve them together."""
    grown = [list(task) for task in tasks]
    rouge = RougeL()
    stats = ExpansionStats()
    seen = [{" ".join(t.lower().split()) for t in task} for task in grown]
    stale = [0] * len(grown)
    if max_rounds is None:
        shortfall = max((target_size - len(t) for t in grown), default=0)
        max_rounds = max(1, 3 * math.ceil(shortfall / max(1, n_new)))
    for round_index in range(max_rounds):
        open_tasks = [
            i for i, t in enumerate(grown) if len(t) < target_size and stale[i] < patience
        ]
        if not open_tasks:
            break
        stats.rounds += 1
        requests = []
        for i in open_tasks:
            rng = random.Random(stable_seed(seed, "expand", i, round_index))
            examples = rng.sample(grown[i], min(n_examples, len(grown[i])))
            wanted = min(n_new, target_size - len(grown[i]))
            requests.append(
                ChatRequest.user(
                    expansion_prompt(examples, wanted),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=stable_seed(seed, i, round_index) % (2**31),
                )
            )
        responses = generate(requests)
        stats.requests += len(requests)
        for i, response in zip(open_tasks, responses, strict=True):
            if getattr(response, "error", None) is not None:
                stats.failed_requests += 1
                stale[i] += 1
                continue
            accepted_here = 0
            for candidate in parse_numbered_list(response.text):
                if len(grown[i]) >= target_size:
                    break
                stats.candidates += 1
                reason = _rejection(
                    candidate, grown[i], seen[i], rouge, rouge_threshold, decontaminator
                )
                if reason is not None:
                    stats.drop(reason)
                    continue
                grown[i].append(candidate)
                seen[i].add(" ".join(candidate.lower().split()))
                stats.accepted += 1
                accepted_here += 1
            stale[i] = 0 if accepted_here else stale[i] + 1
        if on_round is not None:
            on_round(round_index, stats)
    stats.tasks_reaching_target = sum(len(t) >= target_size for t in grown)
    return grown, stats


def expanded_suite_files(out_dir: Path, target_size: int, command: str) -> dict[str, Path]:
    """Suite YAMLs for an expanded build's two data files, written beside them, so that the
    grown suites load by path (``--suite DIR/inhouse-100.yaml``). Named by the target size;
    the split is the shipped suites' (3 observed, the rest held out, seed 0)."""
    import yaml

    from ads_bench.utils.atomic import write_text_atomic

    written = {}
    for base, data in (("inhouse", "inhouse.jsonl.gz"), ("inhouse-train", "inhouse-train.jsonl.gz")):
        name = f"{base}-{target_size}"
        spec = {
            "name": name,
            "kind": "inhouse",
            "description": f"{base} grown by Self-Instruct to {target_size} instructions a task "
                           f"(3 observed, up to {target_size - 3} held out)",
            "source": command,
            "license": "instructions from the build's pools (see tasks/README.md) and the expansion model's outputs",
            "data": data,
            "layout": "list",
            "fields": {"id": "id", "instructions": "instructions", "category": "category", "metadata": "metadata"},
            "split": {"n_observed": 3, "min_held_out": 2, "seed": 0},
            "judge": {"mode": "pairwise"},
            "build": {"command": command, "seed": 0, "report": "build_report.json"},
        }
        path = Path(out_dir) / f"{name}.yaml"
        write_text_atomic(path, "# written by ads-bench suites build-inhouse (--expand-with)\n"
                          + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        written[path.name] = path
    return written
