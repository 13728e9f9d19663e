"""Metrics of a run's pairwise judgments, by name (the ``metrics`` plugin kind).

A metric is a function ``(judgments) -> value`` over the run's :class:`PairJudgment` s, failed
ones included (each says ``failed``). The built-ins return a mapping merged into the pairwise
block of ``metrics.json`` (where they always were); any other package's metric (entry-point
group ``ads_bench.metrics``, or ``@register_metric`` in your code) lands under
``pairwise.plugin_metrics.NAME``, so it can never overwrite a built-in number. A value must be
JSON: numbers finite, and with its n beside it where it is an estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ads_bench.judging.engine import PairJudgment
from ads_bench.registry import BUILT_IN, Registry

Metric = Callable[[Sequence[PairJudgment]], Any]

METRICS = Registry("metrics")


def register_metric(name: str, *, description: str = "") -> Callable[[Metric], Metric]:
    """Decorator: ``@register_metric("my-metric")`` over ``def metric(judgments) -> value``."""
    return METRICS.register(name, description=description)


@register_metric("order_agreement", description="share of judged pairs whose two orders agree")
def order_agreement(judgments: Sequence[PairJudgment]) -> dict[str, Any]:
    agreements = [j.agreement for j in judgments if j.agreement is not None]
    return {"order_agreement": float(np.mean(agreements)) if agreements else None,
            "n_order_pairs": len(agreements)}


@register_metric("position_preference", description="how often the judge prefers the answer shown first")
def position_preference(judgments: Sequence[PairJudgment]) -> dict[str, Any]:
    shown_first = [
        o["p_model"] if o["model_position"] == "first" else 1 - o["p_model"]
        for j in judgments if not j.failed for o in j.orders
    ]
    return {"p_prefer_first_position": float(np.mean(shown_first)) if shown_first else None}


def judgment_metrics(judgments: Sequence[PairJudgment]) -> dict[str, Any]:
    """Every registered metric of ``judgments``: the built-ins' keys, then ``plugin_metrics``."""
    out: dict[str, Any] = {}
    plugins: dict[str, Any] = {}
    for entry in METRICS:
        value = METRICS.load_entry(entry)(judgments)
        if entry.source == BUILT_IN:
            out.update(value)
        else:
            plugins[entry.name] = value
    if plugins:
        out["plugin_metrics"] = plugins
    return out


def metric_table() -> list[dict[str, object]]:
    """Rows for ``ads-bench list metrics``."""
    return [{"metric": e.name, "description": e.description, "from": e.source} for e in METRICS]
