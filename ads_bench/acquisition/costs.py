"""The acquisition cost model: a fixed fee per call of each API plus the model tokens it used.

Token costs come from the price table through the model layer; a local engine's tokens take a
hosted-equivalent price (``models/prices.yaml``, ``models/local_price.py``), so no call is free.
The fixed fees are this project's defaults, not the paper's (it gives none): they stand for what
a search API, a policy's own generations and a human expert's answer cost relative to each
other, and are overridable (``--api-costs FILE`` with ``{information_retrieval: 0.005, ...}``).
Every default fee is nonzero: a free API would make cost-tier selection prefer trajectories
made of it whatever they bring (``optimizer/cost_tier_selection.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.errors import UserError

DEFAULT_FEES_USD = {
    INFORMATION_RETRIEVAL: 0.005,  # a web-search API call (Bing/Brave list prices: ~$5 per 1000)
    # a request to a hosted generation endpoint on top of its tokens: a fifth of a search call,
    # so that demonstrations stay the cheapest API per call (the paper: QA the dearest)
    DEMONSTRATION_GENERATION: 0.001,
    QUESTION_ANSWERING: 0.05,  # the expert stands in for a human annotator's answer
}


@dataclass(frozen=True)
class CostModel:
    fees_usd: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FEES_USD))
    #: a rough token cost per call added to the estimate used to admit calls against a $ budget
    estimated_token_cost_usd: Mapping[str, float] = field(default_factory=dict)

    def fee(self, api: str) -> float:
        return float(self.fees_usd.get(api, 0.0))

    def estimate(self, call: ApiCall) -> float:
        """Expected cost of a call before it runs (for budget admission)."""
        return self.estimate_api(call.api)

    def estimate_api(self, api: str) -> float:
        return self.fee(api) + float(self.estimated_token_cost_usd.get(api, 0.0))

    @classmethod
    def from_file(cls, path: str | Path | None) -> CostModel:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"cannot read API costs {path} ({exc.__class__.__name__}): pass a YAML mapping api -> $") from exc
        unknown = set(data) - set(DEFAULT_FEES_USD)
        if unknown:
            raise UserError(f"unknown APIs {sorted(unknown)} in {path}: use {', '.join(DEFAULT_FEES_USD)}")
        return cls({**DEFAULT_FEES_USD, **{k: float(v) for k, v in data.items()}})
