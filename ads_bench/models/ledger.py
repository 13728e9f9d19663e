"""Usage and cost ledger: calls, cache hits, tokens, seconds and dollars per role, model and API.

Every model call and every cache hit is recorded here by the model layer; the acquisition
layer adds its non-model costs (fixed per-call fees) and labels model calls with the API
that made them through :func:`api_scope`. A cache hit costs nothing but records what it saved.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ads_bench.errors import UserError
from ads_bench.models.types import CallRecord

_current_api: contextvars.ContextVar[str | None] = contextvars.ContextVar("ads_api", default=None)


@contextlib.contextmanager
def api_scope(api: str | None) -> Iterator[None]:
    """Label every model call made inside this block (and the tasks it spawns) with ``api``."""
    token = _current_api.set(api)
    try:
        yield
    finally:
        _current_api.reset(token)


def current_api() -> str | None:
    return _current_api.get()


@dataclass(frozen=True)
class Price:
    input_per_million: float = 0.0
    output_per_million: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1e6


FREE = Price()


class PriceTable:
    """Per-model prices; exact name first, then the longest listed prefix."""

    def __init__(self, prices: dict[str, Price]):
        self.prices = dict(prices)

    @classmethod
    def default(cls, overrides: str | Path | dict | None = None) -> PriceTable:
        table = cls(_read_prices(Path(__file__).with_name("prices.yaml")))
        if overrides is not None:
            table.prices.update(
                _parse_prices(overrides, "prices") if isinstance(overrides, dict) else _read_prices(Path(overrides))
            )
        return table

    def lookup(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        candidates = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(candidates, key=len)] if candidates else None


def _read_prices(path: Path) -> dict[str, Price]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise UserError(f"price table {path} not found: pass an existing YAML file") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"price table {path} is not valid YAML ({exc.__class__.__name__}): fix its syntax") from exc
    return _parse_prices(data or {}, str(path))


def _parse_prices(data: dict, source: str) -> dict[str, Price]:
    prices = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
            raise UserError(
                f"price for '{name}' in {source} must be {{input: $/1M tokens, output: $/1M tokens}}"
            )
        prices[str(name)] = Price(float(entry["input"]), float(entry["output"]))
    return prices


@dataclass
class UsageTotals:
    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    #: of ``prompt_tokens``, those the engine served from its prefix cache
    engine_cached_prompt_tokens: int = 0

    def add(self, other: UsageTotals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Ledger:
    """Thread-safe totals keyed by (role, model, api). ``api`` is "-" for calls outside any API."""

    entries: dict[tuple[str, str, str], UsageTotals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(
        self,
        *,
        role: str,
        model: str,
        call: CallRecord,
        cost_usd: float,
        api: str | None = None,
    ) -> None:
        key = (role, model, api or current_api() or "-")
        with self._lock:
            totals = self.entries.setdefault(key, UsageTotals())
            if call.cached:
                totals.cache_hits += 1
                totals.saved_usd += cost_usd
                return
            totals.calls += 1
            totals.failures += int(call.failed)
            totals.prompt_tokens += call.prompt_tokens
            totals.completion_tokens += call.completion_tokens
            totals.engine_cached_prompt_tokens += call.engine_cached_prompt_tokens
            totals.seconds += call.seconds
            totals.cost_usd += cost_usd

    def record_fee(self, *, api: str, cost_usd: float, role: str = "acquisition", model: str = "-") -> None:
        """A non-model cost, e.g. a retrieval call's fixed fee in the acquisition cost model."""
        with self._lock:
            totals = self.entries.setdefault((role, model, api), UsageTotals())
            totals.calls += 1
            totals.cost_usd += cost_usd

    def total(self, **match: str) -> UsageTotals:
        """Sum of the entries whose role/model/api equal the given values (all when none given)."""
        out = UsageTotals()
        with self._lock:
            for (role, model, api), totals in self.entries.items():
                key = {"role": role, "model": model, "api": api}
                if all(key[k] == v for k, v in match.items()):
                    out.add(totals)
        return out

    def grouped(self, by: str) -> dict[str, UsageTotals]:
        """Totals per role, per model or per api."""
        index = {"role": 0, "model": 1, "api": 2}[by]
        out: dict[str, UsageTotals] = {}
        with self._lock:
            for key, totals in self.entries.items():
                out.setdefault(key[index], UsageTotals()).add(totals)
        return out

    def snapshot(self) -> Ledger:
        with self._lock:
            return Ledger({k: UsageTotals(**asdict(v)) for k, v in self.entries.items()})

    def since(self, earlier: Ledger) -> Ledger:
        """What was spent after ``earlier`` (a snapshot of this ledger) was taken."""
        out = Ledger()
        for key, now in self.snapshot().entries.items():
            before = earlier.entries.get(key, UsageTotals())
            delta = UsageTotals(
                **{f.name: getattr(now, f.name) - getattr(before, f.name) for f in fields(now)}
            )
            if delta.calls or delta.cache_hits:
                out.entries[key] = delta
        return out

    def to_json(self) -> dict[str, Any]:
        rows = [
            {"role": r, "model": m, "api": a, **asdict(t)}
            for (r, m, a), t in sorted(self.snapshot().entries.items())
        ]
        total = self.total()
        return {"entries": rows, "total": {**asdict(total), "tokens": total.tokens}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        ledger = cls()
        for row in data.get("entries", []):
            row = dict(row)
            key = (row.pop("role"), row.pop("model"), row.pop("api"))
            ledger.entries[key] = UsageTotals(**row)
        return ledger

    def merge(self, other: Ledger) -> None:
        for key, totals in other.snapshot().entries.items():
            with self._lock:
                self.entries.setdefault(key, UsageTotals()).add(totals)

    def save(self, path: str | Path) -> None:
        from ads_bench.store.atomic import write_text_atomic

        write_text_atomic(Path(path), json.dumps(self.to_json(), indent=2))
