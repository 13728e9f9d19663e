"""Bookkeeping every command does around its work: a ledger log per run folder, totals per session.

``open_session`` attaches the run folder's ``ledger.jsonl`` to the runtime's ledger, so every
model call, cache hit, acquisition fee and retry is on disk the moment it happens, whatever ends
the process. ``close_session`` (call it in a ``finally``) marks the session closed, replays the
log into ``ledger.json`` (a derived view: the run costs over all sessions, killed ones included)
and appends what this invocation spent to ``sessions.jsonl``.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field

from ads_bench.models.ledger import Ledger, LedgerSink
from ads_bench.models.ledger_replay import LEDGER_LOG, RunCosts, replay_run
from ads_bench.store.run_folder import RunFolder


@dataclass
class Session:
    folder: RunFolder
    ledger: Ledger
    command: str
    sink: LedgerSink
    started: float = field(default_factory=time.time)
    before: Ledger = field(default_factory=Ledger)  # the ledger when the session opened
    replaced: LedgerSink | None = None  # an outer session's sink (a run that trains first)

    def spent(self) -> Ledger:
        """What this execution spent so far."""
        return self.ledger.since(self.before)


def open_session(folder: RunFolder, ledger: Ledger, command: str, started: float | None = None) -> Session:
    """Start logging ``ledger``'s records into ``folder``; ``started``: when the command began."""
    session_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    sink = LedgerSink(folder.log(LEDGER_LOG.removesuffix(".jsonl")), session_id)
    sink.write({"kind": "open", "command": command, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    session = Session(folder, ledger, command, sink, started or time.time(), before=ledger.snapshot())
    session.replaced = ledger.attach(sink)
    return session


def close_session(session: Session) -> RunCosts:
    """Close the log, write ``ledger.json`` from it and this session's line in ``sessions.jsonl``."""
    spent = session.spent()
    session.sink.write({"kind": "close"})
    session.ledger.attach(session.replaced)
    costs = replay_run(session.folder.path) or RunCosts(Ledger(), Ledger())
    session.folder.write_json("ledger.json", costs.to_json())
    session.folder.log("sessions").append(
        {"command": session.command, "session": session.sink.session,
         "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(session.started)),
         "seconds": round(time.time() - session.started, 2), "label": "this execution spent",
         "ledger": spent.to_json()}
    )
    return costs
