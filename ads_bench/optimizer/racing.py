"""Cheaper rewards by racing: evaluate a task's trajectories on held-out instructions in rounds and
stop evaluating those that can no longer be chosen or rejected.

DPO needs only the chosen (top tier, cheapest) and rejected (bottom tier, dearest) trajectory of
a task, so a trajectory that is plausibly neither is dropped. Every round evaluates the alive
trajectories on the same next instructions (a randomized block design), then compares each
trajectory's mean with the best and the worst one, with the standard error of a *difference*
of means from the two-way residual variance (instruction difficulty cancels; ``z`` sets the
width). A trajectory survives while it could be in the top tier or the bottom tier (within τ of
the extreme, as in :mod:`.selection`). The race ends when at most one trajectory is plausibly on
top and one at the bottom, or the instructions run out. The final pick is
:func:`selection.select` on the observed means.

``benchmarks/reward_racing.py`` measures the saving and how often the pair equals the one that
exhaustive evaluation picks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ads_bench.optimizer.selection import Scored, Selection, select


@dataclass
class Race:
    costs: Sequence[float]  # per trajectory (known once executed); None-reward ones are left out
    n_instructions: int
    tau: float = 0.0
    z: float = 2.0
    round_size: int = 2
    min_evaluations: int = 2
    usable: Sequence[bool] | None = None  # False: the trajectory failed, nothing to evaluate
    observed: dict[int, list[float]] = field(default_factory=dict)
    alive: set[int] = field(default_factory=set)
    next_instruction: int = 0

    def __post_init__(self) -> None:
        flags = self.usable if self.usable is not None else [True] * len(self.costs)
        self.alive = {i for i, ok in enumerate(flags) if ok}
        self.observed = {i: [] for i in self.alive}

    # -- driving the race -------------------------------------------------------------------
    def done(self) -> bool:
        return self.next_instruction >= self.n_instructions or not self._undecided()

    def next_round(self) -> tuple[list[int], list[int]]:
        """(trajectories to evaluate, instruction indices to evaluate them on) for the next round."""
        if self.done():
            return [], []
        end = min(self.n_instructions, self.next_instruction + self.round_size)
        instructions = list(range(self.next_instruction, end))
        self.next_instruction = end
        return sorted(self.alive), instructions

    def observe(self, trajectory: int, rewards: Sequence[float]) -> None:
        self.observed[trajectory].extend(rewards)

    def end_round(self) -> None:
        """Drop the trajectories that are now plausibly neither chosen nor rejected."""
        if min(len(self.observed[i]) for i in self.alive) < self.min_evaluations:
            return
        self.alive = self._needed()

    # -- statistics -------------------------------------------------------------------------
    def mean(self, i: int) -> float:
        values = self.observed[i]
        return sum(values) / len(values) if values else 0.0

    def _difference_se(self) -> float:
        """Standard error of the difference of two alive trajectories' means.

        Alive trajectories were judged on the same instructions, a randomized block design: an
        instruction's difficulty shifts every trajectory alike and cancels in a difference. The
        residual variance after removing trajectory and instruction effects (two-way ANOVA)
        therefore measures what separates trajectories, far more tightly than their raw spread.
        """
        alive = sorted(self.alive)
        n = min(len(self.observed[i]) for i in alive)
        k = len(alive)
        if n < 2 or k < 2:
            return math.inf
        rows = [self.observed[i][:n] for i in alive]
        row_means = [sum(r) / n for r in rows]
        col_means = [sum(r[c] for r in rows) / k for c in range(n)]
        grand = sum(row_means) / k
        residual = sum(
            (rows[a][c] - row_means[a] - col_means[c] + grand) ** 2 for a in range(k) for c in range(n)
        )
        dof = (k - 1) * (n - 1)
        sd = math.sqrt(residual / dof) if dof > 0 else 0.5
        # The question is not whether the *true* means differ but whether the means over all H
        # instructions — what exhaustive evaluation would pick from — can still change order:
        # the unseen H - n instructions add (H - n)/H² of a judgment's variance, and the seen ones'
        # estimate of the rest is off by ((H - n)/H)² / n. At n = H the margin is 0.
        h = self.n_instructions
        remaining = h - n
        return max(sd, 1e-3) * math.sqrt(2.0 * (remaining / h**2 + (remaining / h) ** 2 / n))

    def _plausible(self) -> tuple[set[int], set[int]]:
        """Trajectories that could still be chosen (top tier) and rejected (bottom tier)."""
        margin = self.z * self._difference_se()
        means = {i: self.mean(i) for i in self.alive}
        best, worst = max(means.values()), min(means.values())
        spread = self.tau * (best - worst)  # a trajectory within τ of the extreme is in its tier
        top = {i for i, m in means.items() if best - m <= margin + spread}
        bottom = {i for i, m in means.items() if m - worst <= margin + spread}
        if self.tau > 0:
            top, bottom = self._prune_by_cost(means, margin, spread, top, bottom)
        return top, bottom

    def _prune_by_cost(self, means, margin, spread, top: set[int], bottom: set[int]) -> tuple[set[int], set[int]]:
        """Within a tier cost decides: once one trajectory is surely in the top tier, dearer ones
        cannot be chosen (and once one is surely at the bottom, cheaper ones cannot be rejected)."""
        best, worst = max(means.values()), min(means.values())
        sure_top = [i for i in top if best - means[i] + margin <= spread]
        if sure_top:
            cheapest = min(self.costs[i] for i in sure_top)
            top = {i for i in top if self.costs[i] <= cheapest}
        sure_bottom = [i for i in bottom if means[i] - worst + margin <= spread]
        if sure_bottom:
            dearest = max(self.costs[i] for i in sure_bottom)
            bottom = {i for i in bottom if self.costs[i] >= dearest}
        return top, bottom

    def _needed(self) -> set[int]:
        top, bottom = self._plausible()
        return top | bottom

    def _undecided(self) -> bool:
        if not self.alive:
            return False
        # a lone usable trajectory is chosen without a race, but still needs a reward to log
        if min(len(self.observed[i]) for i in self.alive) < self.min_evaluations:
            return True
        if len(self.alive) == 1:
            return False
        top, bottom = self._plausible()
        return len(top) > 1 or len(bottom) > 1

    # -- result -----------------------------------------------------------------------------
    def evaluations(self) -> int:
        return sum(len(v) for v in self.observed.values())

    def selection(self) -> Selection:
        scored = [
            Scored(i, self.mean(i) if self.observed.get(i) else None, self.costs[i]) for i in range(len(self.costs))
        ]
        # trajectories dropped earlier keep their partial means: they are in the middle
        return select(scored, self.tau)


def exhaustive_selection(rewards: Sequence[Sequence[float] | None], costs: Sequence[float], tau: float) -> Selection:
    """The pair that evaluating every trajectory on every instruction picks (None = failed)."""
    return select(
        [Scored(i, None if r is None else sum(r) / len(r), c) for i, (r, c) in enumerate(zip(rewards, costs, strict=True))],
        tau,
    )
