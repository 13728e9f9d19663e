"""Train the ADS optimizer at several cost-tier widths τ and print the API mix per iteration.

    python examples/tau_api_mix.py [--taus 0,0.5] [--config examples/train/tau-api-mix.yaml]
        [--work results/tau-api-mix] [--json FILE] [--reselect-only]

Runs ``ads-bench train --config CONFIG --tau T --out WORK/tau-T`` for each τ (resumable: a
rerun trains nothing new), all sharing one response cache (the user's, or ``--cache-dir``), then
reads each run's ``samples.jsonl``. Per
iteration and τ it prints the share of each API among the calls of the *sampled* trajectories
(what the optimizer of that iteration writes: iteration 0 is the untrained optimizer, the same
for every τ; later iterations are the optimizer trained at that τ) and of the *chosen* ones
(what selection at that τ teaches), each with n, the number of calls it is the share of, and the
mean cost of a sampled and of a chosen trajectory. See examples/train/tau-api-mix.yaml for what the
default tiny scale can and cannot show. ``--reselect-only`` trains nothing: it re-runs cost-tier
selection at every τ on the first τ's iteration 0 (the same samples and rewards at any τ when
every held-out instruction was judged), which shows the choice at each τ without training.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"information_retrieval": "IR", "demonstration_generation": "DG", "question_answering": "QA"}


def api_mix(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of each API among these trajectories' calls, the calls counted (n), mean $ per trajectory."""
    counts: Counter[str] = Counter()
    for sample in samples:
        counts.update(sample.get("api_counts") or {})
    n = sum(counts.values())
    return {"n_calls": n, "n_trajectories": len(samples),
            "share": {SHORT.get(api, api): counts[api] / n for api in sorted(counts)} if n else {},
            "mean_cost_usd": sum(s.get("cost_usd", 0.0) for s in samples) / len(samples) if samples else None}


def mixes(run_dir: Path) -> dict[int, dict[str, Any]]:
    """Per iteration: the sampled and the chosen trajectories' API mix."""
    by_iteration: dict[int, dict[str, list]] = {}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        record = json.loads(line)
        parsed = [s for s in record["samples"] if not s.get("parse_error")]
        slot = by_iteration.setdefault(record["iteration"], {"sampled": [], "chosen": []})
        slot["sampled"] += parsed
        if record.get("chosen") is not None:
            slot["chosen"].append(record["samples"][record["chosen"]])
    return {it: {kind: api_mix(samples) for kind, samples in slot.items()} for it, slot in sorted(by_iteration.items())}


def reselected(run_dir: Path, taus: list[float]) -> dict[float, dict[str, Any]]:
    """Iteration 0's chosen mix at each τ, by cost-tier selection on one run's recorded rewards
    and costs. Iteration 0 samples and judges the same trajectories whatever τ, so this is what a
    run at that τ chooses, provided every reward was measured on every held-out instruction
    (racing's stopping depends on τ): a record with a forecast reward is left out, and counted."""
    from ads_bench.optimizer.cost_tier_selection import Scored, select

    records = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    records = [r for r in records if r["iteration"] == 0]
    exact = [r for r in records if all(s.get("reward_exact", False) or s.get("reward") is None for s in r["samples"])]
    out = {}
    for tau in taus:
        chosen = []
        for record in exact:
            pick = select([Scored(s["k"], s["reward"], s["cost_usd"]) for s in record["samples"]], tau).chosen
            if pick is not None:
                chosen.append(record["samples"][pick])
        out[tau] = {**api_mix(chosen), "tasks": len(exact), "tasks_left_out": len(records) - len(exact)}
    return out


def describe(mix: dict[str, Any]) -> str:
    if not mix["n_calls"]:
        return f"no calls (n={mix['n_trajectories']} trajectories)"
    shares = " ".join(f"{api} {share:.0%}" for api, share in mix["share"].items())
    cost = f", ${mix['mean_cost_usd']:.4f}/trajectory" if mix["mean_cost_usd"] is not None else ""
    return f"{shares} (n={mix['n_calls']} calls in {mix['n_trajectories']} trajectories{cost})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taus", default="0,0.5")
    parser.add_argument("--config", default=str(ROOT / "examples" / "train" / "tau-api-mix.yaml"))
    parser.add_argument("--work", default="results/tau-api-mix")
    parser.add_argument("--json", default=None, help="also write the mixes here")
    parser.add_argument("--cache-dir", default=None, help="response cache (default: the user's)")
    parser.add_argument("--reselect-only", action="store_true",
                        help="train nothing: print iteration 0's chosen mix at every τ from the first τ's run")
    args = parser.parse_args()
    work = Path(args.work)
    taus = [float(t) for t in args.taus.split(",")]
    if args.reselect_only:
        first = work / f"tau-{taus[0]:g}"
        print(f"iteration 0 of {first}: the chosen trajectories' API mix at each τ, re-selected from its "
              "recorded rewards and costs")
        for tau, mix in reselected(first, taus).items():
            print(f"τ={tau:g}  chosen: {describe(mix)}; {mix['tasks']} tasks"
                  + (f" ({mix['tasks_left_out']} left out: raced rewards)" if mix["tasks_left_out"] else ""))
        return
    results = {}
    for tau in taus:
        out = work / f"tau-{tau:g}"
        cache = ["--cache-dir", args.cache_dir] if args.cache_dir else []
        command = [sys.executable, "-m", "ads_bench.cli", *cache, "train",
                   "--config", args.config, "--tau", str(tau), "--out", str(out)]
        print("$", " ".join(command[2:]), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        results[tau] = mixes(out)
    print("\nAPI mix per iteration (share of calls; n = calls counted). Sampled: what that "
          "iteration's optimizer writes; chosen: what selection at τ keeps to train on.")
    for tau, per_iteration in results.items():
        for iteration, mix in per_iteration.items():
            print(f"τ={tau:g}  iteration {iteration}  sampled: {describe(mix['sampled'])}")
            print(f"{'':6s}  iteration {iteration}  chosen:  {describe(mix['chosen'])}")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{t:g}": m for t, m in results.items()}, indent=1))


if __name__ == "__main__":
    main()
