"""OpenAI-compatible HTTP backend: OpenAI itself, vLLM, llama.cpp, SGLang, Ollama servers.

Retries and load balancing are ours rather than the ``openai`` client's built-in retries
because a retry must be free to go to *another* replica: with several base URLs for one
model, each attempt picks the replica with the fewest requests in flight, skipping any that
just failed to connect, so a user with N vLLM replicas keeps all N busy and survives one dying.

A reply that arrives but carries no usable answer (a body that is not JSON, no choices, empty
content cut by the token limit, non-finite logprobs) is a transport fault like a 503: it is
retried with the very same request (same seed and parameters), so it can neither reach a parser
nor be cached, and a retry never changes which sample is stored. Every retry is reported with its
cause (``retries.report_retry``); ``Retry-After`` is honoured on every retried status, in seconds
or as an HTTP date, capped at a minute.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import json
import os
import random
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ads_bench.errors import ModelUnavailable, UserError
from ads_bench.models.backend import BackendResult, MalformedReply, check_reply, fan_out, option
from ads_bench.models.retries import report_retry
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion, TokenLogprob, Usage

OPENAI_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
MAX_RETRY_AFTER_S = 60.0  # a server asking for longer is treated as asking for a minute


@dataclass
class Replica:
    base_url: str
    client: Any = None
    in_flight: int = 0
    down_until: float = 0.0
    served: int = 0
    failures: int = field(default=0)


class OpenAIBackend:
    batch_size = 1

    def __init__(self, spec: ModelSpec):
        try:
            import openai  # noqa: F401
        except ImportError as exc:
            raise ModelUnavailable(
                "the HTTP backend needs the 'openai' package, a core dependency of ads-bench: "
                "reinstall it (`pip install ads-bench`)"
            ) from exc
        self.spec = spec
        self.model = spec.target
        if spec.backend == "openai":
            urls: tuple[str, ...] = (os.environ.get("OPENAI_BASE_URL", OPENAI_URL).rstrip("/"),)
            key_env = spec.options.get("api_key_env", "OPENAI_API_KEY")
        else:
            urls = spec.base_urls
            key_env = spec.options.get("api_key_env")
        self.key_env = key_env
        self.api_key = os.environ.get(key_env) if key_env else None
        if spec.backend == "openai" and not self.api_key:
            raise UserError(f"'{spec.label}' needs an API key: export {key_env}=... (it is never logged)")
        self.replicas = [Replica(url) for url in urls]
        self.name = spec.target
        # a server on this machine (a local vLLM or llama.cpp) takes the hosted-equivalent price of a
        # local engine (models/local_price.py); a remote one its listed price
        local = all(urllib.parse.urlparse(r.base_url).hostname in LOCAL_HOSTS for r in self.replicas)
        self.price_name = None if local else spec.target
        self.context_window = option(spec, "context_window", None)
        self.concurrency = option(spec, "concurrency", 8 if spec.backend == "openai" else 16)
        self.max_retries = option(spec, "max_retries", 6)
        self.timeout = option(spec, "timeout", 120.0, float)
        # the first backoff's upper bound, doubling per retry (tests make it tiny)
        self.backoff = option(spec, "backoff", 0.5, float)
        self.native_n = bool(spec.options.get("native_n", True))
        # replicas serve the same model, so they share cache entries; the key never holds a URL
        self.identity = {"engine": "openai-compatible", "model": self.model}
        if "cache_namespace" in spec.options:
            self.identity["namespace"] = str(spec.options["cache_namespace"])
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def _bind_to_loop(self) -> None:
        """(Re)create clients for the running event loop; httpx pools cannot cross loops."""
        import openai

        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        self._loop = loop
        self._semaphore = asyncio.Semaphore(self.concurrency)
        for replica in self.replicas:
            replica.client = openai.AsyncOpenAI(
                base_url=replica.base_url,
                api_key=self.api_key or "not-needed",
                max_retries=0,
                timeout=self.timeout,
            )

    async def start(self) -> None:
        import openai

        self._bind_to_loop()
        reachable = 0
        reasons = []
        for replica in self.replicas:
            try:
                await replica.client.with_options(timeout=10.0).models.list()
                reachable += 1
            except openai.AuthenticationError as exc:
                raise UserError(
                    f"{replica.base_url} rejected the API key: set a valid key in "
                    f"${self.key_env or 'the env var named by ?api_key_env='}"
                ) from exc
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                replica.down_until = time.monotonic() + 5.0
                reasons.append(f"{replica.base_url} ({_short(exc)})")
            except openai.APIStatusError:
                reachable += 1  # the server answers; some do not implement /models
        if not reachable:
            raise ModelUnavailable(
                f"cannot reach {', '.join(reasons)}: start the server or fix the URL in '{self.spec.label}'"
            )

    async def aclose(self) -> None:
        for replica in self.replicas:
            if replica.client is not None:
                await replica.client.close()
                replica.client = None
        self._loop = None

    # -- generation ------------------------------------------------------------------------
    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]:
        self._bind_to_loop()
        return await fan_out(requests, self._one)

    async def _one(self, request: ChatRequest) -> list[Completion]:
        n = request.params.n
        if n == 1 or self.native_n:
            return await self._call(request, n, request.params.seed)
        seed = request.params.seed
        parts = await asyncio.gather(
            *(self._call(request, 1, None if seed is None else seed + i) for i in range(n))
        )
        return [replace(part[0], sample_index=i) for i, part in enumerate(parts)]

    def _pick(self) -> Replica:
        now = time.monotonic()
        alive = [r for r in self.replicas if r.down_until <= now] or self.replicas
        least = min(r.in_flight for r in alive)
        return random.choice([r for r in alive if r.in_flight == least])

    async def _call(self, request: ChatRequest, n: int, seed: int | None) -> list[Completion]:
        assert self._semaphore is not None
        kwargs = _request_kwargs(self.model, request, n, seed)
        async with self._semaphore:
            for attempt in range(self.max_retries + 1):
                try:
                    return await self._attempt(kwargs, n, attempt)
                except _Retryable as retryable:
                    error = retryable.error
                    if attempt == self.max_retries:
                        break
                    report_retry(retryable.cause)
                    # exponential backoff with full jitter (AWS architecture blog's recommendation),
                    # unless the server said how long to wait
                    delay = retryable.retry_after
                    if delay is None:
                        delay = random.uniform(0, min(30.0, self.backoff * 2**attempt))
                    await asyncio.sleep(delay)
        if isinstance(error, _connection_errors()):
            raise ModelUnavailable(
                f"lost {', '.join(r.base_url for r in self.replicas)} after {self.max_retries} retries "
                f"({_short(error)}): check the server behind '{self.spec.label}'"
            ) from error
        raise RuntimeError(f"gave up after {self.max_retries} retries: {_short(error)}") from error

    async def _attempt(self, kwargs: dict[str, Any], n: int, attempt: int) -> list[Completion]:
        """One request to one replica: its usable completions, or ``_Retryable`` saying why not."""
        import openai

        replica = self._pick()
        replica.in_flight += 1
        started = time.perf_counter()
        try:
            response = await replica.client.chat.completions.create(**kwargs)
            completions = _usable_completions(response, time.perf_counter() - started, n)
            replica.served += 1
            return completions
        except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:  # a 200 that is not JSON
            raise _Retryable("malformed", MalformedReply(f"malformed reply: {_short(exc)}")) from exc
        except MalformedReply as exc:
            raise _Retryable("malformed", exc) from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            replica.failures += 1
            replica.down_until = time.monotonic() + min(30.0, 2.0**attempt)
            # APITimeoutError is a subclass of APIConnectionError: test it first
            raise _Retryable("timeout" if isinstance(exc, openai.APITimeoutError) else "connection", exc) from exc
        except openai.APIStatusError as exc:
            raise self._status_error(replica, exc) from exc
        finally:
            replica.in_flight -= 1

    def _status_error(self, replica: Replica, exc: Any) -> Exception:
        """What an HTTP error status means: a retry (with its cause), or an error to raise."""
        status = exc.status_code
        if status == 429:
            return _Retryable("429", exc, _retry_after(exc))
        if status >= 500:
            return _Retryable("5xx", exc, _retry_after(exc))
        if status in (408, 409):  # request timeout, lock timeout: what OpenAI's own client retries
            return _Retryable("timeout", exc, _retry_after(exc))
        if status in (401, 403):
            return UserError(
                f"{replica.base_url} refused the request ({status}): check the key in "
                f"${self.key_env or 'the env var named by ?api_key_env='}"
            )
        if status == 404:
            return UserError(
                f"{replica.base_url} does not serve model '{self.model}' (404): "
                f"check the name after '::' in '{self.spec.label}'"
            )
        # a bad request (e.g. context too long) fails this request only
        return ValueError(f"HTTP {status}: {_short(exc)}")

    async def count_tokens(self, text: str) -> int:
        """Exact where the server tokenizes (vLLM, llama.cpp); else a 4-characters-a-token estimate."""
        root = self.replicas[0].base_url.removesuffix("/v1")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = json.dumps({"model": self.model, "prompt": text, "content": text}).encode()

        def ask() -> dict[str, Any] | None:
            request = urllib.request.Request(f"{root}/tokenize", data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    return json.loads(reply.read())
            except (OSError, ValueError):
                return None

        data = await asyncio.to_thread(ask)
        if data and "count" in data:
            return int(data["count"])
        if data and "tokens" in data:
            return len(data["tokens"])
        return max(1, len(text) // 4)

    def replica_stats(self) -> list[dict[str, Any]]:
        return [
            {"base_url": r.base_url, "served": r.served, "failures": r.failures} for r in self.replicas
        ]


def _request_kwargs(model: str, request: ChatRequest, n: int, seed: int | None) -> dict[str, Any]:
    p = request.params
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": list(request.messages),
        "temperature": p.temperature,
        "top_p": p.top_p,
        "max_tokens": p.max_tokens,
    }
    if n != 1:
        kwargs["n"] = n
    if seed is not None:
        kwargs["seed"] = seed
    if p.stop:
        kwargs["stop"] = list(p.stop)
    if p.logprobs:
        kwargs["logprobs"] = True
        if p.top_logprobs:
            kwargs["top_logprobs"] = p.top_logprobs
    if p.json_schema is not None:
        # OpenAI's structured outputs; vLLM's and llama.cpp's servers read the same field
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": json.loads(p.json_schema)},
        }
    return kwargs


def _usable_completions(response: Any, latency: float, n: int) -> list[Completion]:
    """The reply's completions, or MalformedReply when it is not a well-formed chat completion."""
    try:
        completions = _completions(response, latency)
    except (AttributeError, TypeError, ValueError) as exc:  # a JSON body of another shape
        raise MalformedReply(f"malformed reply: {_short(exc)}") from exc
    return check_reply(completions, n)


def _completions(response: Any, latency: float) -> list[Completion]:
    usage = response.usage
    prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    engine_cached = (getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    completion_total = getattr(usage, "completion_tokens", 0) or 0
    choices = sorted(response.choices, key=lambda c: c.index)
    # APIs report completion tokens summed over choices: split evenly so the sum stays exact
    share, remainder = divmod(completion_total, max(1, len(choices)))
    out = []
    for i, choice in enumerate(choices):
        logprobs = None
        if choice.logprobs is not None and choice.logprobs.content is not None:
            logprobs = tuple(
                TokenLogprob(
                    t.token, float(t.logprob), tuple((a.token, float(a.logprob)) for a in (t.top_logprobs or []))
                )
                for t in choice.logprobs.content
            )
        out.append(
            Completion(
                text=choice.message.content or "",
                finish_reason=choice.finish_reason,
                usage=Usage(
                    prompt_tokens if i == 0 else 0,
                    share + (remainder if i == 0 else 0),
                    engine_cached if i == 0 else 0,
                ),
                logprobs=logprobs,
                latency_s=latency,
                sample_index=i,
            )
        )
    return out


class _Retryable(Exception):
    """An attempt that failed in a way a retry can fix: its cause, error and ``Retry-After``."""

    def __init__(self, cause: str, error: Exception, retry_after: float | None = None):
        super().__init__(cause)
        self.cause, self.error, self.retry_after = cause, error, retry_after


def _connection_errors() -> tuple[type[Exception], ...]:
    import openai

    return (openai.APIConnectionError, openai.APITimeoutError)


def _retry_after(exc: Any) -> float | None:
    try:
        return retry_after_seconds(exc.response.headers.get("retry-after"))
    except AttributeError:
        return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: delta-seconds or an HTTP date (RFC 9110), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000": an HTTP date is GMT by definition
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:200]
