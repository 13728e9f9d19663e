"""Metrics of the judge engine: win rates, length control, Bradley–Terry, bootstrap CIs.

Each formula follows its benchmark's own code (AlpacaEval, Arena-Hard-Auto, FastChat), named in
the module that implements it; the published figures they reproduce are pinned by the tests.
"""

from ads_bench.judging.metrics.battles import (
    NORMALIZED_VERDICTS,
    STYLE_FEATURES,
    VERDICTS,
    Battles,
    Game,
    GameBattles,
    battles_from_games,
    is_verdict,
    style_counts,
    verdict_outcome,
)
from ads_bench.judging.metrics.bootstrap import (
    PairedDiff,
    paired_bootstrap,
    paired_bootstrap_many,
    resample_counts,
)
from ads_bench.judging.metrics.bradley_terry import (
    BradleyTerryResult,
    ModelRating,
    bradley_terry,
    win_rate_against,
)
from ads_bench.judging.metrics.clustered import (
    MIN_CLUSTERS,
    ClusteredMean,
    clustered_difference,
    clustered_mean,
    holm,
)
from ads_bench.judging.metrics.intervals import confidence_interval, separability
from ads_bench.judging.metrics.length_control import (
    GamedAnnotations,
    LengthControlled,
    length_controlled_win_rate,
)
from ads_bench.judging.metrics.winrate import preferences_from_alpaca_eval, win_rate_summary

__all__ = [
    "MIN_CLUSTERS",
    "NORMALIZED_VERDICTS",
    "STYLE_FEATURES",
    "VERDICTS",
    "Battles",
    "BradleyTerryResult",
    "ClusteredMean",
    "Game",
    "GameBattles",
    "GamedAnnotations",
    "LengthControlled",
    "ModelRating",
    "PairedDiff",
    "battles_from_games",
    "bradley_terry",
    "clustered_difference",
    "clustered_mean",
    "confidence_interval",
    "holm",
    "is_verdict",
    "length_controlled_win_rate",
    "paired_bootstrap",
    "paired_bootstrap_many",
    "preferences_from_alpaca_eval",
    "resample_counts",
    "separability",
    "style_counts",
    "verdict_outcome",
    "win_rate_against",
    "win_rate_summary",
]
