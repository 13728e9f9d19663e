"""Spend survives a kill: every billed call is in the run folder's ledger.jsonl as it happens.

A run's cost is the replay of that log over all its sessions. Two figures come out of it: what the
run costs (each request once by its cache key, cached or not, each acquisition fee once) and what
its executions spent. A call that started and never returned is counted as unconfirmed, never
dropped. The end-to-end tests kill real ``ads-bench`` processes talking to a real local server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.executor import execute_calls
from ads_bench.acquisition.items import CallOutcome
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.errors import UserError
from ads_bench.models.ledger import Ledger, LedgerSink, fee_key, fee_scope
from ads_bench.models.ledger_replay import replay, replay_run
from ads_bench.models.types import CallRecord
from ads_bench.store.run_folder import RunFolder
from ads_bench.store.session import close_session, open_session
from ads_bench.utils.jsonl import JsonlLog

ROOT = Path(__file__).resolve().parents[1]


def session_ledger(path: Path, session: str) -> Ledger:
    ledger = Ledger()
    ledger.attach(LedgerSink(JsonlLog(path), session))
    return ledger


def call(ledger: Ledger, key: str, *, prompt: int = 10, completion: int = 5, usd: float = 0.01,
         cached: bool = False, role: str = "policy") -> None:
    """One model call answering ``key``, logged as the client logs it: started, then returned."""
    call_id = None if cached else ledger.record_started(role=role, model="m", keys=[key])
    ledger.record(role=role, model="m", call=CallRecord(prompt, completion, 0.1, cached=cached), cost_usd=usd,
                  samples={key: (prompt, completion, usd)}, call_id=call_id)


# -- the log and its replay ------------------------------------------------------------------------

def test_every_record_is_on_disk_the_moment_it_is_made(tmp_path):
    log = tmp_path / "ledger.jsonl"
    ledger = session_ledger(log, "s1")
    call(ledger, "k1")
    ledger.record_fee(api="information_retrieval", cost_usd=0.005, key="t1#0:information_retrieval:x")
    ledger.record_retry(role="judge", model="m", cause="429")
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert kinds == ["start", "call", "fee", "retry"]  # no close needed: a kill loses nothing recorded


def test_the_run_costs_count_each_request_once_whether_computed_or_found_in_the_cache(tmp_path):
    log = tmp_path / "ledger.jsonl"
    first = session_ledger(log, "killed")
    call(first, "k1")
    call(first, "k2")
    resumed = session_ledger(log, "resumed")  # a fresh process: k1, k2 are in the cache now
    call(resumed, "k1", cached=True)
    call(resumed, "k2", cached=True)
    call(resumed, "k3")
    costs = replay(JsonlLog(log))

    straight = tmp_path / "straight.jsonl"
    once = session_ledger(straight, "one")
    for key in ("k1", "k2", "k3"):
        call(once, key)
    uninterrupted = replay(JsonlLog(straight))

    assert costs.run.total().calls == uninterrupted.run.total().calls == 3
    assert costs.run.total().cost_usd == uninterrupted.run.total().cost_usd == pytest.approx(0.03)
    assert costs.run.total().tokens == uninterrupted.run.total().tokens == 45
    assert costs.cost_block()["run_usd"] == uninterrupted.cost_block()["run_usd"]  # bit for bit
    assert costs.spent.total().calls == 3 and costs.spent.total().cache_hits == 2
    assert costs.duplicate_calls == 0


def test_a_request_computed_twice_is_a_duplicate_billed_call(tmp_path):
    log = tmp_path / "ledger.jsonl"
    first, second = session_ledger(log, "a"), session_ledger(log, "b")
    call(first, "k1")
    call(second, "k1")  # e.g. the cache was lost between sessions: billed again
    costs = replay(JsonlLog(log))
    assert costs.duplicate_calls == 1
    assert costs.run.total().calls == 1 and costs.spent.total().calls == 2
    assert costs.spent.total().cost_usd == pytest.approx(2 * costs.run.total().cost_usd)


def test_a_call_started_and_never_returned_is_unconfirmed_and_priced_where_it_completed_later(tmp_path):
    log = tmp_path / "ledger.jsonl"
    killed = session_ledger(log, "killed")
    killed.record_started(role="judge", model="m", keys=["k-lost"])  # in flight at the kill
    killed.record_started(role="judge", model="m", keys=["k-never"])  # and never asked again
    resumed = session_ledger(log, "resumed")
    call(resumed, "k-lost", usd=0.02, role="judge")
    costs = replay(JsonlLog(log))
    assert costs.unconfirmed_calls == 2
    assert costs.unconfirmed_usd == pytest.approx(0.02)  # the price of the same request, stated as an estimate
    assert costs.unconfirmed_unpriced == 1
    block = costs.cost_block()
    assert block["unconfirmed_calls"] == 2 and "estimate" in block["labels"]["unconfirmed"]
    assert costs.run.total().calls == 1  # confirmed figures never include a guess


def test_each_acquisition_fee_counts_once_in_the_run_costs_and_each_time_in_what_was_spent(tmp_path):
    log = tmp_path / "ledger.jsonl"
    for session in ("killed", "resumed"):  # the killed task's calls run again on resume
        ledger = session_ledger(log, session)
        ledger.record_fee(api="question_answering", cost_usd=0.05, key="task-1#0:question_answering:abc")
        ledger.record_fee(api="information_retrieval", cost_usd=0.005)  # no key: paid and counted each time
    costs = replay(JsonlLog(log))
    run, spent = costs.run.grouped("api"), costs.spent.grouped("api")
    assert (run["question_answering"].calls, run["question_answering"].cost_usd) == (1, pytest.approx(0.05))
    assert (spent["question_answering"].calls, spent["question_answering"].cost_usd) == (2, pytest.approx(0.10))
    assert run["information_retrieval"].calls == spent["information_retrieval"].calls == 2


def test_retries_are_counted_per_role_and_cause_in_memory_in_the_log_and_in_the_cost_block(tmp_path):
    log = tmp_path / "ledger.jsonl"
    ledger = session_ledger(log, "s")
    for cause in ("429", "429", "malformed"):
        ledger.record_retry(role="judge", model="m", cause=cause)
    ledger.record_retry(role="policy", model="m", cause="timeout", api="question_answering")
    assert ledger.retries_by("role") == {"judge": {"429": 2, "malformed": 1}, "policy": {"timeout": 1}}
    assert ledger.total().retries == 4
    assert Ledger.from_json(ledger.to_json()).retries_by() == {"429": 2, "malformed": 1, "timeout": 1}
    block = replay(JsonlLog(log)).cost_block()
    assert block["retries"] == {"429": 2, "malformed": 1, "timeout": 1}
    assert block["by_role"]["judge"]["retries"] == {"429": 2, "malformed": 1}


def test_a_torn_last_line_is_skipped_by_the_replay_without_touching_the_file(tmp_path):
    log = tmp_path / "ledger.jsonl"
    call(session_ledger(log, "s"), "k1")
    torn = log.read_bytes() + b'{"v": 1, "session": "s", "kind": "ca'
    log.write_bytes(torn)
    costs = replay_run(tmp_path)
    assert costs is not None and costs.run.total().calls == 1
    assert log.read_bytes() == torn  # a reader never writes


# -- fees are recorded as each acquisition call returns ---------------------------------------------

class _Api:
    name = "question_answering"

    def __init__(self, fail_at: int | None = None):
        self.fail_at = fail_at

    async def run(self, call: ApiCall) -> CallOutcome:
        if call.position == self.fail_at:
            await asyncio.sleep(3600)  # never returns: the process is killed here
        return CallOutcome(call, [], cost_usd=0.05)


async def test_a_fee_is_recorded_when_its_call_returns_not_when_the_whole_task_has(tmp_path):
    ledger = session_ledger(tmp_path / "ledger.jsonl", "s")
    calls = [ApiCall("question_answering", {"question": f"q{i}"}, i) for i in range(3)]
    with fee_scope("task-1"):
        work = asyncio.ensure_future(execute_calls(calls, {"question_answering": _Api(fail_at=2)},
                                                   CostModel({"question_answering": 0.05}), ledger=ledger))
        await asyncio.sleep(0.05)
    work.cancel()  # the kill: call 2 never returned
    costs = replay(JsonlLog(tmp_path / "ledger.jsonl"))
    assert costs.spent.grouped("api")["question_answering"].calls == 2
    with fee_scope("task-1"):
        assert fee_key(0, "question_answering", {"question": "q0"}) == fee_key(0, "question_answering", {"question": "q0"})
        assert fee_key(0, "question_answering", {"question": "q0"}) != fee_key(1, "question_answering", {"question": "q0"})
    assert fee_key(0, "question_answering", {"question": "q0"}) is None  # outside a scope: no identity


def test_a_session_logs_to_its_run_folder_and_writes_ledger_json_from_the_log(tmp_path):
    folder = RunFolder.open(tmp_path / "run", {"x": 1}, kind="run")
    ledger = Ledger()
    session = open_session(folder, ledger, "run")
    call(ledger, "k1")
    assert (folder.path / "ledger.jsonl").is_file() and not (folder.path / "ledger.json").exists()
    costs = close_session(session)
    call(ledger, "k2")  # after the close: not this run's
    written = json.loads((folder.path / "ledger.json").read_text())
    assert written["total"]["calls"] == costs.run.total().calls == 1
    assert written["sessions"][0]["closed"] is True and "run costs" in written["label"]
    last = json.loads((folder.path / "sessions.jsonl").read_text().splitlines()[-1])
    assert last["label"] == "this execution spent" and last["ledger"]["total"]["calls"] == 1


# -- real processes, a real server -------------------------------------------------------------------

@pytest.fixture
def fake_server():
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from openai_server import FaultPlan, serve
    finally:
        sys.path.pop(0)
    with serve(FaultPlan()) as server:
        yield server


async def test_a_run_stopped_by_a_user_error_after_acquisition_keeps_its_fees(tmp_path, fake_server):
    from ads_bench.models import Runtime
    from ads_bench.pipeline.run import RunConfig, run_strategy

    spec = fake_server.spec(price_in=1, price_out=2, context_window=4096)
    gone = "http://127.0.0.1:9/v1::fake?max_retries=0"  # nothing listens there: judging stops the run
    runtime = Runtime.create(cache_path=tmp_path / "cache" / "responses.sqlite3")
    config = RunConfig(strategy="rag", policy=spec, expert=spec, judge=gone, limit=2, max_held_out=1)
    with pytest.raises(UserError, match="reach"):
        await run_strategy(config, runtime, out=tmp_path / "run")
    await runtime.aclose()
    ledger = json.loads((tmp_path / "run" / "ledger.json").read_text())
    fees = {e["api"]: e for e in ledger["entries"] if e["role"] == "acquisition"}
    assert fees["information_retrieval"]["calls"] > 0 and fees["information_retrieval"]["cost_usd"] > 0


def _ads_bench(*args: str) -> list[str]:
    return [sys.executable, "-m", "ads_bench.cli", *args]


@pytest.mark.slow
def test_fees_paid_again_by_a_resumed_acquisition_count_once_in_the_run_cost(tmp_path):
    """One expert call hangs; the run is killed while its task's other calls have returned and
    been paid; the resume acquires that task again, paying those fees a second time. The run cost
    equals an uninterrupted run's; what was spent shows the second payment."""
    import os
    import signal
    import time

    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from openai_server import FaultPlan, serve
    finally:
        sys.path.pop(0)

    def command(server, name: str) -> list[str]:
        spec = server.spec(price_in=1, price_out=2)
        return _ads_bench("--cache-dir", str(tmp_path / f"{name}-cache"), "run", "--strategy", "rule-qa",
                          "--limit", "1", "--max-held-out", "1", "--policy", spec + "&context_window=4096",
                          "--expert", spec, "--judge", spec, "--out", str(tmp_path / name))

    with serve(FaultPlan()) as server:
        subprocess.run(command(server, "straight"), check=True, capture_output=True, timeout=600)
    with serve(FaultPlan(at={2: "hang"}, hang_seconds=60)) as server:
        process = subprocess.Popen(command(server, "killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        deadline = time.time() + 300
        while server.stats()["completed"] < 2 and time.time() < deadline:  # the calls that do not hang
            time.sleep(0.01)
        time.sleep(0.3)  # their replies recorded, the hung one still in flight
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        subprocess.run(command(server, "killed"), check=True, capture_output=True, timeout=600)

    straight, resumed = replay_run(tmp_path / "straight"), replay_run(tmp_path / "killed")
    assert resumed.fees(resumed.spent) > resumed.fees(resumed.run) == straight.fees(straight.run)
    assert resumed.cost_block()["run_usd"] == straight.cost_block()["run_usd"]
    assert resumed.cost_block()["spent_usd"] > resumed.cost_block()["run_usd"]
    assert resumed.unconfirmed_calls >= 1  # the hung call, sent and never answered


@pytest.mark.slow
def test_a_run_killed_at_random_points_costs_what_an_uninterrupted_run_costs(tmp_path):
    """benchmarks/kill_resume.py at 2 kill points per command: identical results, every request
    the server received either recorded or shown as unconfirmed, no duplicate billed call, and
    the leaderboard's cost columns equal to the uninterrupted run's."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "kill_resume.py"), "--points", "2", "--seed", "1",
         "--work", str(tmp_path), "--json", str(tmp_path / "summary.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    for command in ("run", "evaluate"):
        points = summary[command]["points"]
        assert len(points) == 2
        for point in points:
            assert point["identical"], point
            assert point["duplicates"] == 0, point
            assert point["lost"] <= point["unconfirmed"], point  # nothing the server saw vanished
            assert point["run_usd"] == summary[command]["reference"]["run_usd"], point
            assert point["leaderboard"] == summary[command]["reference"]["leaderboard"], point
