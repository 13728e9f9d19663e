"""Under ``--learner finetune`` the un-updated reference answers on the taught policy's engine
(transformers, base weights with no adapter), so taught and reference differ only by learning
(issue 17, item 6)."""

from __future__ import annotations

import pytest
from test_learning_finetune import FACTS

from ads_bench.learning import finetune as finetune_module
from ads_bench.learning.finetune import FinetuneConfig, base_engine_spec, update
from ads_bench.learning.registry import base_policy
from ads_bench.models import ChatRequest, SamplingParams, parse_spec

pytestmark = pytest.mark.model


def test_the_reference_spec_is_the_same_weights_on_the_fine_tuned_engine(tmp_path):
    assert base_engine_spec(parse_spec("embedded")) == "hf:embedded"
    (tmp_path / "config.json").write_text("{}")
    assert base_engine_spec(parse_spec(f"hf:{tmp_path}?batch_size=4")) == f"hf:{tmp_path}?batch_size=4"
    assert base_engine_spec(parse_spec(f"vllm:{tmp_path}")) == f"vllm:{tmp_path}"


async def test_under_finetune_the_reference_answers_through_transformers(fresh_runtime):
    policy = fresh_runtime.model("embedded", role="policy")
    reference = await base_policy("finetune", policy, fresh_runtime)
    assert reference.model.backend.identity["engine"] == "transformers"
    assert reference.model.backend.identity["adapter_sha256"] is None  # the base weights alone
    in_context = await base_policy("icl", policy, fresh_runtime)
    assert in_context.model is policy  # ICL answers on the policy's own engine, as before


async def test_a_zero_scale_adapter_answers_exactly_as_the_reference(fresh_runtime, tmp_path, monkeypatch):
    monkeypatch.setattr(finetune_module, "cache_dir", lambda: tmp_path)
    reference = await base_policy("finetune", fresh_runtime.model("embedded", role="policy"), fresh_runtime)
    # learning rate 0: the adapter's B stays zero, so its update is exactly nothing
    untaught = await update(reference, FACTS[:2], runtime=fresh_runtime, task_id="t",
                            config=FinetuneConfig(max_steps=1, learning_rate=0.0, max_length=96, threads=1,
                                                  measure_loss=False))
    assert untaught.details["adapter"] and untaught.model is not reference.model
    question = [{"role": "user", "content": "What is the capital of Zorbania?"}]
    request = ChatRequest(tuple(question), SamplingParams(max_tokens=24, seed=0))
    [taught_answer] = await untaught.model.generate([request])
    [reference_answer] = await reference.model.generate([request])
    assert taught_answer.ok and taught_answer.text.strip()
    assert taught_answer.text == reference_answer.text
