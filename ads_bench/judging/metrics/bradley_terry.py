"""Bradley–Terry scores with bootstrap CIs, as Arena-Hard-Auto v0.1 computes them.

Source: lmarena/arena-hard-auto, ``utils_math.py`` (``compute_mle_elo``, ``get_bootstrap_result``,
``predict_win_rate``, ``get_win_rate_column``, ``construct_style_matrices``, ``fit_bt``,
``get_bootstrap_result_style_control``) and ``show_result.py`` (percentile CIs, win rates).

The model: P(a beats b) = 1 / (1 + 10^((R_b - R_a) / 400)) with ratings on the Elo scale,
R = 400 * beta + 1000, shifted so that the baseline sits at ``anchor`` (arena-hard: gpt-4-0314
= 1000). It is a logistic regression without intercept on rows x = ln(10) (e_a - e_b); each
battle enters twice (arena-hard duplicates the battles and turns a tie into one win for each
side), which is the same as one row with soft label 1, 0.5 or 0 and weight 2. The win rate
against the baseline is the model's predicted P(beats baseline) * 100; its CI is the win rate at
the 2.5th and 97.5th percentiles of the bootstrapped ratings.

Style control (``construct_style_matrices``) adds, per style feature f, the covariate
(f_a - f_b) / (f_a + f_b + 1), standardised over the battles; and, as arena-hard's ``fit_bt``
does by leaving scikit-learn's default ``C = 1``, an L2 penalty 0.5 * ||w||^2 on all
coefficients. The covariates are centred as arena-hard centres them (see ``center_style``).
(``fit_bt`` anchors the baseline at 1114 instead of 1000; that shifts ratings, not win rates.)

Why our own solver: arena-hard refits scikit-learn's ``LogisticRegression`` once per bootstrap
round on the duplicated battle table (``benchmarks/metrics_speed.py --compare-sklearn``: ~2 s a
round for 20 models × 500 prompts, minutes for 100 rounds). We fit all rounds at once with
Newton's method on a (rounds × groups) weight matrix, each round warm-started from the full-data
fit: without style the likelihood depends on the battles only through their counts per (pair,
outcome), so a round is a fit over a few dozen weighted rows; with style every battle is a row
but the model block of the Hessian is still summed per pair. Fitted to convergence, the point
estimates equal scikit-learn's to its tolerance (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ads_bench.judging.metrics.battles import STYLE_FEATURES, Battles
from ads_bench.judging.metrics.bootstrap import cluster_index, resample_blocks
from ads_bench.judging.metrics.intervals import confidence_interval, separability

LN10 = math.log(10.0)
#: arena-hard's fit_bt: sklearn LogisticRegression default C = 1 -> penalty 0.5 * ||w||^2
STYLE_CONTROL_RIDGE = 1.0
_MAX_NEWTON_STEPS = 100
_NEWTON_TOLERANCE = 1e-10
#: largest Newton step per coefficient (log10 odds), against overshooting from a bad start
_MAX_STEP = 2.0
#: a vanishing ridge on top of any other: a model that won (or lost) every battle has no finite
#: maximum-likelihood rating; with it the rating saturates (~ +-3500 Elo from its opponents,
#: a win rate that rounds to 100%) instead of diverging. Elsewhere it moves ratings by < 1e-6.
_STABILISER = 1e-8


def win_rate_against(
    rating: np.ndarray | float, baseline_rating: float, scale: float = 400.0, base: float = 10.0
) -> np.ndarray | float:
    """arena-hard ``predict_win_rate``: P(model beats baseline) in %, from Elo-scale ratings."""
    return 100.0 / (1.0 + base ** ((baseline_rating - np.asarray(rating, dtype=float)) / scale))


@dataclass(frozen=True)
class ModelRating:
    model: str
    rating: float
    rating_lower: float
    rating_upper: float
    win_rate: float
    win_rate_lower: float
    win_rate_upper: float
    n_battles: int


@dataclass(frozen=True)
class BradleyTerryResult:
    baseline: str
    #: best first; the baseline is included (rating = anchor, win rate 50)
    ratings: tuple[ModelRating, ...]
    #: style coefficient per feature (of f_a - f_b, standardised), empty without style control
    style_coefficients: dict[str, float]
    #: bootstrapped ratings, rounds × models in :attr:`models` order (NaN: absent that round)
    bootstrap: np.ndarray
    models: tuple[str, ...]
    rounds: int
    level: float

    def rating_of(self, model: str) -> ModelRating:
        for rating in self.ratings:
            if rating.model == model:
                return rating
        raise KeyError(model)

    def separability(self) -> float:
        """Fraction of pairs of non-baseline models whose rating CIs do not overlap."""
        others = [rating for rating in self.ratings if rating.model != self.baseline]
        return separability(
            [rating.rating_lower for rating in others], [rating.rating_upper for rating in others]
        )


@dataclass(frozen=True)
class _Design:
    """Battles reduced to fitting groups.

    A group is a set of battle rows that share pair and soft label (and, with style, a row is its
    own group). ``row_group`` maps battle rows to groups.
    """

    pair_a: np.ndarray  # (pairs,) model index of side A
    pair_b: np.ndarray
    group_pair: np.ndarray  # (groups,) non-decreasing: a pair's groups are contiguous
    group_label: np.ndarray  # (groups,) soft label of A: 1, 0.5, 0
    group_style: np.ndarray | None  # (groups, k) standardised style covariates
    row_group: np.ndarray  # (rows,)
    n_models: int

    @property
    def n_groups(self) -> int:
        return self.group_pair.size

    @property
    def pair_starts(self) -> np.ndarray:
        return np.flatnonzero(np.r_[True, np.diff(self.group_pair) != 0])


def _standardised_style(battles: Battles, features: Sequence[str], center: bool) -> np.ndarray:
    columns = [STYLE_FEATURES.index(name) for name in features]
    side_a = battles.style_a[:, columns]  # type: ignore[index]
    side_b = battles.style_b[:, columns]  # type: ignore[index]
    ratio = (side_a - side_b) / (side_a + side_b + 1.0)
    mean = ratio.mean(axis=0) if center else 0.0
    std = ratio.std(axis=0)
    # a feature that never varies carries no information; arena-hard would divide by zero
    std[std == 0] = 1.0
    return (ratio - mean) / std


def _design(battles: Battles, model_index: dict[str, int], style: np.ndarray | None) -> _Design:
    index_a = np.array([model_index[name] for name in battles.model_a], dtype=np.int64)
    index_b = np.array([model_index[name] for name in battles.model_b], dtype=np.int64)
    n_models = len(model_index)
    pair_code = index_a * n_models + index_b
    pair_codes, row_pair = np.unique(pair_code, return_inverse=True)
    pair_a, pair_b = pair_codes // n_models, pair_codes % n_models
    if style is not None:
        # one group per battle, ordered by pair so that each pair's groups are contiguous
        order = np.argsort(row_pair, kind="stable")
        row_group = np.empty_like(order)
        row_group[order] = np.arange(order.size)
        return _Design(
            pair_a,
            pair_b,
            row_pair[order],
            battles.score_a[order].astype(float),
            style[order],
            row_group,
            n_models,
        )
    label_code = np.rint(battles.score_a * 2).astype(np.int64)  # 0, 1, 2
    group_codes, row_group = np.unique(row_pair * 3 + label_code, return_inverse=True)
    return _Design(
        pair_a, pair_b, group_codes // 3, (group_codes % 3) / 2.0, None, row_group, n_models
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, in place: 0.5 + 0.5 tanh(x / 2) is several times faster than
    ``scipy.special.expit`` on large arrays and as accurate where the fit needs it."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def _solve(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(hessian, gradient[..., None])[..., 0]
    except np.linalg.LinAlgError:
        # a comparison graph that does not connect every model to the baseline
        return np.einsum("rij,rj->ri", np.linalg.pinv(hessian), gradient)


def _fit(
    design: _Design,
    weights: np.ndarray,
    ridge: float,
    baseline: int,
    start: np.ndarray | None = None,
):
    """Newton's method for every row of ``weights`` (rounds × groups) at once, from ``start``
    (coefficients, e.g. the full-data fit for bootstrap rounds; zeros by default).

    Minimises ``0.5 * ridge * ||w||^2 - sum_g weight_g * loglik_g`` and returns ``beta``
    (rounds × models, log10 units, baseline at 0 when ``ridge == 0``), ``gamma`` (rounds × k)
    and the mask of models without any battle in a round.
    """
    n_rounds = weights.shape[0]
    n_models = design.n_models
    k = 0 if design.group_style is None else design.group_style.shape[1]
    n_params = n_models + k
    pair_matrix = np.zeros((design.pair_a.size, n_models))
    pair_matrix[np.arange(design.pair_a.size), design.pair_a] += 1.0
    pair_matrix[np.arange(design.pair_a.size), design.pair_b] -= 1.0
    starts = design.pair_starts
    weight_per_pair = np.add.reduceat(weights, starts, axis=1)
    absent = (weight_per_pair @ np.abs(pair_matrix)) == 0  # rounds × models
    fixed = absent.copy()
    if ridge == 0:
        fixed[:, baseline] = True
    # rows of the design matrix, one per group: ln(10) (e_a - e_b), then the style covariates
    design_rows = LN10 * pair_matrix[design.group_pair]
    if k:
        style = design.group_style
        style_outer = (style[:, :, None] * style[:, None, :]).reshape(design.n_groups, k * k)  # type: ignore[index]
        design_rows = np.hstack([design_rows, style])  # type: ignore[list-item]
    labels = design.group_label[None, :]

    params = np.zeros((n_rounds, n_params))
    if start is not None:
        params[:] = start
        params[:, :n_models][absent] = 0.0
    for _ in range(_MAX_NEWTON_STEPS):
        mu = _sigmoid(params @ design_rows.T)
        residual = labels - mu
        residual *= weights
        mu *= 1.0 - mu
        mu *= weights
        curvature = mu
        gradient = residual @ design_rows
        hessian = np.empty((n_rounds, n_params, n_params))
        # the model block only depends on per-pair sums of the curvature
        hessian[:, :n_models, :n_models] = LN10**2 * np.einsum(
            "rq,qi,qj->rij", np.add.reduceat(curvature, starts, axis=1), pair_matrix, pair_matrix
        )
        if k:
            hessian[:, n_models:, n_models:] = (curvature @ style_outer).reshape(n_rounds, k, k)
            style_per_pair = np.stack(
                [np.add.reduceat(curvature * style[:, i], starts, axis=1) for i in range(k)],  # type: ignore[index]
                axis=2,
            )  # rounds × pairs × k
            cross = LN10 * np.einsum("rqk,qi->rik", style_per_pair, pair_matrix)
            hessian[:, :n_models, n_models:] = cross
            hessian[:, n_models:, :n_models] = cross.transpose(0, 2, 1)
        # minimise the penalised negative log-likelihood
        gradient = (ridge + _STABILISER) * params - gradient
        hessian = hessian + (ridge + _STABILISER) * np.eye(n_params)[None]
        # fixed coefficients (baseline, absent models) keep their value: unit row, zero gradient
        rows, columns = np.nonzero(fixed)
        hessian[rows, columns, :] = 0.0
        hessian[rows, :, columns] = 0.0
        hessian[rows, columns, columns] = 1.0
        gradient[rows, columns] = 0.0
        step = np.clip(_solve(hessian, gradient), -_MAX_STEP, _MAX_STEP)
        params -= step
        if np.abs(step).max() < _NEWTON_TOLERANCE:
            break
    return params[:, :n_models], params[:, n_models:], absent


def _group_weights(design: _Design, row_weights: np.ndarray) -> np.ndarray:
    """Sum (rounds × rows) weights into (rounds × groups)."""
    if design.group_style is not None:  # one row per group
        grouped = np.empty_like(row_weights)
        grouped[:, design.row_group] = row_weights
        return grouped
    order = np.argsort(design.row_group, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(design.row_group[order]) != 0])
    return np.add.reduceat(row_weights[:, order], starts, axis=1)


def bradley_terry(
    battles: Battles,
    *,
    baseline: str,
    rounds: int = 100,
    seed: int = 42,
    style: Sequence[str] = (),
    resample: str = "battle",
    ridge: float | None = None,
    center_style: bool = True,
    anchor: float = 1000.0,
    level: float = 0.95,
) -> BradleyTerryResult:
    """Bradley–Terry ratings, win rates against ``baseline`` and bootstrap CIs.

    ``rounds``: bootstrap resamples (arena-hard's default is 100), seeded by ``seed``.
    ``style``: style-control features, a subset of :data:`STYLE_FEATURES` (arena-hard's
    ``--style-control`` is all four, ``--length-control-only`` ``("length",)``,
    ``--markdown-control-only`` the other three); needs battles with style counts.
    ``resample``: ``"battle"`` resamples battle rows as arena-hard does; ``"prompt"`` resamples
    prompts with all their battles (a cluster bootstrap; needs ``battles.prompt``).
    ``ridge``: L2 penalty on the coefficients; by default arena-hard's (none without style,
    0.5 * ||w||^2 with style).
    ``center_style``: subtract the mean style covariate, as arena-hard does. Since arena-hard's
    battles all put the baseline in position A, that mean is not 0 and the ratings are then
    "at the average style difference of all judged models": it ranks models at equal style but
    shifts every win rate against the baseline by the same amount. ``False`` puts the ratings at
    equal style with the baseline (covariate 0), so the win rate itself is style-free.
    """
    if len(battles) == 0:
        raise ValueError("no battles to fit")
    names = sorted(set(battles.model_a.tolist()) | set(battles.model_b.tolist()))
    if baseline not in names:
        raise ValueError(f"the baseline {baseline!r} fought no battle (models: {names})")
    unknown = [name for name in style if name not in STYLE_FEATURES]
    if unknown:
        raise ValueError(f"unknown style features {unknown}; choose from {STYLE_FEATURES}")
    if style and not battles.has_style:
        raise ValueError("style control needs battles with style counts (style_a, style_b)")
    if resample not in ("battle", "prompt"):
        raise ValueError("resample must be 'battle' or 'prompt'")
    if resample == "prompt" and battles.prompt is None:
        raise ValueError("resample='prompt' needs battles.prompt")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")

    model_index = {name: index for index, name in enumerate(names)}
    base = model_index[baseline]
    covariates = _standardised_style(battles, style, center_style) if style else None
    design = _design(battles, model_index, covariates)
    penalty = (STYLE_CONTROL_RIDGE if style else 0.0) if ridge is None else ridge

    # each battle counts twice, as in arena-hard's duplicated design (matters with a penalty)
    counts = np.bincount(design.row_group, minlength=design.n_groups).astype(float)
    beta, gamma, _ = _fit(design, 2.0 * counts[None, :], penalty, base)
    point = 400.0 * beta[0]
    point += anchor - point[base]

    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, len(names)))
    if resample == "prompt":
        unit_of_row = cluster_index(battles.prompt.tolist(), len(battles))  # type: ignore[union-attr]
    else:
        unit_of_row = np.arange(len(battles))
    n_units = int(unit_of_row.max()) + 1
    done = 0
    for unit_counts in resample_blocks(rng, n_units, rounds):
        row_weights = unit_counts[:, unit_of_row].astype(float)
        boot_beta, _, absent = _fit(
            design,
            2.0 * _group_weights(design, row_weights),
            penalty,
            base,
            start=np.concatenate([beta[0], gamma[0]]),
        )
        ratings = 400.0 * boot_beta
        ratings += anchor - ratings[:, [base]]
        ratings[absent] = np.nan
        samples[done : done + len(unit_counts)] = ratings
        done += len(unit_counts)

    lower, upper = confidence_interval(samples, level=level, axis=0)
    involved = np.bincount(design.pair_a[design.group_pair[design.row_group]], minlength=len(names))
    involved += np.bincount(
        design.pair_b[design.group_pair[design.row_group]], minlength=len(names)
    )
    entries = [
        ModelRating(
            model=name,
            rating=float(point[i]),
            rating_lower=float(lower[i]),
            rating_upper=float(upper[i]),
            win_rate=float(win_rate_against(point[i], anchor)),
            win_rate_lower=float(win_rate_against(lower[i], anchor)),
            win_rate_upper=float(win_rate_against(upper[i], anchor)),
            n_battles=int(involved[i]),
        )
        for i, name in enumerate(names)
    ]
    entries.sort(key=lambda entry: entry.rating, reverse=True)
    coefficients = {name: float(value) for name, value in zip(style, gamma[0], strict=True)}
    return BradleyTerryResult(
        baseline=baseline,
        ratings=tuple(entries),
        style_coefficients=coefficients,
        bootstrap=samples,
        models=tuple(names),
        rounds=rounds,
        level=level,
    )
