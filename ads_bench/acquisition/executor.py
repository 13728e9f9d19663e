"""Execute a list of API calls under a budget: admit, run concurrently, cut to size, cost it all.

Calls are admitted in their written order against ``max_calls``, per-API limits and the $
budget (by the cost model's estimate); admitted calls run concurrently (they are independent);
their items are then kept in call order until the acquired-token or item budget is full.

Each call's fixed fee enters the ledger the moment that call returns (not once all have), so a
session killed mid-acquisition has already recorded what it paid; the fee carries a key (see
``ledger.fee_key``) so that a resumed run re-executing the same call counts its fee once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from ads_bench.acquisition.api_implementations import AcquisitionApi
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import CallOutcome
from ads_bench.acquisition.trajectory import ApiCall, Budget, BudgetTracker, Dropped
from ads_bench.models.ledger import Ledger, fee_key


def estimate_tokens(text: str) -> int:
    """~4 characters a token: the budget needs a cheap, tokenizer-free, deterministic count."""
    return max(1, len(text) // 4)


async def execute_calls(
    calls: Sequence[ApiCall],
    apis: Mapping[str, AcquisitionApi],
    costs: CostModel,
    *,
    budget: Budget | None = None,
    max_items: int | None = None,
    ledger: Ledger | None = None,
) -> tuple[list[CallOutcome], list[Dropped]]:
    tracker = BudgetTracker(budget, costs.estimate)
    admitted: list[ApiCall] = []
    dropped: list[Dropped] = []
    for call in calls:
        if call.api not in apis:
            dropped.append(Dropped(call.position, call.to_dict(), f"api not available: {call.api}"))
            continue
        refusal = tracker.try_admit(call)
        if refusal is None:
            admitted.append(call)
        else:
            dropped.append(Dropped(call.position, call.to_dict(), refusal))
    outcomes = list(await asyncio.gather(*(_run(apis[c.api], c, costs, ledger) for c in admitted)))
    kept_items = 0
    for outcome in outcomes:
        kept = []
        for item in outcome.items:
            fits_items = max_items is None or kept_items < max_items
            if fits_items and tracker.add_tokens(estimate_tokens(item.render())):
                kept.append(item)
                kept_items += 1
            else:
                outcome.dropped_items += 1
        outcome.items = kept
    return outcomes, dropped


async def _run(api: AcquisitionApi, call: ApiCall, costs: CostModel, ledger: Ledger | None) -> CallOutcome:
    try:
        outcome = await api.run(call)
    except Exception as exc:  # one broken call (a missing argument, a failed search) is recorded
        from ads_bench.errors import UserError

        if isinstance(exc, UserError):
            raise
        outcome = CallOutcome(call, error=f"{exc.__class__.__name__}: {exc}")
    if ledger is not None and costs.fee(call.api):
        ledger.record_fee(api=call.api, cost_usd=costs.fee(call.api), key=fee_key(call.position, call.api, call.args))
    return outcome
