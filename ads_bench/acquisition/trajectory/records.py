"""The records a parsed trajectory is made of: kept calls, dropped calls, the trajectory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ads_bench.errors import UserError


@dataclass(frozen=True)
class ApiCall:
    """One admitted call. ``position`` is the call's index (from 0) in the list the model wrote,
    counting the calls that were dropped, so calls and drops share one numbering."""

    api: str
    args: dict[str, Any]
    position: int

    def key(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """Identity for duplicate detection: same API, same arguments up to case and spacing."""
        return (
            self.api,
            tuple(
                sorted(
                    (name, " ".join(value.split()).casefold() if isinstance(value, str) else value)
                    for name, value in self.args.items()
                )
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"api": self.api, "args": dict(self.args), "position": self.position}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], position: int = 0) -> ApiCall:
        return cls(data["api"], dict(data.get("args", {})), int(data.get("position", position)))


@dataclass(frozen=True)
class Dropped:
    """A call the parser or a budget refused. ``reason`` reads "<kind>: <detail>"; ``raw_call``
    is the call as the model wrote it (a JSON value, or the text line)."""

    position: int
    raw_call: Any
    reason: str

    @property
    def kind(self) -> str:
        """The reason without its detail ("over budget", "unknown api" ...), for tallies."""
        return self.reason.split(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "raw_call": self.raw_call, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dropped:
        return cls(int(data["position"]), data.get("raw_call"), data["reason"])


@dataclass(frozen=True)
class Trajectory:
    """What the optimizer planned. ``error`` is set (and ``calls`` empty) when no trajectory
    could be read at all; ``raw`` is the text it was read from (kept for audit, not compared)."""

    analysis: str = ""
    self_reflection: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    error: str | None = None
    raw: str = field(default="", compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def render(self) -> str:
        """The canonical text of this trajectory: the optimizer's SFT/DPO training target.

        Valid JSON, one call per line; :func:`parse_trajectory` reads it back to the same
        analysis, reflection and calls (positions renumbered from 0, drops not written).
        """

        def dumps(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False)

        head = (
            f'{{"analysis": {dumps(self.analysis)},\n'
            f' "self_reflection": {dumps(self.self_reflection)},\n'
        )
        if not self.calls:
            return head + ' "calls": []}'
        lines = [f"  {dumps({'api': call.api, 'args': call.args})}" for call in self.calls]
        return head + ' "calls": [\n' + ",\n".join(lines) + "\n ]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "self_reflection": self.self_reflection,
            "calls": [call.to_dict() for call in self.calls],
            "dropped": [drop.to_dict() for drop in self.dropped],
            "error": self.error,
            "raw": self.raw,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trajectory:
        try:
            return cls(
                analysis=data.get("analysis", ""),
                self_reflection=data.get("self_reflection", ""),
                calls=[ApiCall.from_dict(c, i) for i, c in enumerate(data.get("calls", []))],
                dropped=[Dropped.from_dict(d) for d in data.get("dropped", [])],
                error=data.get("error"),
                raw=data.get("raw", ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(
                f"corrupt trajectory record ({type(exc).__name__}: {exc}): "
                "delete the damaged line from the JSONL file and rerun to regenerate it"
            ) from exc
