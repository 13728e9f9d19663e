"""``--executor ray`` (issue 15, item 1): each task's acquire -> learn -> answer chain runs as a Ray
task on a two-node cluster started on this machine, with the embedded model; the driver alone
writes the run folder. The results are those of ``--executor local``, calls made on the cluster
are in the driver's cache (and the reverse), and losing a worker node mid-run changes no result
and bills no call twice.

The pure pieces (resources, resuming a task's state, absorbing a worker's ledger records) are
tested first, without Ray.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ads_bench.models.ledger import Ledger, LedgerSink
from ads_bench.models.ledger_replay import replay
from ads_bench.models.types import CallRecord
from ads_bench.pipeline.prompts import Prompt
from ads_bench.pipeline.ray_executor import chain_resources, merge_progress
from ads_bench.pipeline.task_chain import task_states
from ads_bench.utils.jsonl import JsonlLog

# -- without Ray --------------------------------------------------------------------------------


def test_a_lora_learner_asks_for_a_gpu_only_where_the_cluster_has_one():
    assert chain_resources("finetune", {"CPU": 4.0, "GPU": 2.0}) == {"num_cpus": 1, "num_gpus": 1}
    assert chain_resources("source-finetune", {"CPU": 4.0, "GPU": 1.0}) == {"num_cpus": 1, "num_gpus": 1}
    assert chain_resources("finetune", {"CPU": 4.0}) == {"num_cpus": 1, "num_gpus": 0}  # else it would wait forever
    assert chain_resources("icl", {"CPU": 4.0, "GPU": 2.0}) == {"num_cpus": 1, "num_gpus": 0}  # ICL trains nothing


def _prompt(pid: str, task: str) -> Prompt:
    return Prompt(id=pid, task_id=task, category="c", turns=("q",), reference=None, cluster=task,
                  judge_mode="pairwise", reference_guided=False, judge="alpaca_eval")


def test_a_task_resumes_from_the_logs_and_from_what_a_lost_attempt_emitted():
    prompts = [_prompt("t1-0", "t1"), _prompt("t1-1", "t1")]
    logs = {"acquisitions": {"t1": {"id": "t1", "items": []}},
            "answers": {"t1-0": {"id": "t1-0", "answers": ["a"]}, "t1-1": {"id": "t1-1", "failed": True}}}
    [state] = task_states(["t1"], logs, {p.id: p.task_id for p in prompts}).values()
    assert state.acquisition == {"id": "t1", "items": []} and not state.taught
    assert set(state.answers) == {"t1-0"}  # a failed answer is asked again
    assert not state.complete(prompts, in_house=False)
    # a worker lost mid-task had already taught the policy and answered the second prompt
    merge_progress(state, [("policies", {"id": "t1"}), ("answers", {"id": "t1-1", "answers": ["b"]})])
    assert state.taught and state.complete(prompts, in_house=False)
    assert not state.complete(prompts, in_house=True)  # in-house: the reference answers too
    merge_progress(state, [("reference_answers", {"id": p.id, "answers": ["r"]}) for p in prompts])
    assert state.complete(prompts, in_house=True)


def test_a_workers_ledger_records_absorbed_by_the_driver_count_as_if_recorded_there(tmp_path):
    def bill(ledger: Ledger) -> None:
        ledger.record_fee(api="information_retrieval", cost_usd=0.005, key="t1#0:ir:abc")
        call_id = ledger.record_started(role="policy", model="embedded", keys=["k1"])
        ledger.record(role="policy", model="embedded", call=CallRecord(10, 2, 0.5), cost_usd=1e-6,
                      samples={"k1": (10, 2, 1e-6)}, call_id=call_id)
        ledger.record(role="policy", model="embedded", call=CallRecord(10, 2, 0.0, cached=True), cost_usd=1e-6,
                      samples={"k1": (10, 2, 1e-6)})
        ledger.record_retry(role="policy", model="embedded", cause="timeout")

    here = Ledger()
    here.attach(LedgerSink(JsonlLog(tmp_path / "here.jsonl"), "s"))
    bill(here)

    class Forward:  # what HubSink does, minus Ray: each record tagged with its node
        records: list[dict] = []

        def next_call_id(self) -> str:
            return "w-1/1"

        def write(self, record: dict) -> None:
            self.records.append({**record, "node": "n1"})

    worker, driver = Ledger(), Ledger()
    worker.attach(Forward())  # type: ignore[arg-type]
    bill(worker)
    driver.attach(LedgerSink(JsonlLog(tmp_path / "driver.jsonl"), "s"))
    for record in Forward.records:
        driver.absorb(record)
    assert driver.to_json() == here.to_json()  # the totals a progress bar and sessions.jsonl show
    written = JsonlLog(tmp_path / "driver.jsonl").records()
    assert {r["node"] for r in written} == {"n1"} and {r["session"] for r in written} == {"s"}
    ours, theirs = replay(JsonlLog(tmp_path / "here.jsonl")), replay(written)
    assert theirs.cost_block() == ours.cost_block()  # metrics.json's cost block


def _ads(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def _one_line(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert fragment in result.stderr, result.stderr


def test_without_ray_installed_the_executor_names_the_extra_in_one_line():
    hide_ray = ("import sys; sys.modules['ray'] = None; from ads_bench.cli import main; "
                "main(['run', '--strategy', 'none', '--executor', 'ray'])")
    _one_line(_ads(hide_ray), "pip install 'ads-bench[ray]'")


def test_an_unreachable_cluster_is_one_line():
    unreachable = ("from ads_bench.cli import main; "
                   "main(['run', '--strategy', 'none', '--executor', 'ray', '--ray-address', '127.0.0.1:9'])")
    _one_line(_ads(unreachable), "cannot reach the Ray cluster at 127.0.0.1:9")


# -- on a two-node cluster with the embedded model ---------------------------------------------
RUN = ["--suite", "inhouse", "--limit", "2", "--max-held-out", "1", "--max-tokens", "16", "--max-calls", "2",
       "--retrieval-k", "1", "--retrieval-mode", "bm25", "--judge-max-tokens", "1", "--retries", "1"]
NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20}


@pytest.fixture(scope="module")
def cluster():
    """Two Ray nodes of one CPU each on this machine, this process their driver."""
    ray = pytest.importorskip("ray", reason="the test extra installs ray: pip install 'ads-bench[test]'")
    from ray.cluster_utils import Cluster

    # Ray's own files go to a short temp folder (its socket paths must stay under 107 bytes),
    # not /tmp/ray; Cluster reads it from RAY_TMPDIR
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    previous = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp
    cluster = Cluster(initialize_head=True, head_node_args={
        **NODE, "include_dashboard": False,
        # a removed node is noticed in about 2 s, not 30 (the kill test)
        "_system_config": {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
                           "health_check_failure_threshold": 2}})
    cluster.add_node(**NODE)
    ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        if previous is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = previous
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    """One response cache for the local executor's runs, one for the Ray executor's."""
    return {"local": tmp_path_factory.mktemp("cache-local"), "ray": tmp_path_factory.mktemp("cache-ray")}


def ads(args: list[str], cache: Path) -> None:
    """``ads-bench ARGS`` in this process (the driver of the cluster), with ``cache`` as its cache dir."""
    from ads_bench.cli import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADS_BENCH_CACHE_DIR", str(cache))
        try:
            main(args)
        except SystemExit as exc:
            raise AssertionError(f"ads-bench {' '.join(args)} exited with {exc.code}") from exc


def metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def ledger_records(folder: Path) -> list[dict]:
    path = folder / "ledger.jsonl"
    return JsonlLog(path).records() if path.is_file() else []


def billed_per_key(records: list[dict]) -> Counter:
    """How often each request was computed and billed: non-cached, successful call records per key."""
    return Counter(key for r in records if r.get("kind") == "call" and not r["cached"] and not r["failed"]
                   for key in r["samples"])


@pytest.fixture(scope="module")
def local_run(caches, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("runs") / "local"
    ads(["run", "--strategy", "rag", *RUN, "--out", str(folder)], caches["local"])
    return folder


@pytest.mark.model
@pytest.mark.slow
def test_a_run_on_ray_writes_the_metrics_of_a_local_run_and_shares_its_cache(cluster, caches, local_run, tmp_path):
    import ray

    ray_folder = tmp_path / "ray"
    ads(["run", "--strategy", "rag", *RUN, "--out", str(ray_folder), "--executor", "ray",
         "--ray-address", cluster.address], caches["ray"])
    # every field, the cost block included: both runs started from an empty cache and computed
    # each request once (the embedded model is exact, so any process gives the same bytes); no
    # field holds a timing
    assert metrics(ray_folder) == metrics(local_run)
    records = ledger_records(ray_folder)
    workers = {r["node"] for r in records if r.get("kind") == "call" and "node" in r}
    assert workers and workers <= {node["NodeID"] for node in ray.nodes()}
    assert all("node" not in r for r in records if r.get("role") == "judge")  # judging stays on the driver
    assert max(billed_per_key(records).values()) == 1

    # calls made on the cluster are in the driver's cache: a local run on it computes nothing...
    ads(["run", "--strategy", "rag", *RUN, "--out", str(tmp_path / "local-on-ray-cache")], caches["ray"])
    assert metrics(tmp_path / "local-on-ray-cache")["cost"]["spent_calls"] == 0
    # ...and the reverse
    ads(["run", "--strategy", "rag", *RUN, "--out", str(tmp_path / "ray-on-local-cache"), "--executor", "ray"],
        caches["local"])
    assert metrics(tmp_path / "ray-on-local-cache")["cost"]["spent_calls"] == 0


@pytest.mark.model
@pytest.mark.slow
def test_a_sweep_on_ray_writes_the_metrics_of_a_local_sweep(cluster, caches, tmp_path):
    base = dict(zip([a.removeprefix("--").replace("-", "_") for a in RUN[::2]], RUN[1::2], strict=True))
    base = {k: (v if k in ("suite", "retrieval_mode") else int(v)) for k, v in base.items()}
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(json.dumps({"name": "tiny", "base": base, "grid": {"strategy": ["none", "rag"]},
                                 "baseline": "none"}))
    ads(["sweep", str(sweep), "--out", str(tmp_path / "local")], caches["local"])
    ads(["sweep", str(sweep), "--out", str(tmp_path / "ray"), "--executor", "ray"], caches["ray"])
    cells = sorted(p.name for p in (tmp_path / "local" / "tiny").iterdir() if p.is_dir())
    assert cells == ["strategy=none", "strategy=rag"]
    for cell in cells:
        # both caches hold the same requests (the test above ran the same rag cell on each), so
        # even what each execution spent agrees
        assert metrics(tmp_path / "ray" / "tiny" / cell) == metrics(tmp_path / "local" / "tiny" / cell), cell


@pytest.mark.model
@pytest.mark.slow
def test_an_evaluation_on_ray_writes_the_metrics_of_a_local_one(cluster, caches, tmp_path):
    args = ["evaluate", "--suite", "alpacaeval", "--limit", "2", "--max-tokens", "16", "--judge-max-tokens", "8",
            "--retries", "0"]
    ads([*args, "--out", str(tmp_path / "local")], caches["local"])
    ads([*args, "--out", str(tmp_path / "ray"), "--executor", "ray"], caches["ray"])
    assert metrics(tmp_path / "ray") == metrics(tmp_path / "local")  # both from an empty cache: every field
    answered_on = {r.get("node") for r in ledger_records(tmp_path / "ray") if r.get("role") == "policy"}
    assert None not in answered_on and answered_on  # the answers came from the cluster


@pytest.mark.model
@pytest.mark.slow
def test_a_worker_node_lost_mid_run_changes_no_result_and_bills_no_call_twice(cluster, local_run, tmp_path):
    from ads_bench.models import Runtime
    from ads_bench.pipeline.ray_executor import RayExecutor
    from ads_bench.pipeline.run import RunConfig, run_strategy

    config = RunConfig(strategy="rag", suite="inhouse", limit=2, max_held_out=1, max_tokens=16, max_calls=2,
                       retrieval_k=1, retrieval_mode="bm25", judge_max_tokens=1, retries=1)
    runtime = Runtime.create(cache_path=tmp_path / "cache" / "responses.sqlite3")  # empty: all computed
    folder = tmp_path / "killed"
    outcome: dict = {}

    def run() -> None:
        async def go():
            try:
                return await run_strategy(config, runtime, out=folder, executor=RayExecutor())
            finally:
                await runtime.aclose()
        try:
            outcome["metrics"] = asyncio.run(go())[1]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    [victim] = [node for node in cluster.list_all_nodes() if node is not cluster.head_node]
    driver = threading.Thread(target=run)
    driver.start()
    deadline = time.time() + 180
    # the moment the worker node's first record reaches the driver (its task's first fee), the
    # node goes, its task in flight; Ray runs the task again on the head node
    while not any(r.get("node") == victim.node_id for r in ledger_records(folder)):
        assert driver.is_alive() and time.time() < deadline, outcome
        time.sleep(0.05)
    cluster.remove_node(victim, allow_graceful=False)
    driver.join(timeout=300)
    cluster.add_node(**NODE)  # the cluster as the other tests found it
    assert "error" not in outcome, outcome.get("error")

    records = ledger_records(folder)
    lost = {r["task"] for r in records if r.get("node") == victim.node_id}
    redone = {r["task"] for r in records if r.get("node") not in (None, victim.node_id)}
    assert lost & redone, "the lost node's task was not run again: the kill came after it finished"
    assert max(billed_per_key(records).values()) == 1  # every request billed once, the retry's were cache hits
    assert outcome["metrics"]["cost"]["duplicate_calls"] == 0
    # the same results, and the same cost block but for one field set: a call the lost node had in
    # flight never returned, and the server may have billed it, so the ledger says so (unconfirmed)
    unconfirmed = ("unconfirmed_calls", "unconfirmed_usd", "unconfirmed_unpriced")
    expected = metrics(local_run)
    got = metrics(folder)
    assert {k: v for k, v in got["cost"].items() if k not in unconfirmed} == \
        {k: v for k, v in expected["cost"].items() if k not in unconfirmed}
    assert {**got, "cost": None} == {**expected, "cost": None}


# ads-bench train: 1 iteration (SFT) on one task, K=2 trajectories, one held-out instruction; with
# seed 2 one trajectory acquires nothing (0.5, no evaluation) and one makes a call, whose reward
# (teach, answer, judge) is evaluated on the cluster
TRAIN = ["train", "--iterations", "1", "--limit", "1", "--samples", "2", "--max-held-out", "1", "--max-calls", "1",
         "--max-tokens", "16", "--max-steps", "1", "--seed", "2"]


def samples(folder: Path) -> list[dict]:
    """What training decided: every trajectory's reward (and how it was judged), and the pair."""
    return [{"id": r["id"], "chosen": r["chosen"], "rejected": r["rejected"],
             "samples": [{k: s[k] for k in ("text", "reward", "reward_measured", "held_out_rewards", "evaluations",
                                            "cost_usd")} for s in r["samples"]]}
            for r in JsonlLog(folder / "samples.jsonl").records()]


def with_the_converted_base_model(cache: Path) -> Path:
    """An empty response cache beside the session's transformers copy of the embedded model
    (linked, not converted again: the conversion is not what these runs compare)."""
    from ads_bench.models.convert import embedded_hf_dir

    def link(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copy2(source, target)

    base = embedded_hf_dir()
    shutil.copytree(base, cache / "converted" / base.name, copy_function=link)
    return cache


@pytest.mark.model
@pytest.mark.slow
def test_training_on_ray_gives_the_rewards_and_choices_of_local_training(cluster, tmp_path):
    import ray

    config = tmp_path / "train.yaml"
    config.write_text("optimizer_max_tokens: 160\n")
    args = [*TRAIN, "--config", str(config)]
    caches = [with_the_converted_base_model(tmp_path / name) for name in ("cache-local", "cache-ray")]
    ads([*args, "--out", str(tmp_path / "local")], caches[0])
    ads([*args, "--out", str(tmp_path / "ray"), "--executor", "ray"], caches[1])  # no response in either
    assert samples(tmp_path / "ray") == samples(tmp_path / "local")
    # and the iteration's stats: the same evaluations, calls and prompt tokens, wherever they were made
    stats = [[r["stats"] for r in JsonlLog(tmp_path / run / "iterations.jsonl").records()] for run in ("local", "ray")]
    assert stats[0] == stats[1]
    records = ledger_records(tmp_path / "ray")
    # the un-updated and the taught policy answered, and the judge judged, on the cluster
    on = {role: {r.get("node") for r in records if r.get("kind") == "call" and r.get("role") == role
                 and r.get("api") in (None, "-")} for role in ("policy", "judge")}
    nodes = {node["NodeID"] for node in ray.nodes()}
    assert on["judge"] and on["judge"] <= nodes and on["policy"] and on["policy"] <= nodes, on
    assert max(billed_per_key(records).values()) == 1
