"""In-context learning: pack acquired items into the policy's system message within a token budget.

The budget rule, with ``W`` the policy model's context window::

    budget = min(W - reserve_tokens, floor(max_fraction * W), max_tokens if set)

``reserve_tokens`` is room for what every held-out answer adds on top of the packed context:
the chat template, the longest held-out prompt (a second MT-Bench turn carries the first turn
and its answer) and the answer itself. ``max_fraction`` keeps that margin growing with the
window, and ``max_tokens`` caps the context in absolute terms (to compare policies with
different windows at an equal amount of data). The budget covers the whole system message:
any context the policy already had, the instruction header and the items.

Items are taken in trajectory order (see :mod:`ads_bench.learning.item_selection`) and each is
taken whole or not at all: one that does not fit is dropped and the later, smaller ones are
still tried. Tokens are counted with the policy's own tokenizer; the packed text is counted
once more as a whole, because a tokenizer may merge tokens across item boundaries, and
items are dropped from the end until that exact count fits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.learning.item_selection import ORDER_RULE, Decision, drop_counts, in_call_order
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import Learner
from ads_bench.models.client import ChatModel

DEFAULT_HEADER = (
    "Use the following reference material when you answer. It was gathered for this kind of "
    "request: retrieved documents, example instructions with good responses, and expert answers "
    "to related questions. Rely on it where it is relevant and accurate; it may be incomplete."
)
SEPARATOR = "\n\n"

TokenCounter = Callable[[str], Awaitable[int]]


@dataclass(frozen=True)
class IclConfig:
    reserve_tokens: int = 1024
    max_fraction: float = 0.75
    max_tokens: int | None = None
    context_window: int | None = None  # for backends that cannot tell (HTTP APIs)
    header: str = field(default=DEFAULT_HEADER, repr=False)

    def __post_init__(self) -> None:
        if self.reserve_tokens < 0:
            raise ValueError(f"reserve_tokens must be >= 0, got {self.reserve_tokens}")
        if not 0 < self.max_fraction <= 1:
            raise ValueError(f"max_fraction must be in (0, 1], got {self.max_fraction}")
        if self.max_tokens is not None and self.max_tokens <= 0:
            raise ValueError(f"max_tokens must be > 0, got {self.max_tokens}")

    def budget(self, window: int) -> int:
        limits = [window - self.reserve_tokens, int(self.max_fraction * window)]
        if self.max_tokens is not None:
            limits.append(self.max_tokens)
        return min(limits)


@dataclass
class Packing:
    text: str | None  # the system message, None when nothing was packed
    tokens: int
    budget: int
    header_tokens: int
    decisions: list[Decision]  # every input item, in packing order (dropped repeats last)

    @property
    def used(self) -> list[Decision]:
        return [d for d in self.decisions if d.used]


async def pack(
    items: Sequence[AcquiredItem],
    count: TokenCounter,
    budget: int,
    *,
    header: str = DEFAULT_HEADER,
    prefix: str | None = None,
) -> Packing:
    """Pack ``items`` after ``prefix`` (an existing context) and ``header`` in ``budget`` tokens."""
    candidates, dropped = in_call_order(items, AcquiredItem.render)
    opening = SEPARATOR.join(part for part in (prefix, header) if part)
    pieces = [SEPARATOR + d.item.render() for d in candidates]
    header_tokens, *piece_tokens = await asyncio.gather(count(opening), *(count(p) for p in pieces))
    left = budget - header_tokens
    for decision, tokens in zip(candidates, piece_tokens, strict=True):
        decision.tokens = tokens
        if tokens <= left:
            decision.used = True
            left -= tokens
        else:
            decision.reason = f"over budget: needs {tokens} tokens, {max(left, 0)} left"
    used = [i for i, d in enumerate(candidates) if d.used]
    text, tokens = None, header_tokens
    while used:
        text = opening + "".join(pieces[i] for i in used)
        tokens = await count(text)
        if tokens <= budget:
            break
        last = candidates[used.pop()]
        last.used = False
        last.reason = f"over budget: the packed text counts {tokens} tokens as a whole"
        text, tokens = None, header_tokens
    return Packing(text, tokens if text else 0, budget, header_tokens, [*candidates, *dropped])


class TokenCountCache:
    """Token counts by (tokenizer identity, text): ADS packs the same items for many trajectories,
    and for the embedded model each count is a round trip to the llama.cpp server."""

    def __init__(self, capacity: int = 50_000, concurrency: int = 8):
        self.capacity = capacity
        self.concurrency = concurrency
        self._counts: OrderedDict[str, int] = OrderedDict()

    def counter(self, model: ChatModel) -> TokenCounter:
        identity = json.dumps(model.backend.identity, sort_keys=True, default=str)
        limit = asyncio.Semaphore(self.concurrency)

        async def count(text: str) -> int:
            key = hashlib.sha256(f"{identity}\0{text}".encode()).hexdigest()
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
            async with limit:
                tokens = await model.count_tokens(text)
            self._counts[key] = tokens
            if len(self._counts) > self.capacity:
                self._counts.popitem(last=False)
            return tokens

        return count


TOKEN_COUNTS = TokenCountCache()


async def context_window(model: ChatModel, config: IclConfig) -> int:
    if config.context_window is not None:
        return config.context_window
    await model.start()  # local backends learn their window on load
    if model.context_window is None:
        raise UserError(
            f"the context window of policy '{model.label}' is unknown: add ?context_window=N "
            "to its spec or set the icl option context_window"
        )
    return model.context_window


async def update(
    policy: Policy,
    items: Sequence[AcquiredItem],
    *,
    runtime: Any = None,
    task_id: str = "",
    config: IclConfig | None = None,
) -> Policy:
    """Pack the acquired items into the policy's system message (``runtime`` is unused here)."""
    config = config or IclConfig()
    started = time.perf_counter()
    details: dict[str, Any] = {"learner": "icl", "task_id": task_id, "n_items": len(items)}
    if not items:
        return dataclasses.replace(policy, details={**details, "n_used": 0, "n_dropped": 0})
    window = await context_window(policy.model, config)
    budget = config.budget(window)
    if budget <= 0:
        raise UserError(
            f"the in-context budget for '{policy.model.label}' is {budget} tokens (window "
            f"{window}, reserve {config.reserve_tokens}): lower reserve_tokens or use a "
            "longer-context policy"
        )
    packing = await pack(
        items,
        TOKEN_COUNTS.counter(policy.model),
        budget,
        header=config.header,
        prefix=policy.context,
    )
    used = packing.used
    details.update(
        n_used=len(used),
        n_dropped=len(items) - len(used),
        tokens_used=packing.tokens,
        budget=budget,
        budget_rule={
            "context_window": window,
            "reserve_tokens": config.reserve_tokens,
            "max_fraction": config.max_fraction,
            "max_tokens": config.max_tokens,
        },
        header_tokens=packing.header_tokens,
        order_rule=ORDER_RULE,
        order=[d.index for d in used],
        dropped=drop_counts(packing.decisions),
        items=[d.to_dict() for d in packing.decisions],
        seconds=round(time.perf_counter() - started, 4),
    )
    if packing.text is None:
        return dataclasses.replace(policy, details=details)
    packed = Policy(policy.model, packing.text, f"{policy.label}+icl", details)
    details["context_sha"] = packed.context_sha
    return packed


LEARNER = Learner(
    "icl",
    "in-context learning: packs acquired items into the system prompt within a token budget",
    update,
    IclConfig,
)
