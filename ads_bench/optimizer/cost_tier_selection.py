"""Cost-tier selection of the chosen and rejected trajectory of a task (the ADS paper's Algorithm 1).

Over a task's K trajectories with rewards R and costs C, and tier parameter τ ∈ [0, 1]:

- top tier:    R ∈ [(1−τ)·Rmax + τ·Rmin, Rmax]   -> chosen   = the lowest-cost one there
- bottom tier: R ∈ [Rmin, (1−τ)·Rmin + τ·Rmax]   -> rejected = the highest-cost one there

τ = 0 is pure reward maximisation (chosen = argmax R, rejected = argmin R). Cost enters only
through this choice, never as a term added to the reward.

Ties the paper leaves open, decided here so that every run is reproducible: within a tier,
equal costs are broken by reward (higher for chosen, lower for rejected), then by sample index
(lower first). With one usable trajectory a task yields a chosen one for rejection-sampling SFT
and no pair.

When every reward is equal (R = 0.5, 0.5, 0.5), both tiers hold every trajectory whatever τ, so
the rule as the paper states it gives the cheapest over the dearest, and so do we: the trajectories
did equally well, and the one that paid less for it is the better one. Only when the costs are
equal too is there no pair (nothing separates the trajectories at all). This is where cost alone
teaches the optimizer: a judge that cannot tell any answers apart, or data that changes nothing,
ties every reward, and the pair then prefers the cheaper trajectory, an empty one if present
(no data is worth paying for if it changes nothing). ``test_optimizer_selection.py`` pins it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scored:
    index: int  # the sample index among the task's K trajectories
    reward: float | None  # None: the trajectory failed (unparseable, or nothing could be judged)
    cost: float


@dataclass(frozen=True)
class Selection:
    chosen: int | None
    rejected: int | None
    reason: str = ""

    @property
    def has_pair(self) -> bool:
        return self.chosen is not None and self.rejected is not None


def select(trajectories: Sequence[Scored], tau: float) -> Selection:
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    usable = [t for t in trajectories if t.reward is not None]
    if not usable:
        return Selection(None, None, "every trajectory failed")
    r_max = max(t.reward for t in usable)
    r_min = min(t.reward for t in usable)
    # clamped so that rounding never leaves Rmax out of its own tier (or Rmin out of its)
    top_floor = min((1 - tau) * r_max + tau * r_min, r_max)
    bottom_ceiling = max((1 - tau) * r_min + tau * r_max, r_min)
    top = [t for t in usable if t.reward >= top_floor]
    chosen = min(top, key=lambda t: (t.cost, -t.reward, t.index))
    if len(usable) == 1:
        return Selection(chosen.index, None, "a single usable trajectory: chosen only")
    bottom = [t for t in usable if t.reward <= bottom_ceiling and t.index != chosen.index]
    if not bottom:  # only when the tiers overlap (τ ≥ 0.5) and hold the chosen one alone
        return Selection(chosen.index, None, "the bottom tier holds only the chosen trajectory")
    rejected = max(bottom, key=lambda t: (t.cost, -t.reward, -t.index))
    if r_max == r_min:  # both tiers hold everything: the cheapest over the dearest, if costs differ
        if rejected.cost == chosen.cost:
            return Selection(chosen.index, None, "all rewards and costs equal: no preference pair")
        return Selection(chosen.index, rejected.index, "all rewards equal: the cheapest over the dearest")
    return Selection(chosen.index, rejected.index)
