"""The one chat-model interface everything else uses: a backend plus cache, ledger and role.

``ChatModel.generate(requests)`` answers a batch of requests. Per request it first looks up
each of its ``n`` samples in the response cache, sends only what is missing to the backend,
stores every successful sample, and records calls, cache hits, tokens, seconds and dollars in
the ledger under this model's role (and the acquisition API in scope, if any).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ads_bench.errors import UserError
from ads_bench.models.backend import Backend, create_backend
from ads_bench.models.cache import ResponseCache, request_key
from ads_bench.models.ledger import FREE, Ledger, Price, PriceTable
from ads_bench.models.spec import ModelSpec, parse_spec
from ads_bench.models.types import ROLES, CallRecord, ChatRequest, ChatResponse, Completion

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """A request with some samples still to compute; ``indices`` are the missing sample slots."""

    positions: list[int]  # every batch position asking exactly this request
    request: ChatRequest
    keys: list[str]
    found: dict[int, Completion]
    indices: list[int]


class ChatModel:
    def __init__(self, spec: ModelSpec, backend: Backend, role: str, runtime: Runtime):
        if role not in ROLES:
            raise UserError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
        self.spec = spec
        self.backend = backend
        self.role = role
        self.runtime = runtime
        self._started = False
        self._start_lock: asyncio.Lock | None = None

    # -- description -----------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def context_window(self) -> int | None:
        return self.backend.context_window

    def with_role(self, role: str) -> ChatModel:
        """The same loaded model, billed under another role."""
        return ChatModel(self.spec, self.backend, role, self.runtime)

    def price(self) -> Price:
        return self.runtime.price_for(self.spec, self.backend)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.runtime.start_backend(self.spec.raw, self.backend)

    # -- generation ------------------------------------------------------------------------
    async def generate(
        self,
        requests: Sequence[ChatRequest],
        *,
        on_result: Callable[[int, ChatResponse], None] | None = None,
    ) -> list[ChatResponse]:
        """Answer every request; ``on_result(i, response)`` fires as each one finishes."""
        out: list[ChatResponse | None] = [None] * len(requests)
        async for index, response in self.stream(requests):
            out[index] = response
            if on_result is not None:
                on_result(index, response)
        return out  # type: ignore[return-value]

    def generate_sync(self, requests: Sequence[ChatRequest]) -> list[ChatResponse]:
        """For scripts without an event loop."""
        return asyncio.run(self.generate(requests))

    async def complete(self, prompt: str, *, system: str | None = None, **params) -> str:
        """One user turn in, one text out (raises if the call failed)."""
        [response] = await self.generate([ChatRequest.user(prompt, system=system, **params)])
        return response.text

    async def count_tokens(self, text: str) -> int:
        await self.start()
        return await self.backend.count_tokens(text)

    async def stream(self, requests: Sequence[ChatRequest]) -> AsyncIterator[tuple[int, ChatResponse]]:
        """Yield ``(position, response)`` as answers arrive: cache hits first, then the rest."""
        cache = self.runtime.cache
        identity = self.backend.identity
        pending: dict[tuple[str, ...], _Pending] = {}
        all_keys = {
            i: [request_key(identity, r, j) for j in range(r.params.n)] for i, r in enumerate(requests)
        }
        found_all = (
            cache.get_many([k for keys in all_keys.values() for k in keys]) if cache else {}
        )
        for i, request in enumerate(requests):
            keys = all_keys[i]
            found = {j: found_all[k] for j, k in enumerate(keys) if k in found_all}
            if len(found) == len(keys):
                for completion in found.values():
                    self._record(CallRecord(
                        completion.usage.prompt_tokens, completion.usage.completion_tokens, 0.0, cached=True
                    ))
                yield i, ChatResponse(request, [found[j] for j in range(len(keys))])
                continue
            group = tuple(keys)
            if group in pending:  # the same request twice in one batch is computed once
                pending[group].positions.append(i)
                continue
            missing = [j for j in range(len(keys)) if j not in found]
            pending[group] = _Pending([i], request, keys, found, missing)
        if not pending:
            return

        await self.start()
        jobs = list(pending.values())
        size = max(1, self.backend.batch_size)
        chunks = [jobs[s : s + size] for s in range(0, len(jobs), size)]
        tasks = [asyncio.create_task(self._run_chunk(chunk)) for chunk in chunks]
        try:
            for finished in asyncio.as_completed(tasks):
                for job, response in await finished:
                    for position in job.positions:
                        yield position, replace(response, request=requests[position])
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run_chunk(self, jobs: list[_Pending]) -> list[tuple[_Pending, ChatResponse]]:
        sub_requests = [self._missing_request(job) for job in jobs]
        results = await self.backend.generate(sub_requests)
        out = []
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, UserError):
                    raise result
                if not isinstance(result, Exception):  # cancellation and the like propagate
                    raise result
                self._record(CallRecord(0, 0, 0.0, failed=True))
                log.debug("model call failed: %r", result)
                out.append((job, ChatResponse(job.request, [], error=_describe(result))))
                continue
            completions = dict(job.found)
            for slot, completion in zip(job.indices, result, strict=False):
                completion = replace(completion, sample_index=slot, cached=False)
                completions[slot] = completion
                if self.runtime.cache is not None:
                    self.runtime.cache.put(job.keys[slot], self.label, completion)
            self._record(
                CallRecord(
                    sum(c.usage.prompt_tokens for c in result),
                    sum(c.usage.completion_tokens for c in result),
                    max((c.latency_s for c in result), default=0.0),
                    engine_cached_prompt_tokens=sum(c.usage.cached_prompt_tokens for c in result),
                )
            )
            if len(completions) < len(job.keys):
                error = f"backend returned {len(result)} of {len(job.indices)} samples"
                out.append((job, ChatResponse(job.request, [], error=error)))
                continue
            out.append((job, ChatResponse(job.request, [completions[j] for j in range(len(job.keys))])))
        return out

    @staticmethod
    def _missing_request(job: _Pending) -> ChatRequest:
        if not job.found:
            return job.request
        params = job.request.params
        # a refill must not replay the samples already cached: shift the seed past them
        seed = None if params.seed is None else params.seed + job.indices[0]
        return replace(job.request, params=replace(params, n=len(job.indices), seed=seed))

    def _record(self, call: CallRecord) -> None:
        cost = self.price().cost(call.prompt_tokens, call.completion_tokens)
        self.runtime.ledger.record(role=self.role, model=self.label, call=call, cost_usd=cost)


def _describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:500]


@dataclass
class Runtime:
    """What every model in one process shares: the response cache, the ledger, the price table."""

    cache: ResponseCache | None = None
    ledger: Ledger = field(default_factory=Ledger)
    prices: PriceTable = field(default_factory=PriceTable.default)
    _backends: dict[str, Backend] = field(default_factory=dict)
    _started: set[str] = field(default_factory=set)

    @classmethod
    def create(
        cls,
        *,
        use_cache: bool = True,
        cache_path: str | Path | None = None,
        prices: str | Path | dict | None = None,
    ) -> Runtime:
        return cls(
            cache=ResponseCache(Path(cache_path) if cache_path else None) if use_cache else None,
            prices=PriceTable.default(prices),
        )

    def model(self, spec: str | ModelSpec, role: str = "policy") -> ChatModel:
        parsed = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
        if parsed.raw not in self._backends:
            self._backends[parsed.raw] = create_backend(parsed)
        return ChatModel(parsed, self._backends[parsed.raw], role, self)

    async def start_backend(self, key: str, backend: Backend) -> None:
        if key not in self._started:
            await backend.start()
            self._started.add(key)

    def price_for(self, spec: ModelSpec, backend: Backend) -> Price:
        if "price_in" in spec.options or "price_out" in spec.options:
            return Price(float(spec.options.get("price_in", 0)), float(spec.options.get("price_out", 0)))
        if backend.price_name is None:
            return FREE
        price = self.prices.lookup(backend.price_name)
        if price is None:
            if backend.price_name not in _WARNED_UNPRICED:
                _WARNED_UNPRICED.add(backend.price_name)
                log.warning(
                    "no price known for '%s': its cost counts as $0; add it with --prices FILE "
                    "or ?price_in=..&price_out=.. on the spec",
                    backend.price_name,
                )
            return FREE
        return price

    async def aclose(self) -> None:
        for backend in self._backends.values():
            await backend.aclose()
        self._started.clear()


_default_runtime: Runtime | None = None
_WARNED_UNPRICED: set[str] = set()  # one warning per model per process


def default_runtime() -> Runtime:
    """A process-wide runtime (user cache dir, default prices) for scripts and notebooks."""
    global _default_runtime
    if _default_runtime is None:
        _default_runtime = Runtime.create()
    return _default_runtime


def open_model(spec: str, role: str = "policy", runtime: Runtime | None = None) -> ChatModel:
    return (runtime or default_runtime()).model(spec, role)
