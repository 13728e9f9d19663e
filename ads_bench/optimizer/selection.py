"""Cost-tier selection of the chosen and rejected trajectory of a task (ADS.md, Algorithm 1).

Over a task's K trajectories with rewards R and costs C, and tier parameter τ ∈ [0, 1]:

- top tier:    R ∈ [(1−τ)·Rmax + τ·Rmin, Rmax]   -> chosen   = the lowest-cost one there
- bottom tier: R ∈ [Rmin, (1−τ)·Rmin + τ·Rmax]   -> rejected = the highest-cost one there

τ = 0 is pure reward maximisation (chosen = argmax R, rejected = argmin R). Cost enters only
through this choice, never as a term added to the reward.

Ties the paper leaves open, decided here so that every run is reproducible: within a tier,
equal costs are broken by reward (higher for chosen, lower for rejected), then by sample index
(lower first). A task yields no pair when fewer than two trajectories have a reward, or when
all rewards are equal (nothing separates a better trajectory from a worse one); with one
usable trajectory it still yields a chosen one for rejection-sampling SFT.
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
    if r_max == r_min:
        return Selection(chosen.index, None, "all rewards equal: no preference pair")
    bottom = [t for t in usable if t.reward <= bottom_ceiling and t.index != chosen.index]
    if not bottom:  # only when the tiers overlap (τ ≥ 0.5) and hold the chosen one alone
        return Selection(chosen.index, None, "the bottom tier holds only the chosen trajectory")
    rejected = max(bottom, key=lambda t: (t.cost, -t.reward, -t.index))
    return Selection(chosen.index, rejected.index)
