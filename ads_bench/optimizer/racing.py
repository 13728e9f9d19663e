"""Cheaper rewards by racing: judge a task's trajectories on held-out instructions in rounds and
stop as soon as the (chosen, rejected) pair that exhaustive evaluation would pick is predictable.

A trajectory's reward is its mean judged reward over all H held-out instructions, and DPO needs
only the pair that cost-tier selection (:mod:`.selection`) picks from those means. Every round
judges the trajectories still racing on the same next instructions (a randomized block design).

After each round a *posterior-predictive* model forecasts what exhaustive evaluation would see::

    r_ic = mu_i + beta_c + eps_ic,   eps_ic ~ N(0, sigma^2)

(trajectory effect, instruction effect, judgment noise), fitted by two-way least squares on the
judged cells. Draws of every trajectory's unjudged rewards — set-aside ones included, since their
exhaustive means still decide the exhaustive pair — with the uncertainty of mu_i, sigma (a
scaled-inverse-chi-square posterior with a weak prior, so two columns do not look noise-free) and
the difficulty of the instructions nobody has judged yet (it matters against constant
trajectories only) give draws of the exhaustive means (the estimation error of a judged
instruction's beta_c is ignored: it is shared by the trajectories judged on it); cost-tier selection on
each draw (:func:`select_many`, equal to :func:`selection.select` per draw) gives the forecast
distribution of the exhaustive pair.

- the pick is :func:`selection.select` on the posterior-mean exhaustive means, which is also what
  :meth:`Race.mean` reports, so that ``select`` on the logged rewards gives the same pair;
- stop when the pick is the exhaustive pair with posterior probability >= ``confidence`` (for
  confidence > 1/2 the pick is then the modal pair of the draws; the two rarely differ, and only
  the pick is consistent with the logged rewards);
- otherwise judge next only the trajectories whose own uncertainty matters: pinning one's
  exhaustive mean to its expected value changes the pair of at least ``drop_below`` of the draws
  (default (1 - confidence) / 2). The others are set aside, not eliminated: they rejoin on the
  next fresh instruction if they come to matter again, and once the fresh instructions run out the
  race goes back to the instructions that the trajectories that matter missed. When none passes
  the threshold, the one that matters most is judged; the race ends when nothing left to judge
  matters.

No decision is made before every racing trajectory has ``min_evaluations`` rewards (one column
leaves no residual to estimate sigma from). Trajectories known to score the same on every instruction (``constant``: one that acquired
nothing is judged as the un-updated policy, a fixed reward) are settled by their first judgment.

``benchmarks/reward_racing.py`` measures the saving, how often the pair equals the one exhaustive
evaluation picks, and how often either equals the true pair on synthetic data. Its ``--bound``
replaces the forecast (``_expected_means`` and ``_draw_exhaustive_means``, the only two methods
that know the model) with the synthetic generator's exact one, to show what better modelling
could at most add.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ads_bench.optimizer.cost_tier_selection import Scored, Selection, select

# Weak prior on the judgment noise sigma (reward scale [0, 1]): worth two cells of residual, so
# that a block of two instructions whose residuals happen to be tiny does not end a race.
SIGMA_PRIOR = 0.15
SIGMA_PRIOR_DOF = 2.0
# Weak prior on the spread of instruction effects; it matters only against constant trajectories.
INSTRUCTION_SPREAD_PRIOR = 0.1
INSTRUCTION_SPREAD_PRIOR_DOF = 1.0
SENSITIVITY_DRAWS = 400


@dataclass
class Race:
    costs: Sequence[float]  # per trajectory (known once executed)
    n_instructions: int
    tau: float = 0.0
    confidence: float = 0.9  # stop once P(pick = exhaustive pair) reaches this
    round_size: int = 1
    min_evaluations: int = 2  # judgments every racing trajectory gets before any decision
    usable: Sequence[bool] | None = None  # False: the trajectory failed, nothing to evaluate
    constant: Sequence[bool] | None = None  # True: the same reward on every instruction
    drop_below: float | None = None  # None: (1 - confidence) / 2
    draws: int = 1000
    seed: int = 0
    observed: dict[int, list[float]] = field(default_factory=dict)
    alive: set[int] = field(default_factory=set)
    next_instruction: int = 0

    def __post_init__(self) -> None:
        k, h = len(self.costs), self.n_instructions
        usable = self.usable if self.usable is not None else [True] * k
        constant = self.constant if self.constant is not None else [False] * k
        self._usable = [i for i in range(k) if usable[i]]
        self._constant = {i for i in self._usable if constant[i]}
        self.alive = set(self._usable)
        self.observed = {i: [] for i in self._usable}
        self._values = np.full((k, h), np.nan)  # judged rewards; NaN: not judged, or no verdict
        self._judged = np.zeros((k, h), dtype=bool)
        self._round: list[int] = []
        self._decided = not self._usable
        self._prediction: np.ndarray | None = None
        self._fitted: _Fit | None = None
        self.last_confidence: float | None = None  # P(pick = exhaustive pair) at the last round

    # -- driving the race -------------------------------------------------------------------
    def done(self) -> bool:
        return self._decided or not any(self._unjudged(i).any() for i in self.alive)

    def next_round(self) -> tuple[list[int], list[int]]:
        """(trajectories to evaluate, instruction indices to evaluate them on) for the next round:
        the next fresh instructions while there are any, then the instructions that trajectories
        set aside earlier missed, if they matter again."""
        if self.done():
            return [], []
        if self.next_instruction < self.n_instructions:
            end = min(self.n_instructions, self.next_instruction + self.round_size)
            self._round = list(range(self.next_instruction, end))
            self.next_instruction = end
            return sorted(self.alive), list(self._round)
        column = min(int(np.argmax(self._unjudged(i))) for i in self.alive if self._unjudged(i).any())
        self._round = [column]
        return sorted(i for i in self.alive if self._unjudged(i)[column]), [column]

    def observe(self, trajectory: int, rewards: Sequence[float | None]) -> None:
        """This round's rewards of a trajectory, one per instruction (None: the judge gave none).
        A shorter list (Nones filtered out by the caller) is taken as the first instructions'."""
        self._prediction = self._fitted = None
        for instruction, reward in zip(self._round, rewards, strict=False):
            if reward is not None and not self._judged[trajectory, instruction]:
                self._values[trajectory, instruction] = reward
        self._judged[trajectory, self._round] = True
        row = self._values[trajectory]
        self.observed[trajectory] = [float(v) for v in row[~np.isnan(row)]]  # in instruction order

    def end_round(self) -> None:
        """Stop when the pair is predictable; otherwise judge next only the trajectories whose
        remaining uncertainty could still change it."""
        self._prediction = None
        self.alive -= {i for i in self._constant if self.observed[i]}  # one judgment says it all
        if self._waiting_for_min_evaluations():
            return
        arms = self._arms()
        if len(self._usable) == 1 or len(arms) < 2:
            self._decided = True
            return
        costs = [self.costs[i] for i in arms]
        draws = self._draw_exhaustive_means(arms)
        chosen, rejected = select_many(draws, costs, self.tau)
        expected = self._predicted_means()[arms]
        pick_chosen, pick_rejected = (int(v[0]) for v in select_many(expected[None, :], costs, self.tau))
        self.last_confidence = float(np.mean((chosen == pick_chosen) & (rejected == pick_rejected)))
        if self.last_confidence >= self.confidence:
            self._decided = True
            return
        uncertain = [a for a, i in enumerate(arms) if i not in self._constant and self._unjudged(i).any()]
        influence = _sensitivity(draws, expected, costs, self.tau, chosen, rejected, uncertain)
        sensitivity = dict(zip(arms, influence, strict=True))
        self.alive = self._worth_judging(sensitivity)
        self._decided = not self.alive

    def _worth_judging(self, sensitivity: dict[int, float]) -> set[int]:
        """The trajectories whose own uncertainty changes the pair in at least drop_below of the
        draws; when none of those has instructions left, the most influential one that has."""
        # set-aside trajectories resume when they matter again, so a loose threshold is safe;
        # (1 - confidence) / K measured clearly dearer for little more agreement
        threshold = self.drop_below if self.drop_below is not None else (1 - self.confidence) / 2
        open_arms = [i for i in sensitivity if i not in self._constant and self._unjudged(i).any()]
        worth = {i for i in open_arms if sensitivity[i] >= threshold}
        if worth or not open_arms:
            return worth
        best = max(open_arms, key=lambda i: sensitivity[i])
        return {best} if sensitivity[best] > 0 else set()

    def _waiting_for_min_evaluations(self) -> bool:
        """Racing trajectories still short of min_evaluations (and with instructions left to get them)."""
        if self.next_instruction >= self.n_instructions:
            return False
        return any(len(self.observed[i]) < self.min_evaluations for i in self.alive)

    def _unjudged(self, i: int) -> np.ndarray:
        return ~self._judged[i]

    def _arms(self) -> list[int]:
        """Trajectories with a reward to select on (a judge that never answered leaves none)."""
        return [i for i in self._usable if self.observed[i]]

    # -- the model --------------------------------------------------------------------------
    def _fit(self) -> _Fit:
        if self._fitted is None:
            model_arms = [i for i in self._arms() if i not in self._constant]
            self._fitted = fit_additive(self._values[model_arms], model_arms)
        return self._fitted

    def _predicted_means(self) -> np.ndarray:
        """Posterior-mean exhaustive mean per trajectory (NaN for those without a reward)."""
        if self._prediction is None:
            self._prediction = self._expected_means()
        return self._prediction

    def _expected_means(self) -> np.ndarray:
        means = np.full(len(self.costs), np.nan)
        fit = self._fit()
        for i in self._arms():
            values = self.observed[i]
            unseen = ~self._judged[i]
            if i in self._constant or not unseen.any():
                # summed in order like exhaustive_selection, so that exhaustive ties break alike
                means[i] = sum(values) / len(values)
                continue
            forecast = fit.mu[i] * unseen.sum() + fit.beta[unseen].sum()  # unseen-by-all columns: beta 0
            means[i] = (sum(values) + forecast) / (len(values) + unseen.sum())
        return means

    def _draw_exhaustive_means(self, arms: list[int]) -> np.ndarray:
        """draws x arms samples of the exhaustive means, from the posterior predictive."""
        rng = np.random.default_rng([self.seed, self.next_instruction, zlib.crc32(np.nan_to_num(self._values, nan=-1.0).tobytes())])
        fit = self._fit()
        sigma2 = fit.sigma2_draws(rng, self.draws)
        never_seen = self.n_instructions - self.next_instruction
        # the instructions nobody judged yet shift every modelled trajectory alike (their
        # difficulty), plus the error in where the seen instructions put the common level
        level_sd = math.sqrt(fit.instruction_spread2 * (never_seen + never_seen**2 / max(1, fit.columns)))
        level = rng.standard_normal(self.draws) * level_sd
        out = np.empty((self.draws, len(arms)))
        for a, i in enumerate(arms):
            values = self.observed[i]
            unseen = ~self._judged[i]
            u = int(unseen.sum())
            if i in self._constant or u == 0:
                out[:, a] = sum(values) / len(values)
                continue
            mu = fit.mu[i] + rng.standard_normal(self.draws) * np.sqrt(sigma2 / len(values))
            noise = rng.standard_normal(self.draws) * np.sqrt(sigma2 * u)
            forecast = u * mu + fit.beta[unseen].sum() + level + noise
            out[:, a] = (sum(values) + forecast) / (len(values) + u)
        return out

    # -- result -----------------------------------------------------------------------------
    def mean(self, i: int) -> float:
        """The trajectory's reward: its forecast mean over all instructions (the plain mean once
        judged on all of them), on which the race's pick is made."""
        if not self.observed.get(i):
            return 0.0
        return float(self._predicted_means()[i])

    def evaluations(self) -> int:
        return sum(len(v) for v in self.observed.values())

    def reward_fields(self, i: int) -> dict[str, Any]:
        """What a log says of trajectory i's reward, measured and forecast apart (:func:`reward_fields`)."""
        return reward_fields(self.mean(i) if self.observed.get(i) else None, self.observed.get(i, []),
                             self.n_instructions, constant=i in self._constant)

    def selection(self) -> Selection:
        scored = [
            Scored(i, self.mean(i) if self.observed.get(i) else None, self.costs[i]) for i in range(len(self.costs))
        ]
        return select(scored, self.tau)


def reward_fields(forecast: float | None, judged: Sequence[float], n_instructions: int,
                  constant: bool = False) -> dict[str, Any]:
    """A sample's reward as its log states it: ``reward_measured`` is the mean of the judgments made;
    ``reward_forecast`` is the race's estimate of the mean over all ``n_instructions``, the figure
    selection ran on (and the sample's ``reward``). ``reward_exact`` says whether the forecast is
    the exhaustive mean itself: every instruction judged, or a ``constant`` trajectory (one that
    acquired nothing, judged once as the un-updated policy). Otherwise the race stopped early and
    the forecast holds judgments no judge made, which a reader must be able to tell from a
    measurement. ``reward_judged`` of ``reward_of`` instructions were judged; None: a failed sample."""
    measured = sum(judged) / len(judged) if judged else None
    return {"reward_measured": measured, "reward_forecast": forecast if judged else None,
            "reward_exact": bool(judged) and (constant or len(judged) >= n_instructions),
            "reward_judged": len(judged), "reward_of": n_instructions}


@dataclass
class _Fit:
    mu: dict[int, float]  # trajectory effects
    beta: np.ndarray  # per instruction effect (0 where no modelled trajectory judged it), zero-sum
    residual_ss: float
    residual_dof: int
    instruction_spread2: float  # variance of instruction effects
    columns: int  # instructions some modelled trajectory was judged on

    def sigma2_draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Posterior draws of the judgment-noise variance (scaled inverse chi-square). One sigma
        for all trajectories: per-trajectory ones, shrunk to the pooled one, measured worse."""
        dof = SIGMA_PRIOR_DOF + self.residual_dof
        scale = (SIGMA_PRIOR_DOF * SIGMA_PRIOR**2 + self.residual_ss) / dof
        return dof * scale / rng.chisquare(dof, n)


def fit_additive(values: np.ndarray, rows: list[int]) -> _Fit:
    """Two-way least squares r_ic = mu_i + beta_c on the cells with a reward (any pattern of
    missing cells); beta is centred over the instructions judged."""
    h = values.shape[1]
    cells = np.argwhere(~np.isnan(values))
    columns = sorted({int(c) for c in cells[:, 1]}) if len(cells) else []
    if not len(cells):
        return _Fit({}, np.zeros(h), 0.0, 0, INSTRUCTION_SPREAD_PRIOR**2, 0)
    column_at = {c: j for j, c in enumerate(columns)}
    design = np.zeros((len(cells), len(rows) + len(columns)))
    design[np.arange(len(cells)), cells[:, 0]] = 1.0
    design[np.arange(len(cells)), len(rows) + np.array([column_at[int(c)] for c in cells[:, 1]])] = 1.0
    y = values[cells[:, 0], cells[:, 1]]
    solution, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ solution
    residual_dof = len(cells) - int(rank)
    mu, beta_seen = solution[: len(rows)], solution[len(rows):]
    shift = beta_seen.mean()  # the fit is defined up to moving a constant from beta to mu
    beta = np.zeros(h)
    beta[columns] = beta_seen - shift
    spread_dof = INSTRUCTION_SPREAD_PRIOR_DOF + len(columns) - 1
    spread2 = (INSTRUCTION_SPREAD_PRIOR_DOF * INSTRUCTION_SPREAD_PRIOR**2 + float(np.sum(beta[columns] ** 2))) / spread_dof
    return _Fit({i: float(m + shift) for i, m in zip(rows, mu, strict=True)}, beta, float(residual @ residual), residual_dof,
                spread2, len(columns))


def select_many(rewards: np.ndarray | Sequence[Sequence[float]], costs: Sequence[float],
                tau: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`selection.select` on every row of a (draws x arms) reward array at once.

    Arms are positions 0..A-1 (tie-breaking by position as select breaks it by index); returns
    (chosen, rejected) positions per row, -1 where select gives none. The tier bounds are the same
    floating-point expressions as select's, so the result is identical row by row, ties included.
    """
    r = np.asarray(rewards, dtype=float)
    cost = np.asarray(costs, dtype=float)
    positions = np.arange(r.shape[1])
    r_max, r_min = r.max(axis=1), r.min(axis=1)
    top_floor = np.minimum((1 - tau) * r_max + tau * r_min, r_max)
    bottom_ceiling = np.maximum((1 - tau) * r_min + tau * r_max, r_min)
    top = r >= top_floor[:, None]
    # chosen: the lowest cost in the top tier, then the highest reward, then the lowest position
    cheapest = np.where(top, cost, np.inf).min(axis=1)
    candidates = top & (cost == cheapest[:, None])
    chosen = np.argmax(np.where(candidates, r, -np.inf), axis=1)
    # rejected: the highest cost in the bottom tier (the chosen one aside), then the lowest
    # reward, then the lowest position
    bottom = (r <= bottom_ceiling[:, None]) & (positions != chosen[:, None])
    dearest = np.where(bottom, cost, -np.inf).max(axis=1)
    candidates = bottom & (cost == dearest[:, None])
    rejected = np.argmin(np.where(candidates, r, np.inf), axis=1)
    # all rewards equal: a pair only if costs separate the cheapest from the dearest (cost_tier_selection.py)
    separated = (r_max != r_min) | (cost[rejected] != cost[chosen])
    has_pair = bottom.any(axis=1) & separated & (r.shape[1] > 1)
    return chosen, np.where(has_pair, rejected, -1)


def _sensitivity(draws: np.ndarray, expected: np.ndarray, costs, tau: float, chosen: np.ndarray,
                 rejected: np.ndarray, uncertain: list[int]) -> np.ndarray:
    """Per arm, the probability that its own remaining uncertainty changes the pair: how often the
    pair of a draw changes when that arm's exhaustive mean is pinned to its expected value (0 for
    arms with nothing left uncertain)."""
    out = np.zeros(draws.shape[1])
    if not uncertain:
        return out
    # a few hundred draws tell 0.05 from 0 well enough, at a fraction of the cost
    draws, chosen, rejected = draws[:SENSITIVITY_DRAWS], chosen[:SENSITIVITY_DRAWS], rejected[:SENSITIVITY_DRAWS]
    pinned = np.repeat(draws[None], len(uncertain), axis=0)  # one copy per uncertain arm
    for copy, arm in enumerate(uncertain):
        pinned[copy, :, arm] = expected[arm]
    c, r = select_many(pinned.reshape(-1, draws.shape[1]), costs, tau)
    changed = (c.reshape(len(uncertain), -1) != chosen) | (r.reshape(len(uncertain), -1) != rejected)
    out[uncertain] = changed.mean(axis=1)
    return out


def exhaustive_selection(rewards: Sequence[Sequence[float] | None], costs: Sequence[float], tau: float) -> Selection:
    """The pair that evaluating every trajectory on every instruction picks (None = failed)."""
    return select(
        [Scored(i, None if r is None else sum(r) / len(r), c) for i, (r, c) in enumerate(zip(rewards, costs, strict=True))],
        tau,
    )
