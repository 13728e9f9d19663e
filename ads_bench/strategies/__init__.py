"""Data-acquisition strategies: the baselines and ADS, registered by name (entry point
group ``ads_bench.strategies`` for other packages' strategies)."""

from ads_bench.strategies import baselines, optimizer_driven, oracle, source_data  # noqa: F401  (registers them)
from ads_bench.strategies.base import (
    AcquisitionContext,
    Strategy,
    get_strategy,
    register_strategy,
    run_calls,
    strategy_names,
)

#: strategies whose trajectories an optimizer model writes
OPTIMIZER_STRATEGIES = ("prompting", "ads", "ir-only", "demo-only", "qa-only")


def strategy_table() -> list[dict[str, object]]:
    rows = []
    for name in strategy_names():
        strategy = get_strategy(name)
        rows.append({"strategy": name, "description": getattr(strategy, "description", "")})
    return rows


__all__ = [
    "OPTIMIZER_STRATEGIES",
    "AcquisitionContext",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "run_calls",
    "strategy_names",
    "strategy_table",
]
