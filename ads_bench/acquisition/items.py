"""What acquisition yields: items of data, each traced to the API call that made it and its cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ads_bench.acquisition.trajectory import ApiCall, Trajectory

INFORMATION_RETRIEVAL = "information_retrieval"
DEMONSTRATION_GENERATION = "demonstration_generation"
QUESTION_ANSWERING = "question_answering"


@dataclass(frozen=True)
class AcquiredItem:
    """One piece of acquired data.

    ``kind`` is ``document`` (retrieval: ``prompt`` = the title, ``content`` = the text),
    ``demonstration`` (an instruction–response pair the policy wrote) or ``answer`` (the
    expert's answer ``content`` to the question ``prompt``).
    """

    api: str
    kind: str
    prompt: str
    content: str
    call_position: int = 0
    source_id: str | None = None  # the retrieved document's id

    def render(self) -> str:
        """The item as it appears in an in-context learner's prompt."""
        if self.kind == "document":
            return f"Document: {self.prompt}\n{self.content}"
        if self.kind == "answer":
            return f"Question: {self.prompt}\nExpert answer: {self.content}"
        return f"Instruction: {self.prompt}\nResponse: {self.content}"

    def training_pair(self) -> tuple[str, str]:
        """(instruction, response) for supervised fine-tuning; a document teaches its own content."""
        if self.kind == "document":
            return f"Tell me about {self.prompt}.", self.content
        return self.prompt, self.content

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AcquiredItem:
        return cls(**data)


@dataclass
class CallOutcome:
    """One executed API call: what it returned and what it cost."""

    call: ApiCall
    items: list[AcquiredItem] = field(default_factory=list)
    cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None
    dropped_items: int = 0  # items cut by the acquired-token or item budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.call.to_dict(),
            "items": [i.to_dict() for i in self.items],
            "cost_usd": self.cost_usd,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": self.seconds,
            "error": self.error,
            "dropped_items": self.dropped_items,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallOutcome:
        return cls(
            call=ApiCall.from_dict(data["call"]),
            items=[AcquiredItem.from_dict(i) for i in data.get("items", [])],
            cost_usd=data.get("cost_usd", 0.0),
            prompt_tokens=data.get("prompt_tokens", 0),
            completion_tokens=data.get("completion_tokens", 0),
            seconds=data.get("seconds", 0.0),
            error=data.get("error"),
            dropped_items=data.get("dropped_items", 0),
        )


@dataclass
class Acquisition:
    """A strategy's result for one task: the trajectory (if any), executed calls and their data."""

    task_id: str
    strategy: str
    outcomes: list[CallOutcome] = field(default_factory=list)
    trajectory: Trajectory | None = None
    error: str | None = None

    @property
    def items(self) -> list[AcquiredItem]:
        return [item for outcome in self.outcomes for item in outcome.items]

    @property
    def cost_usd(self) -> float:
        return sum(o.cost_usd for o in self.outcomes)

    def api_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.call.api] = counts.get(outcome.call.api, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.task_id,
            "strategy": self.strategy,
            "trajectory": self.trajectory.to_dict() if self.trajectory else None,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "error": self.error,
            "cost_usd": self.cost_usd,
            "api_counts": self.api_counts(),
            "n_items": len(self.items),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Acquisition:
        return cls(
            task_id=data["id"],
            strategy=data["strategy"],
            outcomes=[CallOutcome.from_dict(o) for o in data.get("outcomes", [])],
            trajectory=Trajectory.from_dict(data["trajectory"]) if data.get("trajectory") else None,
            error=data.get("error"),
        )
