"""Which acquired items a learner considers, in what order, and a record of every decision.

Both learners see items in trajectory order: by the position of the API call that made them
(the optimizer's own order of its plan), then in the order each call returned them (a
retriever's ranking). That order is fixed by the trajectory alone, not by which concurrent
call happened to finish first, so a rerun packs or trains on exactly the same data; and when
a budget cuts the list, the calls the optimizer planned first are the ones kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ads_bench.acquisition.items import AcquiredItem

ORDER_RULE = "call_position, then the order each call returned its items"


@dataclass
class Decision:
    """What a learner did with one item (``index`` = its position in the learner's input)."""

    index: int
    item: AcquiredItem
    used: bool = False
    reason: str | None = None  # why it was dropped, or a note (e.g. truncated) when used
    tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "call_position": self.item.call_position,
            "api": self.item.api,
            "kind": self.item.kind,
            "used": self.used,
            "tokens": self.tokens,
            "reason": self.reason,
        }


def in_call_order(
    items: Sequence[AcquiredItem], text_of: Callable[[AcquiredItem], str]
) -> tuple[list[Decision], list[Decision]]:
    """(candidates in order, items dropped up front): empty ones and exact repeats go.

    A repeat (the same document from two retrieval calls, say) is dropped because it would
    only spend budget, or weight one example twice in training, without teaching anything new.
    """
    ordered = sorted(range(len(items)), key=lambda i: (items[i].call_position, i))
    candidates: list[Decision] = []
    dropped: list[Decision] = []
    first_seen: dict[str, int] = {}
    for index in ordered:
        item = items[index]
        text = text_of(item)
        if not item.content.strip():
            dropped.append(Decision(index, item, reason="empty content"))
        elif text in first_seen:
            dropped.append(Decision(index, item, reason=f"duplicate of item {first_seen[text]}"))
        else:
            first_seen[text] = index
            candidates.append(Decision(index, item))
    return candidates, dropped


def drop_counts(decisions: Sequence[Decision]) -> dict[str, int]:
    """How many items were dropped for each kind of reason (the reason's text before ':')."""
    counts: dict[str, int] = {}
    for decision in decisions:
        if not decision.used and decision.reason:
            kind = decision.reason.split(":")[0].split(" of item")[0]
            counts[kind] = counts.get(kind, 0) + 1
    return counts
