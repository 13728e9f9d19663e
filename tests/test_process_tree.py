"""Children die with their parent: a command ended by SIGTERM or SIGKILL leaves no process behind.

``ads-bench train`` runs each training stage in a spawned worker process. The test starts a real
``train`` whose sampling is already on disk (a run folder holding iteration 0's samples, as a
killed run leaves it), so the command goes straight to training; once the training worker exists
it signals the command and expects the whole process tree gone within seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ads_bench.acquisition.trajectory import Trajectory
from ads_bench.acquisition.trajectory.records import ApiCall
from ads_bench.suites import load_suite

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc"),
]

GONE_WITHIN_S = 10


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):  # each thread lists the children it started
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found.update(int(child) for child in (task / "children").read_text().split())
    return found


def tree(pid: int) -> set[int]:
    """pid and every process below it."""
    found = {pid}
    for child in children(pid):
        found |= tree(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def start_train_at_the_training_stage(out: Path) -> subprocess.Popen:
    """``ads-bench train`` on a run folder whose iteration 0 was sampled and rewarded already."""
    task = next(t for t in load_suite("inhouse-train", limit=1).tasks if len(t.instructions) >= 2)
    trajectory = Trajectory(
        analysis="The task needs book reviews.", self_reflection="The assistant may miss the domain.",
        calls=[ApiCall("information_retrieval", {"query": "book review genres", "k": 1}, 0)],
    )
    sample = {"k": 0, "text": trajectory.render(), "trajectory": trajectory.to_dict(), "parse_error": None,
              "n_calls": 1, "api_counts": {"information_retrieval": 1}, "n_items": 1, "cost_usd": 0.005,
              "reward": 0.75, "held_out_rewards": [0.75], "evaluations": 1}
    record = {"id": f"0/{task.id}", "iteration": 0, "task_id": task.id, "observed": [], "held_out": [],
              "prompt": [{"role": "user", "content": f"Plan the data to collect for: {task.instructions[0]}"}],
              "samples": [sample], "optimizer_error": None, "chosen": 0, "rejected": None,
              "selection_note": "", "evaluations": 1, "evaluations_exhaustive": 1}
    out.mkdir(parents=True)
    (out / "samples.jsonl").write_text(json.dumps(record) + "\n")
    args = ["train", "--limit", "1", "--iterations", "1", "--samples", "1", "--epochs", "1", "--max-steps", "1",
            "--out", str(out)]
    # output goes to a file: a full pipe nobody reads would block the command
    with (out.parent / "train.log").open("w") as log:
        return subprocess.Popen([sys.executable, "-m", "ads_bench.cli", *args], stdout=log, stderr=subprocess.STDOUT)


def output(command: subprocess.Popen) -> str:
    return Path(command.args[-1]).parent.joinpath("train.log").read_text()


def training_worker(command: subprocess.Popen) -> int | None:
    """The spawned worker of ``in_fresh_process`` once it exists."""
    if command.poll() is not None:
        pytest.fail(f"train ended before training (exit {command.returncode}): {output(command)[-2000:]}")
    return next((pid for pid in children(command.pid) if "spawn_main" in cmdline(pid)), None)


@pytest.mark.slow
def test_sigterm_mid_training_ends_the_command_and_its_training_worker(tmp_path):
    command = start_train_at_the_training_stage(tmp_path / "train")
    try:
        worker = wait_for(lambda: training_worker(command), 300, "the training worker")
        processes = tree(command.pid)
        assert worker in processes
        command.send_signal(signal.SIGTERM)
        status = command.wait(timeout=GONE_WITHIN_S)
        assert status == 143, output(command)
        assert "interrupted: everything finished so far is saved; rerun to resume" in output(command)
        wait_for(lambda: not any(alive(pid) for pid in processes), GONE_WITHIN_S, f"{processes} to end")
    finally:
        command.kill()
        command.wait()


@pytest.mark.slow
def test_sigkill_of_the_command_still_ends_its_training_worker(tmp_path):
    command = start_train_at_the_training_stage(tmp_path / "train")
    try:
        wait_for(lambda: training_worker(command), 300, "the training worker")
        processes = tree(command.pid)
        command.kill()  # no handler runs: the kernel must end the worker (PR_SET_PDEATHSIG)
        command.wait(timeout=GONE_WITHIN_S)
        wait_for(lambda: not any(alive(pid) for pid in processes), GONE_WITHIN_S, f"{processes} to end")
    finally:
        command.kill()
        command.wait()


def listening(pid: int) -> bool:
    """Whether the process holds a listening TCP socket (the engine's server is up)."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                sockets.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in sockets:  # 0A: LISTEN
                    return True
    return False


def test_sigterm_does_not_wait_for_a_generation_in_flight(tmp_path):
    """An in-process llama.cpp generation cannot be cancelled: the command must not wait for it."""
    log = tmp_path / "check.log"
    with log.open("w") as handle:
        # SmolLM2 repeats digits until the token cap here: minutes of generation
        command = subprocess.Popen([sys.executable, "-m", "ads_bench.cli", "models", "check", "embedded",
                                    "--prompt", "Write the numbers from 1 to 3000 separated by spaces.",
                                    "--max-tokens", "4000"], stdout=handle, stderr=subprocess.STDOUT)
    try:
        # the embedded engine serves on 127.0.0.1 in-process; once it listens, the backend starts
        # (it fingerprints the weights) and then asks for the completion
        wait_for(lambda: listening(command.pid) or command.poll() is not None, 180, "the engine")
        time.sleep(5.0)
        assert command.poll() is None, log.read_text()
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=GONE_WITHIN_S) == 143, log.read_text()
        assert "interrupted" in log.read_text()
    finally:
        command.kill()
        command.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_models_serve_stops_on_sigterm(tmp_path):
    log = tmp_path / "serve.log"
    with log.open("w") as handle:
        server = subprocess.Popen([sys.executable, "-m", "ads_bench.cli", "models", "serve", "embedded",
                                   "--port", str(free_port())], stdout=handle, stderr=subprocess.STDOUT,
                                  env={**os.environ, "COLUMNS": "200"})
    try:
        wait_for(lambda: "serving" in log.read_text() or server.poll() is not None, 120, "the server")
        assert server.poll() is None, log.read_text()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=GONE_WITHIN_S) == 0, log.read_text()
    finally:
        server.kill()
        server.wait()
