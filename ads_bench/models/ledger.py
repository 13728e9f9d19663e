"""Usage and cost ledger: calls, cache hits, tokens, seconds and dollars per role, model and API.

Every model call and every cache hit is recorded here by the model layer; the acquisition
layer adds its non-model costs (fixed per-call fees) and labels model calls with the API
that made them through :func:`api_scope`. A cache hit costs nothing but records what it saved.

While a run folder is open, a :class:`LedgerSink` writes every record to the folder's
``ledger.jsonl`` the moment it happens (a ``start`` line before a call is sent, a ``call`` line
when it returns), so spend survives a kill. :func:`replay` reads that log back into the two
figures a run reports:

- **the run costs**: every request the run needed, cached or not, each counted once by its
  request key, and each acquisition fee once (by task, call index, API and arguments); the same
  whether the cache was empty or warm, and however often the run was interrupted;
- **spent**: what its executions actually paid (non-cached calls and fees), session by session.

A call that started and never returned (the process died with it in flight) may have been
billed by the server: replay counts it as *unconfirmed* rather than dropping it.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ads_bench.errors import UserError
from ads_bench.models.types import CallRecord
from ads_bench.utils.hashing import json_sha256
from ads_bench.utils.jsonl import JsonlLog

_current_api: contextvars.ContextVar[str | None] = contextvars.ContextVar("ads_api", default=None)
_fee_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("ads_fee_scope", default=None)

#: what a retry can be recorded for (the transport layer's causes)
RETRY_CAUSES = ("429", "5xx", "timeout", "connection", "malformed")

RUN_COSTS_LABEL = (
    "the run costs: every call the run needed, cached or not, each request counted once by its "
    "cache key, and each acquisition fee once"
)
SPENT_LABEL = "spent: non-cached calls and acquisition fees actually paid, summed over the sessions"
EXECUTION_LABEL = "this execution spent: non-cached calls and acquisition fees paid by this invocation"
UNCONFIRMED_LABEL = (
    "unconfirmed: calls sent by a session that never saw their reply (killed or cancelled in flight); "
    "the server may have billed them. $ is an estimate: the same request's price where another session "
    "completed it"
)


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


@contextlib.contextmanager
def fee_scope(scope: str | None) -> Iterator[None]:
    """Name the unit (a task) whose acquisition fees are paid inside this block.

    A fee paid under a scope gets a key (scope, call index, API, arguments): when a killed task
    is acquired again on resume, the re-paid fee has the same key and the run counts it once.
    Fees paid outside any scope count every time.
    """
    token = _fee_scope.set(scope)
    try:
        yield
    finally:
        _fee_scope.reset(token)


def fee_key(position: int, api: str, args: Mapping[str, Any]) -> str | None:
    """The identity of one acquisition call's fee within the current :func:`fee_scope`."""
    scope = _fee_scope.get()
    if scope is None:
        return None
    digest = json_sha256(dict(args), 16, default=str)
    return f"{scope}#{position}:{api}:{digest}"


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
    #: requests the transport sent again (429, 5xx, timeout, connection, malformed reply)
    retries: int = 0

    def add(self, other: UsageTotals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LedgerSink:
    """A run folder's ``ledger.jsonl``: every record appended (and fsynced) as it happens."""

    def __init__(self, log: JsonlLog, session: str):
        self.log = log
        self.session = session
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_call_id(self) -> str:
        with self._lock:
            return f"{self.session}/{next(self._ids)}"

    def write(self, record: dict[str, Any]) -> None:
        line = {"v": 1, "session": self.session, **record}
        with self._lock:  # one writer at a time: lines never interleave
            self.log.append(line)


@dataclass
class Ledger:
    """Thread-safe totals keyed by (role, model, api). ``api`` is "-" for calls outside any API."""

    entries: dict[tuple[str, str, str], UsageTotals] = field(default_factory=dict)
    #: retries per (role, model, api, cause)
    retry_causes: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sink: LedgerSink | None = None

    # -- the durable log -------------------------------------------------------------------
    def attach(self, sink: LedgerSink | None) -> LedgerSink | None:
        """Write every record from now on to ``sink`` too; returns the sink it replaces."""
        previous, self._sink = self._sink, sink
        return previous

    def record_started(self, *, role: str, model: str, keys: Sequence[str], api: str | None = None) -> str | None:
        """Log that a call is about to be sent; returns the id its ``record`` must carry.

        Only the log needs this (totals change when the call returns): a ``start`` line without
        its ``call`` line is a call that was in flight when the process died.
        """
        sink = self._sink
        if sink is None:
            return None
        call_id = sink.next_call_id()
        sink.write({"kind": "start", "id": call_id, "role": role, "model": model,
                    "api": api or current_api() or "-", "keys": list(keys)})
        return call_id

    # -- recording -------------------------------------------------------------------------
    def record(
        self,
        *,
        role: str,
        model: str,
        call: CallRecord,
        cost_usd: float,
        api: str | None = None,
        samples: Mapping[str, tuple[int, int, float]] | None = None,
        call_id: str | None = None,
    ) -> None:
        """One model call or cache hit.

        ``samples`` maps each request key the call answered (one per sample) to its prompt and
        completion tokens and $: the run-cost figure counts each key once, whichever session
        computed it or found it in the cache. ``call_id`` is what :meth:`record_started` returned.
        """
        key = (role, model, api or current_api() or "-")
        self._count_call(key, call, cost_usd)
        sink = self._sink
        if sink is not None:
            sink.write({
                "kind": "call", "id": call_id, "role": key[0], "model": key[1], "api": key[2],
                "cached": call.cached, "failed": call.failed,
                "prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens,
                "engine_cached_prompt_tokens": call.engine_cached_prompt_tokens,
                "seconds": call.seconds, "usd": cost_usd,
                "samples": {k: list(v) for k, v in (samples or {}).items()},
            })

    def _count_call(self, key: tuple[str, str, str], call: CallRecord, cost_usd: float) -> None:
        with self._lock:
            totals = self.entries.setdefault(key, UsageTotals())
            if call.cached:
                totals.cache_hits += 1
                totals.saved_usd += cost_usd
            else:
                totals.calls += 1
                totals.failures += int(call.failed)
                totals.prompt_tokens += call.prompt_tokens
                totals.completion_tokens += call.completion_tokens
                totals.engine_cached_prompt_tokens += call.engine_cached_prompt_tokens
                totals.seconds += call.seconds
                totals.cost_usd += cost_usd

    def absorb(self, record: Mapping[str, Any]) -> None:
        """A record another process's ledger wrote (a Ray worker's, pipeline/ray_executor.py):
        counted in these totals as if recorded here, and written to this ledger's sink as it is
        (its ``node`` field included), so one process stays the only writer of ``ledger.jsonl``."""
        kind = record.get("kind")
        key = (str(record.get("role", "-")), str(record.get("model", "-")), str(record.get("api") or "-"))
        if kind == "call":
            call = CallRecord(int(record.get("prompt_tokens", 0)), int(record.get("completion_tokens", 0)),
                              float(record.get("seconds", 0.0)), cached=bool(record.get("cached")),
                              failed=bool(record.get("failed")),
                              engine_cached_prompt_tokens=int(record.get("engine_cached_prompt_tokens", 0)))
            self._count_call(key, call, float(record.get("usd", 0.0)))
        elif kind == "fee":
            with self._lock:
                totals = self.entries.setdefault(key, UsageTotals())
                totals.calls += 1
                totals.cost_usd += float(record.get("usd", 0.0))
        elif kind == "retry":
            with self._lock:
                self.entries.setdefault(key, UsageTotals()).retries += 1
                cause_key = (*key, str(record.get("cause")))
                self.retry_causes[cause_key] = self.retry_causes.get(cause_key, 0) + 1
        sink = self._sink
        if sink is not None:
            sink.write({k: v for k, v in record.items() if k not in ("v", "session")})

    def record_fee(
        self, *, api: str, cost_usd: float, role: str = "acquisition", model: str = "-", key: str | None = None
    ) -> None:
        """A non-model cost, e.g. a retrieval call's fixed fee in the acquisition cost model.

        ``key`` (see :func:`fee_key`) identifies the fee, so that paying it again on resume does
        not raise what the run costs.
        """
        with self._lock:
            totals = self.entries.setdefault((role, model, api), UsageTotals())
            totals.calls += 1
            totals.cost_usd += cost_usd
        sink = self._sink
        if sink is not None:
            sink.write({"kind": "fee", "role": role, "model": model, "api": api, "usd": cost_usd, "key": key})

    def record_retry(self, *, role: str, model: str, cause: str, api: str | None = None) -> None:
        """The transport sent a request again; ``cause`` is one of :data:`RETRY_CAUSES`."""
        key = (role, model, api or current_api() or "-")
        with self._lock:
            self.entries.setdefault(key, UsageTotals()).retries += 1
            cause_key = (*key, cause)
            self.retry_causes[cause_key] = self.retry_causes.get(cause_key, 0) + 1
        sink = self._sink
        if sink is not None:
            sink.write({"kind": "retry", "role": key[0], "model": key[1], "api": key[2], "cause": cause})

    # -- reading ---------------------------------------------------------------------------
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

    def retries_by(self, by: str | None = None) -> dict[str, Any]:
        """Retries per cause (``by=None``), or per role/model/api and then per cause."""
        with self._lock:
            items = list(self.retry_causes.items())
        if by is None:
            causes: Counter[str] = Counter()
            for key, n in items:
                causes[key[3]] += n
            return dict(sorted(causes.items()))
        index = {"role": 0, "model": 1, "api": 2}[by]
        out: dict[str, dict[str, int]] = {}
        for key, n in sorted(items):
            group = out.setdefault(key[index], {})
            group[key[3]] = group.get(key[3], 0) + n
        return out

    def snapshot(self) -> Ledger:
        with self._lock:
            return Ledger({k: UsageTotals(**asdict(v)) for k, v in self.entries.items()}, dict(self.retry_causes))

    def since(self, earlier: Ledger) -> Ledger:
        """What was spent after ``earlier`` (a snapshot of this ledger) was taken."""
        out = Ledger()
        now_ledger = self.snapshot()
        for key, now in now_ledger.entries.items():
            before = earlier.entries.get(key, UsageTotals())
            delta = UsageTotals(
                **{f.name: getattr(now, f.name) - getattr(before, f.name) for f in fields(now)}
            )
            if delta.calls or delta.cache_hits or delta.retries:
                out.entries[key] = delta
        for key, n in now_ledger.retry_causes.items():
            if n - earlier.retry_causes.get(key, 0):
                out.retry_causes[key] = n - earlier.retry_causes.get(key, 0)
        return out

    def to_json(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        rows = [
            {"role": r, "model": m, "api": a, **asdict(t)}
            for (r, m, a), t in sorted(snapshot.entries.items())
        ]
        retries = [
            {"role": r, "model": m, "api": a, "cause": c, "count": n}
            for (r, m, a, c), n in sorted(snapshot.retry_causes.items())
        ]
        total = self.total()
        return {"entries": rows, "total": {**asdict(total), "tokens": total.tokens}, "retries": retries}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        ledger = cls()
        known = {f.name for f in fields(UsageTotals)}
        for row in data.get("entries", []):
            key = (row["role"], row["model"], row["api"])
            ledger.entries[key] = UsageTotals(**{k: v for k, v in row.items() if k in known})
        for row in data.get("retries", []):
            ledger.retry_causes[(row["role"], row["model"], row["api"], row["cause"])] = int(row["count"])
        return ledger

    def merge(self, other: Ledger) -> None:
        theirs = other.snapshot()
        with self._lock:
            for key, totals in theirs.entries.items():
                self.entries.setdefault(key, UsageTotals()).add(totals)
            for key, n in theirs.retry_causes.items():
                self.retry_causes[key] = self.retry_causes.get(key, 0) + n

    def save(self, path: str | Path) -> None:
        from ads_bench.utils.atomic import write_text_atomic

        write_text_atomic(Path(path), json.dumps(self.to_json(), indent=2))



