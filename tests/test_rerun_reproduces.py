"""A rerun of the same command, in a fresh process, finds its run folder, makes no model call and
writes a byte-identical metrics.json (issue 12, item 5)."""

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import serve  # noqa: E402


def _run(args: list[str], workdir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ADS_BENCH_CACHE_DIR": str(workdir / "cache")}
    return subprocess.run([sys.executable, "-m", "ads_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=300)


def test_a_rerun_in_a_fresh_process_makes_no_call_and_writes_the_same_metrics(tmp_path):
    with serve() as server:
        policy = server.spec(price_in=1, price_out=2, context_window=4096)
        other = server.spec(price_in=1, price_out=2)
        args = ["run", "--strategy", "rule-qa", "--suite", "inhouse", "--limit", "3",
                "--policy", policy, "--expert", other, "--judge", other]
        first = _run(args, tmp_path)
        assert first.returncode == 0, first.stderr[-2000:]
        [folder] = (tmp_path / "results").iterdir()  # the default folder, named by the config's digest
        metrics = (folder / "metrics.json").read_bytes()
        received = server.stats()["received"]
        assert received > 0

        second = _run(args, tmp_path)
        assert second.returncode == 0, second.stderr[-2000:]
        assert [folder] == list((tmp_path / "results").iterdir())
        assert server.stats()["received"] == received  # every call answered from the cache
        assert (folder / "metrics.json").read_bytes() == metrics
        assert json.loads(metrics)["cost"]["run_usd"] > 0
