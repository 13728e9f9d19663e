"""What the learners return: a policy is a chat model plus what it was taught in context.

An in-context learner packs acquired data into ``context`` (sent as the system message);
a fine-tune learner returns a policy whose model is the LoRA-adapted one and no context.
Everything downstream answers through :meth:`Policy.messages`, whichever learner made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_bench.models.client import ChatModel
from ads_bench.models.types import Message
from ads_bench.utils.hashing import text_sha256


@dataclass(frozen=True)
class Policy:
    model: ChatModel
    context: str | None = None
    name: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return self.name or self.model.label

    @property
    def context_sha(self) -> str | None:
        if self.context is None:
            return None
        return text_sha256(self.context, 16)

    def messages(self, turns: Sequence[str], answers: Sequence[str] = ()) -> list[Message]:
        """The conversation for the next answer: context, then user turns and earlier answers."""
        messages: list[Message] = []
        if self.context:
            messages.append({"role": "system", "content": self.context})
        for index, turn in enumerate(turns):
            messages.append({"role": "user", "content": turn})
            if index < len(answers):
                messages.append({"role": "assistant", "content": answers[index]})
        return messages
