"""The embedded default (SmolLM2-135M via llama.cpp in-process) answers for real."""

import json

import pytest

from ads_bench.models import ChatRequest

pytestmark = pytest.mark.model


async def test_it_answers_with_the_models_own_chat_template(fresh_runtime):
    model = fresh_runtime.model("embedded")
    [response] = await model.generate([ChatRequest.user("What is the capital of France?", max_tokens=16)])
    assert response.ok and response.text.strip()
    completion = response.completions[0]
    assert completion.usage.prompt_tokens > 20  # the template's default system prompt is in there
    assert 0 < completion.usage.completion_tokens <= 16
    assert completion.finish_reason in {"stop", "length"}
    rendered = await model.backend.render([{"role": "user", "content": "hi"}])
    assert rendered.startswith("<|im_start|>system\n") and rendered.endswith("<|im_start|>assistant\n")


async def test_running_the_same_requests_twice_makes_zero_model_calls(fresh_runtime):
    model = fresh_runtime.model("embedded", role="policy")
    batch = [ChatRequest.user(f"Name a fruit, number {i}.", max_tokens=8) for i in range(3)]
    first = await model.generate(batch)
    calls_after_first = fresh_runtime.ledger.total().calls
    second = await model.generate(batch)
    totals = fresh_runtime.ledger.total()
    assert calls_after_first == 3
    assert totals.calls == 3 and totals.cache_hits == 3
    assert [r.text for r in second] == [r.text for r in first]


async def test_seeded_samples_are_distinct_and_reproducible(fresh_runtime, tmp_path):
    request = ChatRequest.user("Write a word.", max_tokens=6, temperature=1.0, seed=11, n=3)
    model = fresh_runtime.model("embedded")
    [first] = await model.generate([request])
    texts = [c.text for c in first.completions]
    assert len(set(texts)) > 1
    fresh_runtime.cache = None  # bypass the cache: the engine itself must reproduce them
    [again] = await model.generate([request])
    assert [c.text for c in again.completions] == texts


async def test_logprobs_come_back_with_alternatives(fresh_runtime):
    model = fresh_runtime.model("embedded", role="judge")
    request = ChatRequest.user("Answer m or M.", max_tokens=1, logprobs=True, top_logprobs=5)
    [response] = await model.generate([request])
    [token] = response.completions[0].logprobs
    assert len(token.top) == 5 and token.logprob <= 0
    assert token.top[0][1] >= token.top[-1][1]


async def test_a_prompt_longer_than_the_context_fails_that_request_only(fresh_runtime):
    model = fresh_runtime.model("embedded")
    too_long = ChatRequest.user("word " * 9000, max_tokens=4)
    fine = ChatRequest.user("Say yes.", max_tokens=4)
    bad, good = await model.generate([too_long, fine])
    assert not bad.ok and "context" in bad.error
    assert good.ok
    assert await model.count_tokens("hello world") == 2


CITY_SCHEMA = json.dumps({"type": "object", "properties": {"city": {"type": "string", "maxLength": 24}},
                          "required": ["city"], "additionalProperties": False})


async def test_a_json_schema_holds_sampled_output_to_it(fresh_runtime):
    request = ChatRequest.user("Tell me about Paris.", max_tokens=24, temperature=1.0, seed=5, n=2,
                               json_schema=CITY_SCHEMA)
    [response] = await fresh_runtime.model("embedded").generate([request])
    for completion in response.completions:
        assert set(json.loads(completion.text)) == {"city"}
