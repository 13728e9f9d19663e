"""Limits on a trajectory: budgets that admit calls in the model's order, and API ablations.

A call is dropped when admitting it would break a limit; later calls that still fit are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ads_bench.acquisition.trajectory.api_signatures import canonical_api_or_user_error
from ads_bench.acquisition.trajectory.records import ApiCall, Dropped, Trajectory
from ads_bench.errors import UserError

CostFn = Callable[[ApiCall], float]


def _check_limit(value: Any, name: str, *, whole: bool) -> None:
    if value is None:
        return
    valid = (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if whole
        else isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < math.inf
    )
    if not valid:
        kind = "a whole number >= 0" if whole else "a finite number >= 0"
        raise UserError(f"budget {name} must be {kind}, got {value!r}: fix it in the run config")


@dataclass(frozen=True)
class Budget:
    """Limits on one trajectory. None means no limit. ``max_acquired_tokens`` counts the tokens
    of the data the calls bring back, so it is enforced while executing (:class:`BudgetTracker`)."""

    max_calls: int | None = None
    max_cost: float | None = None
    max_acquired_tokens: int | None = None
    per_api_max_calls: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        _check_limit(self.max_calls, "max_calls", whole=True)
        _check_limit(self.max_cost, "max_cost", whole=False)
        _check_limit(self.max_acquired_tokens, "max_acquired_tokens", whole=True)
        if self.per_api_max_calls is not None:
            canonical: dict[str, int] = {}
            for name, limit in self.per_api_max_calls.items():
                api = canonical_api_or_user_error(str(name), "budget per_api_max_calls")
                _check_limit(limit, f"per_api_max_calls[{api}]", whole=True)
                canonical[api] = limit
            object.__setattr__(self, "per_api_max_calls", canonical)

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_calls": self.max_calls,
            "max_cost": self.max_cost,
            "max_acquired_tokens": self.max_acquired_tokens,
            "per_api_max_calls": None
            if self.per_api_max_calls is None
            else dict(self.per_api_max_calls),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budget:
        known = {"max_calls", "max_cost", "max_acquired_tokens", "per_api_max_calls"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(
                f"unknown budget field {unknown[0]!r}: use one of {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def describe(self) -> str:
        """The limits in a few words, for the optimizer's prompt."""
        parts = []
        if self.max_calls is not None:
            parts.append(f"at most {self.max_calls} calls")
        if self.max_cost is not None:
            parts.append(f"total cost at most {self.max_cost:g}")
        for api, limit in (self.per_api_max_calls or {}).items():
            parts.append(f"at most {limit} {api} calls")
        if self.max_acquired_tokens is not None:
            parts.append(f"at most {self.max_acquired_tokens} tokens of data in all")
        return "; ".join(parts) if parts else "no fixed limit, but every call costs"


# Sums of float costs drift (0.1 + 0.1 + 0.1 > 0.3); a budget is met within this tolerance.
_COST_TOLERANCE = 1e-9


class BudgetTracker:
    """Spends one :class:`Budget`: admits calls in order and counts the tokens they bring back.

    ``cost_of`` prices a call when :meth:`admit` is given no estimate; it is required only
    when the budget limits cost.
    """

    def __init__(self, budget: Budget | None = None, cost_of: CostFn | None = None):
        self.budget = budget or Budget()
        self.cost_of = cost_of
        self.calls = 0
        self.cost = 0.0
        self.tokens = 0
        self.per_api: dict[str, int] = {}

    def _price(self, call: ApiCall, est_cost: float | None) -> float:
        if est_cost is None:
            if self.cost_of is not None:
                est_cost = self.cost_of(call)
            elif self.budget.max_cost is not None:
                raise ValueError("a budget with max_cost needs cost_of or an est_cost per call")
            else:
                return 0.0
        if isinstance(est_cost, bool) or not (0 <= est_cost < math.inf):
            raise ValueError(f"a call's cost must be a finite number >= 0, got {est_cost!r}")
        return float(est_cost)

    def _check(self, call: ApiCall, est_cost: float | None) -> tuple[str | None, float]:
        """(why ``call`` would break the budget or None, its price); prices at most once."""
        budget = self.budget
        if budget.max_acquired_tokens is not None and self.tokens >= budget.max_acquired_tokens:
            return "over budget: max_acquired_tokens", 0.0
        if budget.max_calls is not None and self.calls + 1 > budget.max_calls:
            return "over budget: max_calls", 0.0
        api_limit = (budget.per_api_max_calls or {}).get(call.api)
        if api_limit is not None and self.per_api.get(call.api, 0) + 1 > api_limit:
            return f"over budget: per_api_max_calls[{call.api}]", 0.0
        cost = self._price(call, est_cost)
        if budget.max_cost is not None:
            allowed = budget.max_cost + _COST_TOLERANCE * max(1.0, budget.max_cost)
            if self.cost + cost > allowed:
                return "over budget: max_cost", cost
        return None, cost

    def refusal(self, call: ApiCall, est_cost: float | None = None) -> str | None:
        """Why ``call`` would break the budget ("over budget: max_calls" ...), or None if it
        fits. Counts nothing."""
        return self._check(call, est_cost)[0]

    def try_admit(self, call: ApiCall, est_cost: float | None = None) -> str | None:
        """Count ``call`` against the budget and return None if it fits; otherwise count
        nothing and return why it does not (as :meth:`refusal`). Prices the call once."""
        refusal, cost = self._check(call, est_cost)
        if refusal is None:
            self.calls += 1
            self.cost += cost
            self.per_api[call.api] = self.per_api.get(call.api, 0) + 1
        return refusal

    def admit(self, call: ApiCall, est_cost: float | None = None) -> bool:
        """Count ``call`` against the budget if it fits; False (nothing counted) if not.
        Once the acquired tokens reach ``max_acquired_tokens`` no further call fits."""
        return self.try_admit(call, est_cost) is None

    def add_tokens(self, n: int) -> bool:
        """Count ``n`` acquired tokens if they fit; False (nothing counted) if they would pass
        ``max_acquired_tokens`` - the caller then drops or cuts the item (see
        :attr:`remaining_tokens`)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"a token count must be a whole number >= 0, got {n!r}")
        limit = self.budget.max_acquired_tokens
        if limit is not None and self.tokens + n > limit:
            return False
        self.tokens += n
        return True

    @property
    def remaining_tokens(self) -> int | None:
        limit = self.budget.max_acquired_tokens
        return None if limit is None else limit - self.tokens


def restrict_apis(trajectory: Trajectory, allowed: Iterable[str]) -> Trajectory:
    """The trajectory with calls to APIs outside ``allowed`` dropped (single-API ablations)."""
    allowed_apis = {canonical_api_or_user_error(name, "the allowed APIs") for name in allowed}
    kept, dropped = [], list(trajectory.dropped)
    detail = ", ".join(sorted(allowed_apis)) or "none"
    for call in trajectory.calls:
        if call.api in allowed_apis:
            kept.append(call)
        else:
            raw = {"api": call.api, "args": dict(call.args)}
            dropped.append(
                Dropped(call.position, raw, f"api not allowed: {call.api} (allowed: {detail})")
            )
    dropped.sort(key=lambda drop: drop.position)
    return Trajectory(
        trajectory.analysis,
        trajectory.self_reflection,
        kept,
        dropped,
        trajectory.error,
        trajectory.raw,
    )
