"""The OpenAI-compatible backend against a real local server (llama.cpp serving the embedded GGUF).

Fault injection goes through a small real HTTP proxy in front of that server, so retries,
failover and load balancing are tested on real sockets, not on mocks.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest

from ads_bench.errors import ModelUnavailable
from ads_bench.models import ChatRequest, Runtime

pytestmark = pytest.mark.model


class FaultyProxy:
    """Forwards to ``upstream`` but answers the first ``failures`` requests with ``status``."""

    def __init__(self, upstream: str, failures: int, status: int = 503):
        self.upstream = upstream
        self.failures = failures
        self.status = status
        self.seen = 0
        self.server = None

    async def handle(self, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, path, _ = lines[0].split(" ")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(headers.get("Content-Length", headers.get("content-length", 0)))
        body = await reader.readexactly(length) if length else b""
        self.seen += 1
        if path.endswith("/chat/completions") and self.failures > 0:
            self.failures -= 1
            payload = b'{"error": {"message": "injected"}}'
            status, reason = self.status, "Injected"
        else:
            payload, status = await asyncio.to_thread(self.forward, method, path, body)
            reason = "OK"
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload
        )
        await writer.drain()
        writer.close()

    def forward(self, method, path, body):
        request = urllib.request.Request(
            self.upstream + path, data=body or None, method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                return reply.read(), reply.status
        except urllib.error.HTTPError as exc:
            return exc.read(), exc.code

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


async def test_it_answers_through_a_real_server_and_the_cache_covers_reruns(local_server, tmp_path):
    runtime = Runtime.create(cache_path=tmp_path / "c.sqlite3")
    model = runtime.model(f"{local_server}::smollm2", role="expert")
    batch = [ChatRequest.user(f"Count to {i}.", max_tokens=12) for i in range(1, 5)]
    first = await model.generate(batch)
    assert all(r.ok and r.text for r in first)
    assert all(r.completions[0].usage.completion_tokens > 0 for r in first)
    second = await model.generate(batch)
    assert [r.text for r in second] == [r.text for r in first]
    totals = runtime.ledger.total(role="expert")
    assert (totals.calls, totals.cache_hits) == (4, 4)


async def test_the_server_and_the_in_process_engine_predict_the_same_next_token_distribution(local_server, fresh_runtime):
    # Compared as distributions, not greedy strings: llama.cpp reuses a slot's cached prompt prefix,
    # and the different batch split moves the quantized model's logprobs by up to ~0.06 with the
    # engine's history, enough to flip a near-tie greedy token a few tokens in. Another model or
    # chat template moves them by whole nats.
    request = ChatRequest.user("What is 2 + 2?", max_tokens=1, logprobs=True, top_logprobs=5)
    [remote] = await fresh_runtime.model(f"{local_server}::smollm2").generate([request])
    [local] = await fresh_runtime.model("embedded").generate([request])
    [remote_token], [local_token] = remote.completions[0].logprobs, local.completions[0].logprobs
    assert remote_token.token == local_token.token
    remote_top, local_top = dict(remote_token.top), dict(local_token.top)
    shared = set(remote_top) & set(local_top)
    assert len(shared) >= 3, (remote_top, local_top)
    assert all(abs(remote_top[t] - local_top[t]) < 0.15 for t in shared), (remote_top, local_top)


async def test_a_json_schema_travels_as_the_openai_response_format(local_server, fresh_runtime):
    schema = json.dumps({"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]})
    request = ChatRequest.user("Is Paris in France?", max_tokens=32, json_schema=schema)
    [response] = await fresh_runtime.model(f"{local_server}::smollm2").generate([request])
    assert json.loads(response.text)["answer"] in {"yes", "no"}, response.text


async def test_server_errors_are_retried_with_backoff(local_server, tmp_path):
    runtime = Runtime.create(use_cache=False)
    async with FaultyProxy(local_server.removesuffix("/v1"), failures=2, status=503) as proxy:
        model = runtime.model(f"{proxy.url}::smollm2?max_retries=4")
        [response] = await model.generate([ChatRequest.user("Say ok.", max_tokens=4)])
    assert response.ok
    assert runtime.ledger.total().calls == 1  # one logical call, three HTTP attempts


async def test_rate_limits_are_retried_too(local_server):
    runtime = Runtime.create(use_cache=False)
    async with FaultyProxy(local_server.removesuffix("/v1"), failures=1, status=429) as proxy:
        [response] = await runtime.model(f"{proxy.url}::smollm2").generate(
            [ChatRequest.user("Say ok.", max_tokens=4)]
        )
    assert response.ok


async def test_replicas_share_the_load_and_a_dead_one_is_routed_around(local_server):
    runtime = Runtime.create(use_cache=False)
    async with FaultyProxy(local_server.removesuffix("/v1"), failures=0) as a, FaultyProxy(
        local_server.removesuffix("/v1"), failures=0
    ) as b:
        dead = "http://127.0.0.1:9/v1"
        model = runtime.model(f"{a.url},{b.url},{dead}::smollm2?concurrency=8")
        batch = [ChatRequest.user(f"Say {i}.", max_tokens=4) for i in range(12)]
        responses = await model.generate(batch)
        served = {r["base_url"]: r["served"] for r in model.backend.replica_stats()}
    assert all(r.ok for r in responses)
    assert served[a.url] > 0 and served[b.url] > 0
    assert served[dead] == 0


async def test_an_unreachable_server_is_one_clear_error_fast():
    runtime = Runtime.create(use_cache=False)
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable, match="cannot reach http://127.0.0.1:9/v1"):
        await runtime.model("http://127.0.0.1:9/v1::x").generate([ChatRequest.user("hi")])
    assert time.perf_counter() - started < 15
