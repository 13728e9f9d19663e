"""``ads-bench judges check`` reports a judge's test-retest agreement (issue 18, item 3): the same
pairs judged twice, the response cache bypassed for the second time."""

import json
import subprocess
import sys
from pathlib import Path

from ads_bench.judging.judge_check import check_judge
from ads_bench.judging.metrics.repeats import retest_agreement
from ads_bench.models import Runtime

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import FaultPlan, serve  # noqa: E402


def test_agreement_compares_verdicts_and_skips_failed_judgments():
    result = retest_agreement([0.9, 0.2, 0.5, None, 0.7], [0.8, 0.6, 0.5, 0.1, None])
    assert result == {"retest_n": 3, "retest_agreement": 2 / 3,
                      "retest_mean_abs_difference": (0.1 + 0.4 + 0.0) / 3}
    assert retest_agreement([None], [0.5])["retest_agreement"] is None


async def test_a_judge_that_repeats_itself_agrees_with_itself(tmp_path):
    with serve() as server:
        runtime = Runtime.create(cache_path=tmp_path / "cache.sqlite3")
        report = await check_judge(runtime.model(server.spec(), role="judge"), limit=12)
        assert server.stats()["received"] == 24  # the retest was sent, not read from the cache
    assert report["retest_n"] == 12 and report["retest_agreement"] == 1.0
    assert report["retest_mean_abs_difference"] == 0.0


async def test_a_noisy_judge_disagrees_with_itself(tmp_path):
    with serve(FaultPlan(noise=0.6, noise_seed=2)) as server:
        runtime = Runtime.create(cache_path=tmp_path / "cache.sqlite3")
        report = await check_judge(runtime.model(server.spec(), role="judge"), limit=12)
    assert report["retest_n"] == 12
    assert report["retest_agreement"] < 1.0 and report["retest_mean_abs_difference"] > 0


def test_the_command_prints_it_and_can_leave_it_out(tmp_path):
    with serve() as server:
        def check(*flags):
            result = subprocess.run(
                [sys.executable, "-m", "ads_bench.cli", "--cache-dir", str(tmp_path), "judges", "check",
                 "--judge", server.spec(), "--limit", "4", "--json", *flags], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout)

        assert check()["retest_agreement"] == 1.0
        assert "retest_agreement" not in check("--no-retest")
