"""Retries made visible: a backend reports each retry and its cause; whoever called it bills it.

A backend knows when it re-sends a request but nothing of roles or ledgers; the
:class:`~ads_bench.models.client.ChatModel` around it knows both. A context variable joins them
without threading a callback through every backend signature: ``ChatModel`` opens a
``retry_scope`` around ``backend.generate(...)`` and the backend calls ``report_retry(cause)``.
asyncio tasks copy the context they are created in, so a backend that fans a batch out to tasks
still reports into the scope of the call that made them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: why a request was sent again: the HTTP status class, a client-side timeout, a lost connection,
#: or a reply that came back but carried no usable answer (see ``backend.MalformedReply``)
CAUSES = ("429", "5xx", "timeout", "connection", "malformed")

_hook: ContextVar[Callable[[str], None] | None] = ContextVar("ads_bench_retry_hook", default=None)


@contextmanager
def retry_scope(callback: Callable[[str], None]) -> Iterator[None]:
    """Within this block, ``report_retry(cause)`` calls ``callback(cause)``."""
    token = _hook.set(callback)
    try:
        yield
    finally:
        _hook.reset(token)


def report_retry(cause: str) -> None:
    """Count one retry of a request; a no-op outside any scope (a backend used on its own)."""
    if cause not in CAUSES:
        raise ValueError(f"unknown retry cause {cause!r}: use one of {CAUSES}")
    callback = _hook.get()
    if callback is not None:
        callback(cause)
