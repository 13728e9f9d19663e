"""A run's costs replayed from its ledger log (``ledger.jsonl``): what the run cost over all its
sessions, what was spent, and what was in flight when a session was killed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.models.ledger import (
    RUN_COSTS_LABEL,
    SPENT_LABEL,
    UNCONFIRMED_LABEL,
    Ledger,
    UsageTotals,
)
from ads_bench.models.types import CallRecord

LEDGER_LOG = "ledger.jsonl"


@dataclass
class RunCosts:
    """What a run's ``ledger.jsonl`` says, over all its sessions (see the module docstring)."""

    run: Ledger  # the run costs: each request key once, each keyed fee once
    spent: Ledger  # what the sessions paid, every execution counted
    unconfirmed_calls: int = 0
    unconfirmed_usd: float = 0.0  # estimated: the price of the same request where it completed
    unconfirmed_unpriced: int = 0  # unconfirmed calls whose request never completed anywhere
    duplicate_calls: int = 0  # non-cached calls of a request another non-cached call had answered
    sessions: list[dict[str, Any]] = field(default_factory=list)

    def model_calls(self, ledger: Ledger) -> int:
        return sum(t.calls for (role, _, _), t in ledger.entries.items() if role != "acquisition")

    def fees(self, ledger: Ledger) -> int:
        return sum(t.calls for (role, _, _), t in ledger.entries.items() if role == "acquisition")

    def cost_block(self) -> dict[str, Any]:
        """The ``cost`` block of metrics.json: the same bytes however often the run was resumed."""
        run, spent = self.run.total(), self.spent.total()

        def per(by: str) -> dict[str, dict[str, Any]]:
            retries = self.spent.retries_by(by)
            return {name: {"calls": t.calls, "tokens": t.tokens, "usd": t.cost_usd,
                           **({"retries": retries[name]} if name in retries else {})}
                    for name, t in sorted(self.run.grouped(by).items())}

        return {
            "labels": {"run": RUN_COSTS_LABEL, "spent": SPENT_LABEL, "unconfirmed": UNCONFIRMED_LABEL},
            "run_usd": run.cost_usd + 0.0, "run_calls": self.model_calls(self.run),
            "run_api_fees": self.fees(self.run), "run_tokens": run.tokens,
            "spent_usd": spent.cost_usd + 0.0, "spent_calls": self.model_calls(self.spent),
            "spent_api_fees": self.fees(self.spent), "spent_tokens": spent.tokens,
            "unconfirmed_calls": self.unconfirmed_calls, "unconfirmed_usd": self.unconfirmed_usd,
            "unconfirmed_unpriced": self.unconfirmed_unpriced,
            "duplicate_calls": self.duplicate_calls,
            "retries": self.spent.retries_by(),
            # what readers of the first format read: the run costs
            "total_usd": run.cost_usd + 0.0, "by_role": per("role"), "by_api": per("api"),
        }

    def to_json(self) -> dict[str, Any]:
        """ledger.json: ``entries``/``total`` are the run costs (as before), the rest labelled."""
        view = self.run.to_json()
        return {
            "v": 2,
            "label": RUN_COSTS_LABEL + "; cache hits, failures, retries and seconds are what the sessions saw",
            **view,
            "spent": {"label": SPENT_LABEL, **self.spent.to_json()},
            "unconfirmed": {"label": UNCONFIRMED_LABEL, "calls": self.unconfirmed_calls,
                            "usd_estimate": self.unconfirmed_usd, "unpriced": self.unconfirmed_unpriced},
            "duplicate_calls": self.duplicate_calls,
            "sessions": self.sessions,
        }


def replay(records: Iterable[dict[str, Any]]) -> RunCosts:
    """Fold a run's ledger log (all sessions, killed ones included) into its cost figures."""
    spent = Ledger()
    # request key -> the (role, model, api) it is billed to and its tokens and $; when several
    # records carry one key the smallest entry wins, so the split does not depend on timing
    needed: dict[str, tuple[tuple[str, str, str], int, int, float]] = {}
    computed: Counter[str] = Counter()
    fees: list[tuple[tuple[str, str, str], str | None, float]] = []
    fee_keys: set[str] = set()
    started: dict[str, list[str]] = {}
    returned: set[str] = set()
    sessions: dict[str, dict[str, Any]] = {}

    def session(record: dict[str, Any]) -> dict[str, Any]:
        sid = str(record.get("session"))
        return sessions.setdefault(sid, {"session": sid, "command": None, "started": None, "closed": False,
                                         "calls": 0, "api_fees": 0, "usd": 0.0})

    for record in records:
        kind = record.get("kind")
        entry = (str(record.get("role", "-")), str(record.get("model", "-")), str(record.get("api") or "-"))
        if kind == "open":
            session(record).update(command=record.get("command"), started=record.get("at"))
        elif kind == "close":
            session(record)["closed"] = True
        elif kind == "start":
            started[str(record["id"])] = list(record.get("keys", []))
        elif kind == "call":
            if record.get("id"):
                returned.add(str(record["id"]))
            call = CallRecord(int(record.get("prompt_tokens", 0)), int(record.get("completion_tokens", 0)),
                              float(record.get("seconds", 0.0)), cached=bool(record.get("cached")),
                              failed=bool(record.get("failed")),
                              engine_cached_prompt_tokens=int(record.get("engine_cached_prompt_tokens", 0)))
            usd = float(record.get("usd", 0.0))
            spent.record(role=entry[0], model=entry[1], api=entry[2], call=call, cost_usd=usd)
            samples = record.get("samples") or {}
            if not call.cached:
                session(record)["calls"] += 1
                session(record)["usd"] += usd
                if not call.failed:
                    computed.update(samples.keys())
            if not call.failed:
                for key, (prompt, completion, key_usd) in samples.items():
                    candidate = (entry, int(prompt), int(completion), float(key_usd))
                    needed[key] = min(needed.get(key, candidate), candidate)
        elif kind == "fee":
            usd = float(record.get("usd", 0.0))
            spent.record_fee(role=entry[0], model=entry[1], api=entry[2], cost_usd=usd)
            session(record)["api_fees"] += 1
            session(record)["usd"] += usd
            key = record.get("key")
            if key is None or key not in fee_keys:  # a fee with no key is paid each time
                fees.append((entry, key, usd))
                if key is not None:
                    fee_keys.add(key)
        elif kind == "retry":
            spent.record_retry(role=entry[0], model=entry[1], api=entry[2], cause=str(record.get("cause")))

    # summed in a fixed order (by entry, then key): the same calls give the same float, bit for
    # bit, in whatever order the sessions happened to record them
    run = Ledger()
    for entry in sorted({e for e, *_ in needed.values()} | {e for e, _, _ in fees}):
        run.entries[entry] = UsageTotals()
    for _, (entry, prompt, completion, usd) in sorted(needed.items()):
        totals = run.entries[entry]
        totals.calls += 1
        totals.prompt_tokens += prompt
        totals.completion_tokens += completion
        totals.cost_usd += usd
    for entry, _, usd in sorted(fees, key=lambda fee: (fee[0], fee[1] or "", fee[2])):
        run.entries[entry].calls += 1
        run.entries[entry].cost_usd += usd
    # what only the sessions can say (cache hits, failures, retries, seconds) comes from them
    for entry, seen in spent.entries.items():
        totals = run.entries.setdefault(entry, UsageTotals())
        totals.cache_hits, totals.failures, totals.retries = seen.cache_hits, seen.failures, seen.retries
        totals.seconds, totals.saved_usd = seen.seconds, seen.saved_usd
        totals.engine_cached_prompt_tokens = seen.engine_cached_prompt_tokens
    run.retry_causes = dict(spent.retry_causes)

    costs = RunCosts(run, spent, sessions=list(sessions.values()),
                     duplicate_calls=sum(n - 1 for n in computed.values() if n > 1))
    for call_id, keys in started.items():
        if call_id in returned:
            continue
        costs.unconfirmed_calls += 1
        if keys and all(k in needed for k in keys):
            costs.unconfirmed_usd += sum(needed[k][3] for k in keys)
        else:
            costs.unconfirmed_unpriced += 1
    return costs


def replay_run(folder: str | Path) -> RunCosts | None:
    """The cost figures of the run folder ``folder`` from its ledger log; None if it has none."""
    path = Path(folder) / LEDGER_LOG
    if not path.is_file():
        return None
    return replay(_read_log(path))


def read_run_ledger(folder: str | Path) -> dict[str, Any] | None:
    """What readers (leaderboard, report) show: the log replayed, else ``ledger.json`` as written."""
    costs = replay_run(folder)
    if costs is not None:
        return costs.to_json()
    path = Path(folder) / "ledger.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None


def _read_log(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete line; a line that does not parse (a torn tail, the kill landed mid-write) is skipped.

    Read-only on purpose: a reader must never repair (truncate) a log another process may be writing.
    """
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
