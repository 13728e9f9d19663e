"""The response cache: what makes two requests the same, and that it survives processes."""

import multiprocessing

from ads_bench.models.cache import ResponseCache, request_key
from ads_bench.models.types import ChatRequest, Completion, SamplingParams, Usage

IDENTITY = {"engine": "test", "weights_sha256": "abc"}


def req(text="hi", **params):
    return ChatRequest.user(text, **params)


def test_key_ignores_n_but_not_the_sample_index():
    one, four = req(n=1, seed=1), req(n=4, seed=1)
    assert request_key(IDENTITY, one, 0) == request_key(IDENTITY, four, 0)
    keys = {request_key(IDENTITY, four, i) for i in range(4)}
    assert len(keys) == 4


def test_key_changes_with_everything_that_changes_an_answer():
    base = request_key(IDENTITY, req(), 0)
    assert base != request_key(IDENTITY, req("other"), 0)
    assert base != request_key(IDENTITY, req(temperature=0.7), 0)
    assert base != request_key(IDENTITY, req(seed=3), 0)
    assert base != request_key(IDENTITY, req(max_tokens=7), 0)
    assert base != request_key(IDENTITY, req(stop=["\n"]), 0)
    assert base != request_key(IDENTITY, req(json_schema='{"type": "object"}'), 0)
    assert base != request_key({**IDENTITY, "adapter_sha256": "x"}, req(), 0)
    assert base != request_key(IDENTITY, ChatRequest.user("hi", system="be brief"), 0)


def test_keys_written_before_json_schemas_existed_still_match():
    assert "json_schema" not in req().params.to_dict()


def test_key_ignores_request_metadata():
    a = ChatRequest(({"role": "user", "content": "hi"},), SamplingParams(), metadata={"task": 1})
    b = ChatRequest(({"role": "user", "content": "hi"},), SamplingParams(), metadata={"task": 2})
    assert request_key(IDENTITY, a, 0) == request_key(IDENTITY, b, 0)


def test_a_stored_completion_comes_back_marked_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite3")
    completion = Completion("answer", "stop", Usage(5, 2), latency_s=0.3)
    cache.put("k", "model-a", completion)
    got = cache.get("k")
    assert got.text == "answer" and got.usage == Usage(5, 2) and got.cached
    assert cache.get("missing") is None
    assert cache.stats().by_model == {"model-a": 1}
    assert cache.clear() == 1 and cache.get("k") is None


def _writer(path, start):
    cache = ResponseCache(path)
    for i in range(start, start + 200):
        cache.put(f"key-{i}", "m", Completion(f"text-{i}"))


def test_concurrent_processes_write_without_losing_entries(tmp_path):
    path = tmp_path / "shared.sqlite3"
    ResponseCache(path)  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(path, k * 200)) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    cache = ResponseCache(path)
    assert cache.stats().entries == 600
    assert cache.get("key-599").text == "text-599"
