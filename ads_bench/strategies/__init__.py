"""Data-acquisition strategies: the baselines and ADS, registered by name (entry point
group ``ads_bench.strategies`` for other packages' strategies)."""

from ads_bench.errors import UserError
from ads_bench.strategies import baselines, optimizer_driven, oracle, source_data  # noqa: F401  (registers them)
from ads_bench.strategies.base import (
    STRATEGIES,
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
    rows: list[dict[str, object]] = []
    for entry in STRATEGIES:
        try:
            description = getattr(get_strategy(entry.name), "description", "")
        except UserError as exc:  # a broken plugin is listed with its error, not a traceback
            description = f"(unavailable: {exc})"
        rows.append({"strategy": entry.name, "description": description, "from": entry.source})
    return rows


__all__ = [
    "OPTIMIZER_STRATEGIES",
    "STRATEGIES",
    "AcquisitionContext",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "run_calls",
    "strategy_names",
    "strategy_table",
]
