"""Judging: pairwise and single-answer judges (ours) and the metrics they feed."""

from ads_bench.judging.configs import JudgeConfig, builtin_judges, judge_table, load_judge_config
from ads_bench.judging.engine import (
    ORDER_MODES,
    Grade,
    GradeItem,
    PairItem,
    PairJudgment,
    PairwiseJudge,
    SingleGrader,
)
from ads_bench.judging.summary import pairwise_metrics, single_metrics

__all__ = [
    "ORDER_MODES",
    "Grade",
    "GradeItem",
    "JudgeConfig",
    "PairItem",
    "PairJudgment",
    "PairwiseJudge",
    "SingleGrader",
    "builtin_judges",
    "judge_table",
    "load_judge_config",
    "pairwise_metrics",
    "single_metrics",
]
