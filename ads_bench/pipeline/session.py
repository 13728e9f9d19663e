"""Bookkeeping every command does around its work: ledgers per session and in total."""

from __future__ import annotations

import time

from ads_bench.models.ledger import Ledger
from ads_bench.store.run_folder import RunFolder


def close_session(folder: RunFolder, ledger: Ledger, started: float, command: str) -> Ledger:
    """Append this session's spend to ``sessions.jsonl`` and fold it into ``ledger.json``.

    ``ledger.json`` is what the run cost over all its sessions (a resumed run adds only what it
    computed); the last line of ``sessions.jsonl`` shows what the latest invocation spent.
    """
    total = Ledger.from_json(folder.read_json("ledger.json") or {})
    total.merge(ledger)
    folder.write_json("ledger.json", total.to_json())
    folder.log("sessions").append(
        {"command": command, "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
         "seconds": round(time.time() - started, 2), "ledger": ledger.to_json()}
    )
    return total
