"""What a local model's tokens cost: a hosted-equivalent price, never $0.

A local engine (the embedded model, ``gguf:``, ``hf:``, ``vllm:``, a server on this machine)
bills nothing, but pricing its tokens at $0 makes every call that only uses them free, and
cost-tier selection (``optimizer/cost_tier_selection.py``) then prefers those trajectories whatever they
bring. So a local model's tokens are priced at what a hosted provider charges for an open model
of its size; ``models/prices.yaml`` states the figures and their source. In order:

1. the model's own name in the price table (exact, else its longest listed prefix), so a local
   server of a hosted open model takes that model's hosted price;
2. its parameter count read from the name (``135M``, ``7B``, ``8x7B``) against the size tiers
   ``local-up-to-NB`` (a model above the largest tier takes the largest);
3. ``local``: the price for a model whose size the name does not say.

``?price_in=..&price_out=..`` on the spec still overrides all of this (``Runtime.price_for``).
"""

from __future__ import annotations

import re

from ads_bench.models.ledger import Price, PriceTable

#: the price-table key of the size-unknown fallback, and the prefix of the size tiers
LOCAL_KEY = "local"
_TIER = re.compile(r"^local-up-to-(\d+(?:\.\d+)?)B$")
# "8x7B" (a mixture of experts: total parameters), "7B", "1.5B", "135M"; a size is a number
# standing alone, not part of a longer word or version ("v0.1", "Q4_1" are not sizes)
_SIZE = re.compile(r"(?<![A-Za-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([MB])(?![A-Za-z0-9])", re.IGNORECASE)


def parameters_billions(name: str) -> float | None:
    """The parameter count a model's name states, in billions (the largest if several)."""
    sizes = []
    for experts, number, unit in _SIZE.findall(name):
        size = float(number) * (int(experts) if experts else 1)
        sizes.append(size / 1000 if unit.upper() == "M" else size)
    return max(sizes) if sizes else None


def local_price(table: PriceTable, name: str) -> tuple[Price, str]:
    """(the price of a local model's tokens, which table entry gave it)."""
    listed = table.lookup(name)
    if listed is not None:
        return listed, name
    tiers = sorted(
        (float(m.group(1)), key) for key in table.prices if (m := _TIER.match(key)) is not None
    )
    size = parameters_billions(name)
    if size is not None and tiers:
        for ceiling, key in tiers:
            if size <= ceiling:
                return table.prices[key], key
        return table.prices[tiers[-1][1]], tiers[-1][1]
    if LOCAL_KEY in table.prices:
        return table.prices[LOCAL_KEY], LOCAL_KEY
    return Price(), "none"
