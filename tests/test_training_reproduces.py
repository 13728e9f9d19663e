"""Training is reproducible on CPU (issue 18, items 2 and 3): the same training in two fresh
processes, each with its own empty cache, gives the same adapter bit for bit and the same answers.

What differs is only how long it took (the ``seconds`` fields) and the paths that name each run's
own folders. On a GPU nothing is promised (ads_bench/learning/reproducibility.py).
"""

import hashlib
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model

# the finetune learner on two facts, then two greedy answers from the adapted policy
FINETUNE = """
import asyncio, hashlib, json, sys
from pathlib import Path
import ads_bench.learning.finetune as finetune
from ads_bench.acquisition.items import AcquiredItem
from ads_bench.learning.policy import Policy
from ads_bench.models import ChatRequest, Runtime
from ads_bench.models.types import SamplingParams

out = Path(sys.argv[1])
finetune.cache_dir = lambda: out  # the adapter in this process's own folder
ITEMS = [AcquiredItem("question_answering", "answer", "What is the capital of Zorbania?", "Quellport."),
         AcquiredItem("question_answering", "answer", "Who founded Zorbania?", "Queen Ilsa the Bold.")]

async def main():
    runtime = Runtime.create(use_cache=False)
    tuned = await finetune.update(Policy(runtime.model("embedded")), ITEMS, runtime=runtime, task_id="t",
                                  config=finetune.FinetuneConfig(max_steps=3, max_length=96, measure_loss=False))
    questions = ["What is the capital of Zorbania?", "Name a river."]
    answers = await tuned.model.generate([ChatRequest(tuple(tuned.messages([q])), SamplingParams(max_tokens=12))
                                          for q in questions])
    adapter = Path(tuned.details["adapter"])
    print(json.dumps({
        "adapter": {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(adapter.iterdir())
                    if f.suffix in (".safetensors", ".json") and f.name != finetune.RECORD_FILE},  # it has timings
        "loss_curve": tuned.details["training"]["loss_curve"],
        "answers": [a.text for a in answers],
    }))

asyncio.run(main())
"""


def in_a_fresh_process(tmp_path, name: str) -> dict:
    result = subprocess.run([sys.executable, "-c", FINETUNE, str(tmp_path / name)], capture_output=True, text=True,
                            timeout=900, env={**os.environ, "ADS_BENCH_QUIET": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_finetune_learner_trains_the_same_adapter_and_answers_the_same_in_fresh_processes(tmp_path):
    first, second = in_a_fresh_process(tmp_path, "first"), in_a_fresh_process(tmp_path, "second")
    assert first["adapter"] and "adapter_model.safetensors" in first["adapter"]
    assert first == second  # weights bit for bit, every loss, every answer


# ads-bench train, 1 iteration (SFT) on one task, K=2, few tokens
# 4 samples of up to 160 tokens: enough that one is a plan of the task's own (a copy of the prompt's
# demonstration or an unparsable one is never chosen), so SFT trains an adapter to compare
TRAIN = ["train", "--iterations", "1", "--limit", "1", "--samples", "4", "--max-held-out", "1", "--max-calls", "1",
         "--max-tokens", "16", "--max-steps", "1"]
TIMINGS = ("seconds",)  # how long a stage took: the only thing a rerun may change


def without_timings(value, folder):
    """``value`` with its timings dropped and this run's folders spelled alike."""
    if isinstance(value, dict):
        return {k: without_timings(v, folder) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v, folder) for v in value]
    if isinstance(value, str):
        return value.replace(str(folder), "RUN").replace(str(folder.parent / f"cache-{folder.name}"), "CACHE")
    return value


def train_in_a_fresh_process(tmp_path, name: str):
    out = tmp_path / name
    config = tmp_path / "train.yaml"
    config.write_text("optimizer_max_tokens: 160\n")
    result = subprocess.run([sys.executable, "-m", "ads_bench.cli", "--cache-dir", str(tmp_path / f"cache-{name}"),
                             *TRAIN, "--config", str(config), "--out", str(out)],
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "reproducible: a fresh rerun" in result.stdout and "training on cpu" in result.stdout
    return out


def records(folder, name):
    return [without_timings(json.loads(line), folder) for line in (folder / name).read_text().splitlines()]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_two_fresh_cache_train_runs_agree(tmp_path):
    first, second = train_in_a_fresh_process(tmp_path, "first"), train_in_a_fresh_process(tmp_path, "second")
    # every sampled trajectory, executed call, reward and choice
    assert records(first, "samples.jsonl") == records(second, "samples.jsonl")
    assert records(first, "iterations.jsonl") == records(second, "iterations.jsonl")
    adapter = "adapters/iteration-0"
    assert (first / adapter / "adapter_model.safetensors").is_file()
    for name in ("adapter_model.safetensors", "adapter.gguf"):
        assert sha256(first / adapter / name) == sha256(second / adapter / name), name
    # the same but for the base weights' path, which names each run's own cache
    for name in ("adapter_config.json", "training_stats.json", "ads_stats.json"):
        same = [without_timings(json.loads((f / adapter / name).read_text()), f) for f in (first, second)]
        assert same[0] == same[1], name
    environment = json.loads((first / "environment.json").read_text())
    assert environment["reproducibility"]["training"]["device"] == "cpu"
    assert environment["reproducibility"]["fresh_rerun_reproduces"] is True


# the trainer's DPO stage (its second iteration) on two pairs, in a fresh process
DPO = """
import hashlib, json, sys
from pathlib import Path
from ads_bench.models.convert import embedded_hf_dir
from ads_bench.optimizer import training

out = Path(sys.argv[1])
pairs = [([{"role": "user", "content": f"Plan API calls to learn about {topic}."}],
          '{"calls": [{"api": "information_retrieval", "query": "%s"}]}' % topic, '{"calls": []}')
         for topic in ("autumn haiku", "the First World War")]
stats = training.dpo(embedded_hf_dir(), pairs, out, training.TrainingConfig(max_steps=1, seed=0))
print(json.dumps({"files": {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(out.iterdir())
                            if f.name in ("adapter_model.safetensors", "adapter_config.json")},
                  "losses": stats["losses"]}))
"""


@pytest.mark.slow
def test_the_trainers_dpo_stage_trains_the_same_adapter_in_fresh_processes(tmp_path):
    runs = []
    for name in ("first", "second"):
        result = subprocess.run([sys.executable, "-c", DPO, str(tmp_path / name)], capture_output=True, text=True,
                                timeout=1200)
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "adapter_model.safetensors" in runs[0]["files"]
    assert runs[0] == runs[1]


def test_a_saved_adapter_config_lists_its_modules_in_one_order(tmp_path):
    """peft saves target_modules from a set: their order followed the process's hash seed."""
    from ads_bench.learning.reproducibility import canonical_adapter_config

    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 8, "target_modules": ["v_proj", "q_proj", "o_proj"]}))
    canonical_adapter_config(tmp_path)
    assert json.loads((tmp_path / "adapter_config.json").read_text())["target_modules"] == ["o_proj", "q_proj", "v_proj"]
