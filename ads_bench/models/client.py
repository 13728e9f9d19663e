"""The one chat-model interface everything else uses: a backend plus cache, ledger and role.

``ChatModel.generate(requests)`` answers a batch of requests. Per request it first looks up
each of its ``n`` samples in the response cache, sends only what is missing to the backend,
stores every successful sample, and records calls, cache hits, retries, tokens, seconds and
dollars in the ledger under this model's role (and the acquisition API in scope, if any).

Single-flight: a sample that another ``generate`` call on the same runtime is computing right now
(same cache key) is not sent again; this call waits for that one and shares its completion, so
identical requests in flight at once reach the engine once, whatever the caching. A shared
completion is billed like a cache hit: it is exactly what a later identical call would have read
from the cache, so concurrent and sequential runs record the same ledger.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ads_bench.errors import UserError
from ads_bench.models.backend import Backend, MalformedReply, create_backend, malformed_reason
from ads_bench.models.cache import ResponseCache, request_key
from ads_bench.models.ledger import FREE, Ledger, Price, PriceTable
from ads_bench.models.local_price import local_price
from ads_bench.models.retries import retry_scope
from ads_bench.models.spec import ModelSpec, parse_spec
from ads_bench.models.types import ROLES, CallRecord, ChatRequest, ChatResponse, Completion

log = logging.getLogger(__name__)


#: what a sample computed by one call gives the calls sharing it: a completion, or the error
_Outcome = tuple[Completion | None, str | None]


@dataclass
class _Pending:
    """A request with some samples still to compute; ``indices`` are the slots this call computes."""

    positions: list[int]  # every batch position asking exactly this request
    request: ChatRequest
    keys: list[str]
    found: dict[int, Completion]
    indices: list[int]
    #: slots an identical request elsewhere is computing now: this call waits for them
    shared: dict[int, asyncio.Future[_Outcome]] = field(default_factory=dict)
    #: slots this call computes and announced, so that others can wait for them
    owned: dict[int, asyncio.Future[_Outcome]] = field(default_factory=dict)


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
        #: which repeat of a measurement this model's calls are (``--repeats``; 0: an ordinary call)
        self.repeat = 0

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
        model = ChatModel(self.spec, self.backend, role, self.runtime)
        model.repeat = self.repeat
        return model

    def for_repeat(self, repeat: int) -> ChatModel:
        """The same loaded model, asked again as repeat ``repeat`` of a measurement (``--repeats``).

        Its cache keys carry the index, so repeat r is computed by the engine once, never answered
        from another repeat's cache entry (the cache is bypassed for it, which is what measures
        the engine's own nondeterminism), billed as its own call, and replayed free when the
        command is rerun. Repeat 0 is the ordinary call: its keys are unchanged.
        """
        model = ChatModel(self.spec, self.backend, self.role, self.runtime)
        model.repeat = repeat
        return model

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
        identity = self.backend.identity if not self.repeat else {**self.backend.identity, "repeat": self.repeat}
        hits: list[tuple[int, ChatResponse]] = []
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
                hits.append((i, ChatResponse(request, [found[j] for j in range(len(keys))])))
                continue
            group = tuple(keys)
            if group in pending:  # the same request twice in one batch is computed once
                pending[group].positions.append(i)
                continue
            missing = [j for j in range(len(keys)) if j not in found]
            pending[group] = _Pending([i], request, keys, found, missing)
        # claim before the first yield: between the cache lookup and the claim no other call may
        # finish a sample (stored, then no longer in flight) that this one would then recompute
        for job in pending.values():
            self._claim(job)
        for i, response in hits:
            for j, completion in enumerate(response.completions):
                self._record(CallRecord(
                    completion.usage.prompt_tokens, completion.usage.completion_tokens, 0.0, cached=True
                ), answered={all_keys[i][j]: completion})
            yield i, response
        if not pending:
            return

        computing = [job for job in pending.values() if job.indices]
        size = max(1, self.backend.batch_size)
        chunks = [computing[s : s + size] for s in range(0, len(computing), size)]
        chunks += [[job] for job in pending.values() if not job.indices]  # only waiting for others
        tasks: list[asyncio.Task] = []
        try:
            if computing:
                await self.start()
            tasks = [asyncio.create_task(self._run_chunk(chunk)) for chunk in chunks]
            for finished in asyncio.as_completed(tasks):
                for job, response in await finished:
                    for position in job.positions:
                        yield position, replace(response, request=requests[position])
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for job in pending.values():  # a chunk cancelled before it ever ran
                _settle(self.runtime, job, (None, "cancelled"))

    def _claim(self, job: _Pending) -> None:
        """Wait for the slots an identical in-flight request is computing; announce the others."""
        loop = asyncio.get_running_loop()
        in_flight = self.runtime._in_flight
        shared = {j: in_flight[job.keys[j]] for j in job.indices if _live(in_flight.get(job.keys[j]), loop)}
        rest = [j for j in job.indices if j not in shared]
        if rest and rest != list(range(rest[0], rest[0] + len(rest))):
            # a refill computes consecutive slots from one shifted seed; rather than seed each
            # slot of a gapped set apart, compute all that is missing (a rare case: partial refills)
            shared, rest = {}, job.indices
        job.shared, job.indices = shared, rest
        for j in rest:
            if not _live(in_flight.get(job.keys[j]), loop):
                job.owned[j] = in_flight[job.keys[j]] = loop.create_future()

    async def _run_chunk(self, jobs: list[_Pending]) -> list[tuple[_Pending, ChatResponse]]:
        try:
            computed = await self._compute([job for job in jobs if job.indices])
        except asyncio.CancelledError:
            for job in jobs:
                _settle(self.runtime, job, (None, "cancelled: the identical request it shared was cancelled"))
            raise
        finally:
            for job in jobs:  # whatever happened, nobody may wait forever for these slots
                _settle(self.runtime, job, (None, "the call computing this request failed"))
        out = []
        for job in jobs:
            outcome = computed.get(id(job), {})
            if isinstance(outcome, str):
                out.append((job, ChatResponse(job.request, [], error=outcome)))
            else:
                out.append((job, await self._with_shared(job, outcome)))
        return out

    async def _compute(self, jobs: list[_Pending]) -> dict[int, dict[int, Completion] | str]:
        """Send each job's own slots to the backend: per job (by ``id``) its completions by slot,
        or the error that failed it."""
        if not jobs:
            return {}
        sub_requests = [self._missing_request(job) for job in jobs]
        # logged before sending: a call the process dies with in flight stays visible as unconfirmed
        call_ids = {id(job): self._record_started(job) for job in jobs}
        with retry_scope(self._record_retry):
            results = await self.backend.generate(sub_requests)
        out: dict[int, dict[int, Completion] | str] = {}
        for job, result in zip(jobs, results, strict=True):
            if not isinstance(result, BaseException) and malformed_reason(result, len(job.indices)):
                # whatever the backend: a reply without a usable answer is a failed call, never
                # cached nor handed on (the HTTP backend has already retried it)
                result = MalformedReply(f"malformed reply: {malformed_reason(result, len(job.indices))}")
            if isinstance(result, BaseException):
                if isinstance(result, UserError):
                    self._record(CallRecord(0, 0, 0.0, failed=True), call_id=call_ids[id(job)])
                    raise result
                if not isinstance(result, Exception):  # cancellation and the like propagate
                    raise result
                self._record(CallRecord(0, 0, 0.0, failed=True), call_id=call_ids[id(job)])
                log.debug("model call failed: %r", result)
                out[id(job)] = _describe(result)
                _settle(self.runtime, job, (None, out[id(job)]))  # type: ignore[arg-type]
                continue
            by_slot = {}
            for slot, completion in zip(job.indices, result, strict=False):
                by_slot[slot] = replace(completion, sample_index=slot, cached=False)
                if self.runtime.cache is not None:
                    self.runtime.cache.put(job.keys[slot], self.label, by_slot[slot])
                _settle(self.runtime, job, (by_slot[slot], None), slot)  # stored first, then released
            self._record(
                CallRecord(
                    sum(c.usage.prompt_tokens for c in result),
                    sum(c.usage.completion_tokens for c in result),
                    max((c.latency_s for c in result), default=0.0),
                    engine_cached_prompt_tokens=sum(c.usage.cached_prompt_tokens for c in result),
                ),
                answered={job.keys[slot]: c for slot, c in by_slot.items()}, call_id=call_ids[id(job)],
            )
            out[id(job)] = by_slot
        return out

    async def _with_shared(self, job: _Pending, computed: dict[int, Completion]) -> ChatResponse:
        """The job's full response: cached, computed, and (once done) shared with other calls."""
        by_slot = {**job.found, **computed}
        for slot, future in job.shared.items():
            completion, error = await future
            if completion is None:
                return ChatResponse(job.request, [], error=error)
            by_slot[slot] = replace(completion, sample_index=slot, cached=True)
            self._record(CallRecord(
                completion.usage.prompt_tokens, completion.usage.completion_tokens, 0.0, cached=True
            ), answered={job.keys[slot]: completion})
        return ChatResponse(job.request, [by_slot[j] for j in range(len(job.keys))])

    @staticmethod
    def _missing_request(job: _Pending) -> ChatRequest:
        if job.indices == list(range(len(job.keys))):
            return job.request
        params = job.request.params
        # a refill must not replay the samples already cached: shift the seed past them
        seed = None if params.seed is None else params.seed + job.indices[0]
        return replace(job.request, params=replace(params, n=len(job.indices), seed=seed))

    def _record_retry(self, cause: str) -> None:
        self.runtime.ledger.record_retry(role=self.role, model=self.label, cause=cause)

    def _record_started(self, job: _Pending) -> str | None:
        keys = [job.keys[j] for j in job.indices]
        return self.runtime.ledger.record_started(role=self.role, model=self.label, keys=keys)

    def _record(
        self, call: CallRecord, *, answered: dict[str, Completion] | None = None, call_id: str | None = None
    ) -> None:
        """``answered``: the completions by request key, so the run's cost counts each key once."""
        price = self.price()
        samples = {key: (c.usage.prompt_tokens, c.usage.completion_tokens,
                         price.cost(c.usage.prompt_tokens, c.usage.completion_tokens))
                   for key, c in (answered or {}).items()}
        self.runtime.ledger.record(role=self.role, model=self.label, call=call,
                                   cost_usd=price.cost(call.prompt_tokens, call.completion_tokens),
                                   samples=samples, call_id=call_id)


def _live(future: asyncio.Future | None, loop: asyncio.AbstractEventLoop) -> bool:
    """An in-flight sample one can wait for (one left by a dead event loop never resolves)."""
    return future is not None and not future.done() and future.get_loop() is loop


def _settle(runtime: Runtime, job: _Pending, outcome: _Outcome, slot: int | None = None) -> None:
    """Resolve the job's announced slots (one, or all still open) and stop announcing them."""
    for j in [slot] if slot is not None else list(job.owned):
        future = job.owned.pop(j, None)
        if future is None:
            continue
        if not future.done():
            future.set_result(outcome)
        if runtime._in_flight.get(job.keys[j]) is future:
            del runtime._in_flight[job.keys[j]]


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
    #: samples being computed right now, by cache key, so identical requests share one call
    _in_flight: dict[str, asyncio.Future] = field(default_factory=dict)

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
        if backend.price_name is None:  # a local engine: its hosted-equivalent price, never $0
            return local_price(self.prices, backend.name)[0]
        price = self.prices.lookup(backend.price_name)
        if price is None and spec.backend == "http":
            # a server of an open model the table does not list (a vLLM replica of Gemma-2-9B):
            # self-hosted, so the hosted equivalent of its size, as for a local engine, never $0
            return local_price(self.prices, backend.price_name)[0]
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
