"""On the embedded engine a request's result depends on that request alone (issue 18).

Not on what the engine computed before (a prompt cache), nor on what it computes beside it (a
batch), nor on the process: two fresh-cache runs of the same command write identical results.
"""

import json
import subprocess
import sys

import pytest

from ads_bench.errors import UserError
from ads_bench.models import ChatRequest
from ads_bench.models.embedded import EmbeddedBackend, Engine, engine_config, request_body
from ads_bench.models.spec import parse_spec

SMALL = "embedded?ctx=2048"  # a small KV cache: each fresh engine loads in a second
PREAMBLE = "You judge two answers to an instruction. Prefer the helpful, accurate, clear one. " * 8


def judge_request(instruction: str) -> ChatRequest:
    return ChatRequest.user(f"{PREAMBLE}\nInstruction: {instruction}\nAnswer A: yes.\nAnswer B: no.\n"
                            "Which is better, A or B?", max_tokens=1, logprobs=True, top_logprobs=5)


def logprobs(engine: Engine, request: ChatRequest) -> list:
    [choice] = engine.chat(request_body(request, seed=None))["choices"]
    return choice["logprobs"]["content"]


def test_exact_is_the_default_and_fast_has_its_own_cache_identity():
    exact, fast = EmbeddedBackend(parse_spec("embedded")), EmbeddedBackend(parse_spec("embedded?determinism=fast"))
    assert exact.config.exact and exact.config.parallel == 1
    assert not fast.config.exact and fast.config.parallel == 4
    # a fast answer depends on what else the engine did: it must never answer an exact run
    assert exact.identity != fast.identity
    assert exact.reproducibility["fresh_rerun_reproduces"] is True
    assert fast.reproducibility["fresh_rerun_reproduces"] is False


def test_parallel_slots_need_the_fast_mode():
    with pytest.raises(UserError, match="determinism=fast"):
        engine_config(parse_spec("embedded?parallel=4"))
    with pytest.raises(UserError, match="exact .*or fast"):
        engine_config(parse_spec("embedded?determinism=quick"))


@pytest.mark.model
def test_a_judges_logprobs_do_not_depend_on_the_requests_before_it():
    config = engine_config(parse_spec(SMALL))
    target = judge_request("Name a colour.")
    on_a_fresh_engine = logprobs(Engine(config), target)
    engine = Engine(config)
    logprobs(engine, judge_request("Name a fruit."))  # shares the whole preamble with the target
    after_a_shared_prefix = logprobs(engine, target)
    assert after_a_shared_prefix == on_a_fresh_engine  # every token and float, exactly


@pytest.mark.model
def test_the_thread_count_changes_speed_not_results():
    """Why threads are not in the cache identity."""
    judge = judge_request("Name a colour.")
    sample = ChatRequest.user("Write a line about the sea.", max_tokens=12, temperature=0.9, seed=3)
    outputs = []
    for threads in (1, 2):
        engine = Engine(engine_config(parse_spec(f"{SMALL}&threads={threads}")))
        text = engine.chat(request_body(sample, seed=3))["choices"][0]["message"]["content"]
        outputs.append((logprobs(engine, judge), text))
    assert outputs[0] == outputs[1]


@pytest.mark.model
async def test_seeded_samples_are_the_same_sent_together_or_one_by_one(fresh_runtime):
    fresh_runtime.cache = None  # every sample computed by the engine
    model = fresh_runtime.model(SMALL)
    requests = [ChatRequest.user(f"Write a line about the number {i}.", max_tokens=16, temperature=0.9, seed=i)
                for i in range(6)]
    one_by_one = [(await model.generate([r]))[0].text for r in requests]
    together = [r.text for r in await model.generate(requests)]
    assert together == one_by_one
    assert len(set(one_by_one)) > 1  # really sampled


# The same run in two processes, each with its own empty cache; the second while another
# workload keeps the same engine busy, so that requests interleave differently.
RUN = ["run", "--strategy", "rag", "--limit", "1", "--max-held-out", "2", "--max-tokens", "32",
       "--retrieval-mode", "bm25"]
UNDER_LOAD = """
import asyncio, os, sys, threading
from ads_bench.cli import main
from ads_bench.models import ChatRequest, Runtime

async def load():  # seeded samples on the run's engine, without end
    model = Runtime.create(use_cache=False).model("embedded")
    for i in range(10**6):
        await model.generate([ChatRequest.user(f"Count to {i}.", max_tokens=8, temperature=0.9, seed=i)])

threading.Thread(target=asyncio.run, args=(load(),), daemon=True).start()
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
os._exit(code)  # the load thread may be inside the engine: no interpreter teardown under it
"""


def run_in_a_fresh_process(tmp_path, name: str, under_load: bool):
    prefix = [sys.executable, "-c", UNDER_LOAD] if under_load else [sys.executable, "-m", "ads_bench.cli"]
    out = tmp_path / name
    result = subprocess.run([*prefix, "--cache-dir", str(tmp_path / f"cache-{name}"), *RUN, "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "reproducible: a fresh rerun" in result.stdout  # the run says what it promises
    return out


def judgments(folder) -> list[dict]:
    """Every record in full (preferences, raw outputs, logprobs); lines are appended as judgments
    finish, so their order is the only thing compared loosely."""
    records = [json.loads(line) for line in (folder / "judgments.jsonl").read_text().splitlines()]
    return sorted(records, key=lambda record: record["id"])


@pytest.mark.model
@pytest.mark.slow
def test_two_fresh_cache_runs_agree_byte_for_byte(tmp_path):
    first = run_in_a_fresh_process(tmp_path, "first", under_load=False)
    second = run_in_a_fresh_process(tmp_path, "second", under_load=True)
    # metrics.json holds no timings: nothing is excluded
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    assert judgments(first) == judgments(second)
    environment = json.loads((first / "environment.json").read_text())
    assert environment["reproducibility"]["fresh_rerun_reproduces"] is True



def test_a_fine_tuning_learner_adds_its_training_to_what_a_run_promises():
    from ads_bench.learning.reproducibility import learner_promise

    engines = {"fresh_rerun_reproduces": True, "models": {}}
    assert learner_promise(engines, "icl") == engines
    import torch

    promise = learner_promise(engines, "finetune")
    # on CPU training reproduces (tests/test_training_reproduces.py); on a GPU nothing is promised
    on_gpu = torch.cuda.is_available()
    assert promise["training"]["device"] == ("cuda" if on_gpu else "cpu")
    assert promise["fresh_rerun_reproduces"] is not on_gpu
    assert learner_promise({**engines, "fresh_rerun_reproduces": False}, "finetune")["fresh_rerun_reproduces"] is False
