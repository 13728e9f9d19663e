"""ChatModel's contract over any backend: cache first, compute what is missing, bill it once.

These unit tests use a counting fake backend to pin the bookkeeping exactly; the real
engines are exercised in test_embedded_backend.py and test_http_backend.py.
"""

import pytest

from ads_bench.errors import ModelUnavailable
from ads_bench.models import ChatRequest, Runtime
from ads_bench.models.cache import request_key
from ads_bench.models.spec import parse_spec
from ads_bench.models.types import Completion, TokenLogprob, Usage


class CountingBackend:
    name = "counting"
    identity = {"engine": "counting"}
    price_name = "gpt-4o-mini"
    batch_size = 1
    context_window = 100

    def __init__(self, fail_on=(), fatal=False):
        self.calls = []
        self.fail_on = set(fail_on)
        self.fatal = fatal

    async def start(self):
        pass

    async def generate(self, requests):
        out = []
        for r in requests:
            self.calls.append(r)
            text = r.messages[-1]["content"]
            if text in self.fail_on:
                out.append(ModelUnavailable("server gone") if self.fatal else ValueError("bad request"))
                continue
            out.append([
                Completion(f"{text}#seed{r.params.seed}#{i}", "stop", Usage(10 if i == 0 else 0, 5), sample_index=i)
                for i in range(r.params.n)
            ])
        return out

    async def count_tokens(self, text):
        return len(text.split())

    async def aclose(self):
        pass


def model_with(backend, tmp_path, role="judge"):
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    spec = parse_spec("embedded")
    runtime._backends[spec.raw] = backend
    return runtime.model(spec, role), runtime


async def test_a_repeated_batch_makes_zero_backend_calls(tmp_path):
    backend = CountingBackend()
    model, runtime = model_with(backend, tmp_path)
    batch = [ChatRequest.user(f"q{i}") for i in range(3)]
    first = await model.generate(batch)
    assert len(backend.calls) == 3 and not any(r.cached for r in first)
    second = await model.generate(batch)
    assert len(backend.calls) == 3
    assert [r.text for r in second] == [r.text for r in first] and all(r.cached for r in second)
    totals = runtime.ledger.total(role="judge")
    assert (totals.calls, totals.cache_hits) == (3, 3)


async def test_identical_requests_in_one_batch_are_computed_once(tmp_path):
    backend = CountingBackend()
    model, _ = model_with(backend, tmp_path)
    responses = await model.generate([ChatRequest.user("same")] * 4)
    assert len(backend.calls) == 1
    assert len({r.text for r in responses}) == 1


async def test_more_samples_reuse_the_cached_ones_and_shift_the_seed(tmp_path):
    backend = CountingBackend()
    model, _ = model_with(backend, tmp_path)
    [two] = await model.generate([ChatRequest.user("q", n=2, seed=7, temperature=1.0)])
    [four] = await model.generate([ChatRequest.user("q", n=4, seed=7, temperature=1.0)])
    assert [c.text for c in four.completions[:2]] == [c.text for c in two.completions]
    refill = backend.calls[-1]
    assert (refill.params.n, refill.params.seed) == (2, 9)  # samples 2 and 3, seed past 0 and 1
    assert [c.sample_index for c in four.completions] == [0, 1, 2, 3]
    assert [c.cached for c in four.completions] == [True, True, False, False]


async def test_a_failed_call_is_reported_and_never_cached(tmp_path):
    backend = CountingBackend(fail_on={"bad"})
    model, runtime = model_with(backend, tmp_path)
    ok, bad = await model.generate([ChatRequest.user("good"), ChatRequest.user("bad")])
    assert ok.ok and not bad.ok and "bad request" in bad.error
    with pytest.raises(RuntimeError, match="model call failed"):
        _ = bad.text
    backend.fail_on.clear()
    [retried] = await model.generate([ChatRequest.user("bad")])
    assert retried.ok and not retried.cached
    assert runtime.ledger.total().failures == 1


async def test_an_unreachable_backend_stops_the_batch_with_its_user_error(tmp_path):
    backend = CountingBackend(fail_on={"x"}, fatal=True)
    model, _ = model_with(backend, tmp_path)
    with pytest.raises(ModelUnavailable):
        await model.generate([ChatRequest.user("x")])


async def test_cost_comes_from_the_price_table_and_a_hit_records_what_it_saved(tmp_path):
    backend = CountingBackend()
    model, runtime = model_with(backend, tmp_path)
    backend.price_name = "gpt-4o-mini"  # $0.15 in, $0.60 out per 1M tokens
    await model.generate([ChatRequest.user("q")])
    await model.generate([ChatRequest.user("q")])
    totals = runtime.ledger.total()
    assert totals.cost_usd == pytest.approx((10 * 0.15 + 5 * 0.60) / 1e6)
    assert totals.saved_usd == pytest.approx(totals.cost_usd)


async def test_with_role_bills_the_same_model_under_another_role(tmp_path):
    backend = CountingBackend()
    model, runtime = model_with(backend, tmp_path, role="policy")
    await model.with_role("expert").generate([ChatRequest.user("q")])
    assert set(runtime.ledger.grouped("role")) == {"expert"}


async def test_no_cache_runtime_always_calls_the_backend(tmp_path):
    backend = CountingBackend()
    runtime = Runtime.create(use_cache=False)
    runtime._backends["embedded"] = backend
    model = runtime.model("embedded")
    await model.generate([ChatRequest.user("q")])
    await model.generate([ChatRequest.user("q")])
    assert len(backend.calls) == 2


class BrokenRepliesBackend(CountingBackend):
    """A backend with no transport of its own to retry on (the embedded engine, transformers,
    vLLM offline) that hands back what a faulty engine might: nothing, or an empty truncated text."""

    async def generate(self, requests):
        self.calls.extend(requests)
        replies = {"none": [], "empty": [Completion("", "length", Usage(10, 5))],
                   "nan": [Completion("m", "stop", Usage(10, 1), logprobs=(TokenLogprob("m", float("nan")),))],
                   "quiet": [Completion("", "stop", Usage(10, 1))]}
        return [replies[r.messages[-1]["content"]] for r in requests]


async def test_a_reply_without_a_usable_answer_from_any_backend_is_a_failed_call_and_never_cached(tmp_path):
    model, runtime = model_with(BrokenRepliesBackend(), tmp_path)
    none, empty, nan, quiet = await model.generate([ChatRequest.user(t) for t in ("none", "empty", "nan", "quiet")])
    assert [r.ok for r in (none, empty, nan)] == [False, False, False]
    assert all("malformed reply" in r.error for r in (none, empty, nan))
    assert quiet.ok and quiet.text == ""  # a model that chose to say nothing gave a (bad) answer
    assert runtime.ledger.total().failures == 3
    assert runtime.cache.get_many([request_key(model.backend.identity, ChatRequest.user("empty"), 0)]) == {}
