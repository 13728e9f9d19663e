"""What a backend is, and the registry that maps a spec's backend name to one.

A backend only talks to an engine: it knows nothing of caching, roles or costs, which the
:class:`~ads_bench.models.client.ChatModel` around it adds once for all backends.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from ads_bench.errors import UserError
from ads_bench.models.spec import ModelSpec
from ads_bench.models.types import ChatRequest, Completion
from ads_bench.registry import Registry

#: a backend returns, per request, its n completions or the exception that request raised
BackendResult = list[Completion] | BaseException


@runtime_checkable
class Backend(Protocol):
    #: a short display name (no secrets)
    name: str
    #: everything that changes outputs (weights hash, model name, adapter, engine): the cache key
    identity: dict[str, Any]
    #: the model name looked up in the price table, or None for a local engine (priced by its
    #: ``name`` at the hosted-equivalent figure: ``models/local_price.py``)
    price_name: str | None
    #: requests the engine prefers per ``generate`` call (1 = one per call, fanned out concurrently)
    batch_size: int
    #: tokens of context, where known
    context_window: int | None

    async def start(self) -> None:
        """Load weights or check the server is reachable; raise ModelUnavailable with the fix."""

    async def generate(self, requests: Sequence[ChatRequest]) -> list[BackendResult]: ...

    async def count_tokens(self, text: str) -> int: ...

    async def aclose(self) -> None: ...


def reproducibility(runtime: Any, specs: dict[str, str | None]) -> dict[str, Any]:
    """What a run with these models (role -> spec) can promise, for its ``environment.json``.

    A backend that promises an exact rerun says so in its ``reproducibility`` attribute (the
    embedded engine in its exact mode); every other one (HTTP servers and APIs, which batch as
    they like; transformers and vLLM, not verified) promises nothing.
    """
    models = {}
    for role, spec in specs.items():
        if spec:
            backend = runtime.model(spec, role=role).backend
            promise = getattr(backend, "reproducibility", None) or {
                "engine": backend.identity.get("engine"), "determinism": "not promised",
                "fresh_rerun_reproduces": False,
            }
            models[role] = {"spec": spec, **promise}
    return {
        # an exact rerun: another process with an empty response cache writes the same results
        "fresh_rerun_reproduces": all(m["fresh_rerun_reproduces"] for m in models.values()),
        "models": models,
    }


# Built-in backends, importable without installed entry points (e.g. running from a checkout);
# other packages add theirs under the entry-point group ``ads_bench.backends``, whose name is
# then also a spec scheme (``NAME:TARGET``, see ``models/spec.py``).
BACKENDS = Registry(
    "backends",
    builtins={
        "embedded": "ads_bench.models.embedded:EmbeddedBackend",
        "http": "ads_bench.models.openai_http:OpenAIBackend",
        "openai": "ads_bench.models.openai_http:OpenAIBackend",
        "hf": "ads_bench.models.hf:HFBackend",
        "vllm": "ads_bench.models.vllm_offline:VLLMBackend",
    },
)


def backend_names() -> dict[str, str]:
    """Backend name -> its implementation (``module:Class``)."""
    return {entry.name: entry.target for entry in BACKENDS}


def create_backend(spec: ModelSpec) -> Backend:
    if spec.backend not in BACKENDS:
        raise UserError(f"no backend named '{spec.backend}': known are {', '.join(BACKENDS.names())}")
    backend_cls = BACKENDS.load(spec.backend)
    return backend_cls(spec)


async def fan_out(
    requests: Sequence[ChatRequest],
    one: Callable[[ChatRequest], Awaitable[list[Completion]]],
) -> list[BackendResult]:
    """Run ``one`` for every request concurrently (the backend bounds its own concurrency)."""
    return list(await asyncio.gather(*(one(r) for r in requests), return_exceptions=True))


class MalformedReply(ValueError):
    """A reply that arrived but carries no usable answer: a transport fault, not an answer.

    Backends retry it with the same request where a retry can help (a remote server) and
    otherwise fail the call; it never reaches a parser and is never cached.
    """


def malformed_reason(completions: Sequence[Completion], n: int) -> str | None:
    """Why these ``n`` requested completions are not a usable reply, or None when they are.

    An empty text is a real (if bad) answer when the model chose to stop; empty with
    ``finish_reason: length`` means the token budget went somewhere we never saw (a truncated
    or broken reply). A NaN or infinite logprob can only come from a faulty engine, and would
    otherwise travel into a judgment and into JSON files as bare ``NaN``.
    """
    if not completions:
        return "no choices in the reply"
    if len(completions) < n:
        return f"{len(completions)} of {n} choices in the reply"
    for completion in completions:
        if not completion.text and completion.finish_reason == "length":
            return "empty content with finish_reason 'length'"
        for token in completion.logprobs or ():
            values = [token.logprob, *(logprob for _, logprob in token.top)]
            if not all(math.isfinite(v) for v in values):
                return f"non-finite logprob for token {token.token!r}"
    return None


def check_reply(completions: list[Completion], n: int) -> list[Completion]:
    """``completions`` when usable; else raise :class:`MalformedReply`."""
    reason = malformed_reason(completions, n)
    if reason is not None:
        raise MalformedReply(f"malformed reply: {reason}")
    return completions


def option(spec: ModelSpec, name: str, default: Any, kind: type = int) -> Any:
    value = spec.options.get(name, default)
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError) as exc:
        raise UserError(
            f"option {name}={value!r} in model spec '{spec.label}' must be a {kind.__name__}"
        ) from exc
