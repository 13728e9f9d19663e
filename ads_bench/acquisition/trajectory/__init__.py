"""API trajectories: the plan an optimizer model writes, read tolerantly, held to a budget.

An optimizer model answers a task with an *analysis*, a *self-reflection* and an ordered list
of data-acquisition *calls* (see ``docs/trajectory-format.md``). Its output is data: this package
parses it and never executes any of it. :func:`parse_trajectory` accepts what real models write
(code fences, prose around the JSON, trailing commas, Python-style literals, API-name aliases,
output cut off by the token limit, numbered lists) and reports every call it dropped and why.
:meth:`Trajectory.render` writes the one canonical text the optimizer is trained on; parsing that
text gives the same trajectory back.

Budgets (:class:`Budget`, :class:`BudgetTracker`) admit calls in the model's order: a call is
dropped when admitting it would break a limit, and later calls that still fit are kept.

Modules: ``apis`` (the APIs and their names), ``records`` (calls, drops, trajectories),
``lenient_json`` (the tolerant JSON reader), ``raw_call`` (one call as written, validated),
``lines`` (the line-based fallback), ``parser`` (:func:`parse_trajectory`), ``budget``
(budgets, API restriction), ``prompt`` (the optimizer's prompt).
"""

from ads_bench.acquisition.trajectory.api_signatures import (
    API_NAMES,
    API_SPECS,
    ApiSpec,
    ArgSpec,
    resolve_api_name,
)
from ads_bench.acquisition.trajectory.budget import Budget, BudgetTracker, CostFn, restrict_apis
from ads_bench.acquisition.trajectory.parser import parse_trajectory
from ads_bench.acquisition.trajectory.prompt import DEFAULT_TEMPLATE, optimizer_messages
from ads_bench.acquisition.trajectory.records import ApiCall, Dropped, Trajectory

__all__ = [
    "API_NAMES",
    "API_SPECS",
    "DEFAULT_TEMPLATE",
    "ApiCall",
    "ApiSpec",
    "ArgSpec",
    "Budget",
    "BudgetTracker",
    "CostFn",
    "Dropped",
    "Trajectory",
    "optimizer_messages",
    "parse_trajectory",
    "resolve_api_name",
    "restrict_apis",
]
