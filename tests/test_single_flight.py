"""Single-flight: identical requests in flight at once reach the engine once and share its answer.

Three tasks that got the same trajectory send the same QA request from three coroutines at the
same moment; one request must go out, all three must get the same completion, and the ledger must
bill one call (the other two are what a sequential rerun would read from the cache: hits). The
server (tests/openai_server.py) holds each reply a little, so the three calls truly overlap.
"""

import asyncio

from openai_server import FaultPlan, serve

from ads_bench.models import ChatRequest, Runtime

QA = ChatRequest.user("What does the retrieved passage say about tides?", max_tokens=12, temperature=0.7, seed=3)


async def test_three_concurrent_identical_requests_are_sent_once_and_share_one_completion(tmp_path):
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    with serve(FaultPlan(delay_seconds=0.3)) as server:
        model = runtime.model(server.spec(), role="expert")
        responses = await asyncio.gather(*(model.generate([QA]) for _ in range(3)))
        assert server.stats()["received"] == 1
    texts = {r.text for [r] in responses}
    assert len(texts) == 1 and all(r.ok for [r] in responses)
    totals = runtime.ledger.total()
    assert (totals.calls, totals.cache_hits) == (1, 2)


async def test_single_flight_holds_without_a_cache_too():
    runtime = Runtime.create(use_cache=False)
    with serve(FaultPlan(delay_seconds=0.3)) as server:
        model = runtime.model(server.spec(), role="expert")
        responses = await asyncio.gather(*(model.generate([QA]) for _ in range(3)))
        assert server.stats()["received"] == 1
    assert len({r.text for [r] in responses}) == 1


async def test_roles_sharing_one_backend_share_its_in_flight_requests_and_each_bills_its_own_hit():
    runtime = Runtime.create(use_cache=False)
    with serve(FaultPlan(delay_seconds=0.3)) as server:
        expert = runtime.model(server.spec(), role="expert")
        policy = expert.with_role("policy")
        [a], [b] = await asyncio.gather(expert.generate([QA]), policy.generate([QA]))
        assert server.stats()["received"] == 1
    assert a.text == b.text
    assert runtime.ledger.total(role="expert").calls + runtime.ledger.total(role="policy").calls == 1


async def test_a_failed_shared_call_fails_every_waiter_and_a_later_call_asks_again():
    runtime = Runtime.create(use_cache=False)
    with serve(FaultPlan.parse("1:503", delay_seconds=0.3)) as server:
        model = runtime.model(server.spec(max_retries=0), role="expert")
        responses = await asyncio.gather(*(model.generate([QA]) for _ in range(3)))
        assert [r.ok for [r] in responses] == [False, False, False]
        assert server.stats()["received"] == 1
        [again] = await model.generate([QA])
        assert again.ok and server.stats()["received"] == 2
    assert runtime._in_flight == {}


async def test_a_cancelled_caller_releases_the_request_it_was_computing():
    runtime = Runtime.create(use_cache=False)
    with serve(FaultPlan(delay_seconds=0.5)) as server:
        model = runtime.model(server.spec(), role="expert")
        owner = asyncio.create_task(model.generate([QA]))
        await asyncio.sleep(0.1)
        waiter = asyncio.create_task(model.generate([QA]))
        await asyncio.sleep(0.1)
        owner.cancel()
        [shared] = await asyncio.wait_for(waiter, timeout=5)  # never waits forever
    assert not shared.ok and "cancel" in shared.error
    assert runtime._in_flight == {}
