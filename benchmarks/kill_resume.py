"""Kill ``ads-bench run`` and ``ads-bench evaluate`` at random points, resume them, and audit the bill.

Every model role points at the deterministic OpenAI-compatible test server (``tests/openai_server.py``,
started here as a process, with a reply delay so kills land while requests are in flight). For each
command: one uninterrupted run into its own folder (the reference), the same run again with a warm
cache (its "run costs" must not move), then N kill points: the command is started with an empty
response cache, SIGKILLed once the server has received a random number of its requests, and rerun
to completion (same folder, same cache). Each point prints:

- identical: answers, reference answers, judgments, acquisitions and metrics.json (less its cost
  block) equal the reference's;
- received: chat requests the server received over both invocations; recorded: the calls (and
  retries) the run's ledger.jsonl recorded; lost = received - recorded, the requests whose reply no
  session recorded (sent just before the kill); in-flight: received - completed at the server the
  moment after the kill; unconfirmed: calls the log shows started and never returned (lost must not
  exceed it: nothing the server saw vanishes silently);
- confirmed $ (what the sessions recorded paying), unconfirmed $ (estimated), the run's cost figure
  against the reference's, the leaderboard's cost columns against the reference's, and duplicate
  billed calls (a request computed and billed twice).

    python benchmarks/kill_resume.py                       # 20 points per command, 4 at a time
    python benchmarks/kill_resume.py --points 3 --seed 1 --json summary.json
    python benchmarks/kill_resume.py --strategy rule-qa --commands run   # kills inside acquisition too

With ``rag`` the acquisition (retrieval) is local and over before the first server request, so
kills land in answering and judging; ``rule-qa`` sends the expert's calls to the server, so kills
also land mid-acquisition and the resumed run pays those fees again (counted once in the run cost).
Exit status 0 when every point meets the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ads_bench.models.ledger_replay import replay_run  # noqa: E402
from ads_bench.reporting.entries import _ledger_figures  # noqa: E402
from ads_bench.reporting.run_data import RunData  # noqa: E402

LOGS = ("acquisitions", "answers", "reference_answers", "judgments")
VOLATILE = {"seconds"}  # wall-clock fields: never equal across runs


class Server:
    """tests/openai_server.py as a process of its own."""

    def __init__(self, delay: float):
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "openai_server.py"), "--port", "0", "--delay", str(delay)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,  # quiet about clients it saw die
        )
        first = self.process.stdout.readline().split()
        if first[:1] != ["PORT"]:
            raise RuntimeError(f"the test server did not start: {first}")
        self.url = f"http://127.0.0.1:{first[1]}"

    def spec(self, **options: Any) -> str:
        return f"{self.url}/v1::fake?" + "&".join(f"{k}={v}" for k, v in options.items())

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class Command:
    name: str
    args: list[str]  # after the global options, before --out

    def argv(self, cache: Path, out: Path) -> list[str]:
        return [sys.executable, "-m", "ads_bench.cli", "--cache-dir", str(cache), *self.args, "--out", str(out)]


def commands(server: Server, limit: int, strategy: str = "rag") -> list[Command]:
    spec = server.spec(price_in=1, price_out=2)
    policy = server.spec(price_in=1, price_out=2, context_window=4096)
    return [
        Command("run", ["run", "--strategy", strategy, "--suite", "inhouse", "--limit", str(limit),
                        "--policy", policy, "--expert", spec, "--judge", spec]),
        Command("evaluate", ["evaluate", "--suite", "alpacaeval", "--limit", str(4 * limit),
                             "--model", spec, "--judge", spec]),
    ]


def fresh_cache(path: Path, indexes: Path | None) -> Path:
    """An empty response cache; the retrieval indexes (not responses) copied in to save minutes."""
    path.mkdir(parents=True)
    if indexes is not None and indexes.is_dir():
        shutil.copytree(indexes, path / "indexes")
    return path


def execute(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def strip(value: Any) -> Any:
    """``value`` less wall-clock fields, with the server's address (each job has its own) blanked."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"http://127\.0\.0\.1:\d+", "http://SERVER", value)
    return value


def results(folder: Path) -> dict[str, Any]:
    """What must not depend on kills: every record by id, and metrics.json less its cost block."""
    out: dict[str, Any] = {}
    for name in LOGS:
        path = folder / f"{name}.jsonl"
        if path.is_file():
            records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            out[name] = {r["id"]: strip(r) for r in records}
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.pop("cost", None)
    out["metrics"] = strip(metrics)
    return out


def leaderboard_costs(folder: Path) -> dict[str, Any]:
    """The leaderboard's cost columns for this folder (cost_usd, tokens, model_calls)."""
    return _ledger_figures(RunData.load(folder))


def audit(folder: Path) -> dict[str, Any]:
    costs = replay_run(folder)
    assert costs is not None, f"{folder} has no ledger.jsonl"
    block = costs.cost_block()
    return {"recorded": block["spent_calls"] + costs.spent.total().retries, "confirmed_usd": block["spent_usd"],
            "unconfirmed": block["unconfirmed_calls"], "unconfirmed_usd": block["unconfirmed_usd"],
            "run_usd": block["run_usd"], "duplicates": block["duplicate_calls"],
            "sessions": len(costs.sessions), "leaderboard": leaderboard_costs(folder)}


def reference(command: Command, server: Server, work: Path, env: dict[str, str], indexes: Path | None) -> dict:
    cache = fresh_cache(work / f"{command.name}-ref-cache", indexes)
    before = server.stats()["received"]
    execute(command.argv(cache, work / f"{command.name}-ref"), env)
    received = server.stats()["received"] - before
    execute(command.argv(cache, work / f"{command.name}-ref-warm"), env)  # the same run on a warm cache
    return {"received": received, **audit(work / f"{command.name}-ref"),
            "warm_run_usd": audit(work / f"{command.name}-ref-warm")["run_usd"],
            "results": results(work / f"{command.name}-ref")}


def kill_point(command: Command, server: Server, work: Path, env: dict[str, str], indexes: Path | None,
               index: int, kill_after: int, ref: dict[str, Any], delay: float) -> dict[str, Any]:
    folder = work / f"{command.name}-{index:02d}"
    cache = fresh_cache(work / f"{command.name}-{index:02d}-cache", indexes)
    start = server.stats()
    base = start["received"]
    process = subprocess.Popen(command.argv(cache, folder), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, start_new_session=True)
    killed_at = None
    while process.poll() is None:
        stats = server.stats()
        if stats["received"] - base >= kill_after:
            os.killpg(process.pid, signal.SIGKILL)
            after = server.stats()
            # relative to this point's start: a reply the server could not deliver to a killed
            # client never counts as completed, so the server's own totals drift apart
            completed = after["completed"] - start["completed"]
            killed_at = {"received": after["received"] - base, "in_flight": after["received"] - base - completed}
            break
        time.sleep(0.01)  # 100 polls a second: fine-grained enough, light on the server
    process.wait()
    time.sleep(delay + 0.3)  # let the server finish what it was answering before the resume starts
    execute(command.argv(cache, folder), env)
    figures = audit(folder)
    received = server.stats()["received"] - base
    return {
        "point": index, "kill_after": kill_after, "killed": killed_at is not None,
        "killed_at": (killed_at or {}).get("received"), "in_flight": (killed_at or {}).get("in_flight", 0),
        "identical": results(folder) == ref["results"], "received": received,
        "lost": received - figures["recorded"], **figures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20, help="kill points per command")
    parser.add_argument("--limit", type=int, default=2, help="tasks per run (evaluate answers 4x as many prompts)")
    parser.add_argument("--strategy", default="rag", help="the run's strategy (rule-qa: kills land in "
                        "acquisition too, whose expert calls go to the server and whose fees are paid again on resume)")
    parser.add_argument("--commands", default="run,evaluate", help="which commands to kill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.05, help="the server's delay before each reply (s)")
    parser.add_argument("--jobs", type=int, default=4, help="kill points at once, each with its own server")
    parser.add_argument("--work", type=Path, default=None, help="folder for the runs (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="kill-resume-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(args.seed)
    servers = [Server(args.delay) for _ in range(max(1, args.jobs))]
    summary: dict[str, Any] = {}
    ok = True
    try:
        for position, template in enumerate(commands(servers[0], args.limit, args.strategy)):
            if template.name not in args.commands.split(","):
                continue
            ref = reference(template, servers[0], work, env, None)
            indexes = work / f"{template.name}-ref-cache" / "indexes"  # built once by the reference run
            points = [(i, rng.randint(1, max(1, ref["received"] - 1))) for i in range(args.points)]

            def one(item: tuple[int, int], position=position, ref=ref, indexes=indexes) -> dict[str, Any]:
                index, kill_after = item
                server = servers[index % len(servers)]
                command = commands(server, args.limit, args.strategy)[position]
                return kill_point(command, server, work, env, indexes, index, kill_after, ref, args.delay)

            # one point per server at a time: a server's request count must be one run's alone
            with ThreadPoolExecutor(len(servers)) as pool:
                batches = [points[s: s + len(servers)] for s in range(0, len(points), len(servers))]
                rows = [row for batch in batches for row in pool.map(one, batch)]
            ok &= report(template.name, ref, rows)
            summary[template.name] = {"reference": {k: v for k, v in ref.items() if k != "results"}, "points": rows}
    finally:
        for server in servers:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    print(f"\nrun folders: {work}")
    return 0 if ok else 1


def report(name: str, ref: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    print(f"\n== ads-bench {name}: uninterrupted run received {ref['received']} requests, recorded "
          f"{ref['recorded']}; the run costs ${ref['run_usd']:.6f} (warm cache: ${ref['warm_run_usd']:.6f}); "
          f"leaderboard {ref['leaderboard']}")
    header = ("point", "kill@", "identical", "received", "recorded", "lost", "in-flight", "unconfirmed",
              "confirmed $", "unconfirmed $", "run $ = ref", "leaderboard = ref", "duplicates")
    print("  ".join(f"{h:>11}" for h in header))
    for r in rows:
        cells = (r["point"], r["killed_at"] if r["killed"] else "no kill", "yes" if r["identical"] else "NO",
                 r["received"], r["recorded"], r["lost"], r["in_flight"], r["unconfirmed"],
                 f"{r['confirmed_usd']:.6f}", f"{r['unconfirmed_usd']:.6f}",
                 "yes" if r["run_usd"] == ref["run_usd"] else f"NO {r['run_usd']:.6f}",
                 "yes" if r["leaderboard"] == ref["leaderboard"] else "NO", r["duplicates"])
        print("  ".join(f"{c!s:>11}" for c in cells))
    n = len(rows)
    identical = sum(r["identical"] for r in rows)
    accounted = sum(r["lost"] <= r["unconfirmed"] for r in rows)
    same_cost = sum(r["run_usd"] == ref["run_usd"] and r["leaderboard"] == ref["leaderboard"] for r in rows)
    duplicates = sum(r["duplicates"] for r in rows)
    print(f"results identical {identical}/{n} · recorded = received - lost with lost <= unconfirmed "
          f"{accounted}/{n} (lost {sum(r['lost'] for r in rows)}, unconfirmed {sum(r['unconfirmed'] for r in rows)}, "
          f"in flight at the kill {sum(r['in_flight'] for r in rows)}) · run cost and leaderboard = uninterrupted "
          f"{same_cost}/{n} · warm cache = cold {ref['warm_run_usd'] == ref['run_usd']} · duplicate billed calls "
          f"{duplicates}")
    return identical == n and accounted == n and same_cost == n and duplicates == 0 and ref["warm_run_usd"] == ref["run_usd"]


if __name__ == "__main__":
    sys.exit(main())
