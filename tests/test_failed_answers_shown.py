"""A prompt the policy could not answer is counted and shown with the metrics, never judged."""

import sys
from pathlib import Path

from ads_bench.models import Runtime
from ads_bench.pipeline.evaluate import EvalConfig, run_evaluation
from ads_bench.pipeline.rescore import rescore_run

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import FaultPlan, serve  # noqa: E402


async def test_a_failed_answer_is_in_metrics_and_unjudged_and_rescore_keeps_the_suite_protocol(tmp_path):
    # the first request is the policy's answer to the first prompt: empty content cut by length
    with serve(FaultPlan.parse("1:empty_length")) as server:
        runtime = Runtime.create(cache_path=tmp_path / "cache.sqlite3")
        config = EvalConfig(suite="alpacaeval", model=server.spec(max_retries=0), judge=server.spec(),
                            limit=3, max_tokens=8)
        folder, metrics = await run_evaluation(config, runtime, out=tmp_path / "eval")
        assert metrics["n_failed_answers"] == 1
        assert metrics["pairwise"]["n_items"] == 2  # the failed prompt is not judged as an empty answer
        rescored, again = await rescore_run(folder.path, server.spec(), runtime, out=tmp_path / "rescored")
    assert again["n_failed_answers"] == 1
    assert rescored.config["orders"] is None  # alpacaeval's published protocol: one random order
    assert not any("not comparable" in w for w in again.get("warnings", []))
    # a local server's tokens take the hosted-equivalent price of a model of unknown size (never $0)
    assert again["cost"]["run_usd"] > 0.0
