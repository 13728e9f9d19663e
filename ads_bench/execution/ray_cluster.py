"""The generic half of ``--executor ray``: connecting, the hub, a worker's runtime, draining.

The driver (the process that runs the command) stays the only writer of its folder:

- a :class:`RunHub` actor, pinned to the driver's node, owns the driver's response cache for
  the workers (:class:`HubCache`: ``get``/``get_many``/``put``), so calls made on the cluster
  are in the driver's cache and a rerun on one machine makes none, and the reverse;
- a worker's ledger writes each record (a ``start`` before a call is sent, the ``call`` when it
  returns, fees, retries) to the hub as it happens (:class:`HubSink`), tagged with the worker's
  ``node`` and the ``task`` it ran; so does a worker with each record it finishes (``emit``);
- the driver drains the hub while it waits on the tasks and writes what it drains where the
  local path writes it (:meth:`RayCluster.drain_until_done`, :meth:`RayCluster.streaming`).

What runs on a worker is the caller's: ``pipeline/ray_executor.py`` (a task's chain),
``optimizer/ray_rewards.py`` (a trajectory's reward evaluation).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.extras import require
from ads_bench.models.cache import ResponseCache
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import PriceTable
from ads_bench.models.types import Completion

#: how often a lost worker's task is run again (Ray retries system failures, not the task's errors)
MAX_RETRIES = 3
#: seconds between drains of the hub while tasks run: how stale ledger.jsonl may be on disk
DRAIN_EVERY_S = 0.5

Drained = list[tuple[str, dict[str, Any]]]


# -- the hub: the driver's side of the cache and of every record a worker makes --------------------
class RunHub:
    """Runs as a Ray actor on the driver's node (see :meth:`RayCluster.start_hub`)."""

    def __init__(self, cache_path: str | None):
        self.cache = ResponseCache(Path(cache_path)) if cache_path else None
        self.outbox: list[tuple[str, dict[str, Any]]] = []
        self.emitted: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def get(self, key: str) -> Completion | None:
        return self.cache.get(key) if self.cache else None

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        return self.cache.get_many(keys) if self.cache else {}

    def put(self, key: str, model: str, completion: Completion) -> None:
        if self.cache:
            self.cache.put(key, model, completion)

    def emit(self, task_id: str, log: str, record: dict[str, Any]) -> None:
        """``log``: ``ledger`` or one of the caller's logs; kept in arrival order for the driver."""
        self.outbox.append((log, record))
        if log != "ledger":
            self.emitted.setdefault(task_id, []).append((log, record))

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        out, self.outbox = self.outbox, []
        return out

    def progress(self, task_id: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self.emitted.get(task_id, []))


class HubCache:
    """The response cache's interface in a worker, answered by the hub's cache."""

    def __init__(self, hub: Any):
        self.hub = hub

    def get(self, key: str) -> Completion | None:
        import ray

        return ray.get(self.hub.get.remote(key))

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        import ray

        return ray.get(self.hub.get_many.remote(list(keys))) if keys else {}

    def put(self, key: str, model: str, completion: Completion) -> None:
        import ray

        ray.get(self.hub.put.remote(key, model, completion))  # stored before the call counts as done


class HubSink:
    """A worker ledger's sink (:class:`~ads_bench.models.ledger.LedgerSink`'s interface): each
    record reaches the hub before the worker goes on, so a worker killed mid-task loses none."""

    def __init__(self, hub: Any, task_id: str, node: str):
        self.hub, self.task_id, self.node = hub, task_id, node
        self._prefix = f"w-{uuid.uuid4().hex[:12]}"  # unique per attempt: a retry's ids are new
        self._ids = itertools.count(1)

    def next_call_id(self) -> str:
        return f"{self._prefix}/{next(self._ids)}"

    def write(self, record: dict[str, Any]) -> None:
        import ray

        ray.get(self.hub.emit.remote(self.task_id, "ledger", {**record, "node": self.node, "task": self.task_id}))


def worker_runtime(hub: Any, task_id: str, prices: PriceTable, cached: bool) -> Runtime:
    """A worker's runtime: the driver's cache through the hub, every ledger record to the hub,
    tagged with this node and ``task_id``."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    runtime = Runtime(cache=HubCache(hub) if cached else None, prices=prices)  # type: ignore[arg-type]
    runtime.ledger.attach(HubSink(hub, task_id, node))  # type: ignore[arg-type]
    return runtime


# -- the driver -------------------------------------------------------------------------------
def check_reachable(address: str, timeout: float = 5.0) -> None:
    """One line, at once, for a ``host:port`` nobody listens on (ray.init would retry for minutes)."""
    if address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"Ray address '{address}' is not host:port: pass the address `ray start --head` printed")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UserError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): start it with "
                        "`ray start --head`, or pass its address with --ray-address") from exc


def raise_failure(ref: Any) -> Any:
    """A finished task's result; its own error raised as the local path raises it, a worker lost
    more often than Ray retries as one line."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the task's own error, as the local path raises it
        cause = getattr(exc, "cause", None)
        raise (cause if isinstance(cause, Exception) else exc) from None
    except ray.exceptions.RayError as exc:  # its worker died more often than Ray retries
        raise UserError(f"a Ray task failed {MAX_RETRIES + 1} times ({exc.__class__.__name__}): "
                        "check the cluster (`ray status`) and rerun the command to resume") from exc


@dataclass
class RayCluster:
    """A connection to a Ray cluster; ``address``: ``--ray-address``, else ``RAY_ADDRESS``, else a
    Ray instance started on this machine."""

    address: str | None = None
    _started_here: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        require("ray", "the Ray executor (--executor ray)")  # one line before anything runs
        self.address = self.address or os.environ.get("RAY_ADDRESS") or None

    def connect(self) -> None:
        import ray

        if ray.is_initialized():  # a driver already connected (a test's cluster, a notebook)
            return
        if self.address:
            check_reachable(self.address)
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING,
                     **({} if self.address else {"include_dashboard": False}))
        except ConnectionError as exc:
            raise UserError(f"cannot connect to the Ray cluster at {self.address} ({exc}): start it with "
                            "`ray start --head`, or pass its address with --ray-address") from exc
        self._started_here = True

    def close(self) -> None:
        import ray

        if self._started_here and ray.is_initialized():
            ray.shutdown()
            self._started_here = False

    def start_hub(self, runtime: Runtime) -> Any:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        actor = ray.remote(RunHub).options(  # on the driver's node, where its cache file is; no CPU
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False))
        return actor.remote(str(runtime.cache.path) if runtime.cache is not None else None)

    async def drain_until_done(self, pending: list[Any], hub: Any, write: Callable[[Drained], None]) -> None:
        """Wait on every task in ``pending``, writing what the hub holds every DRAIN_EVERY_S; the
        first failure is raised (the rest cancelled) once its billing is written; the hub is
        killed at the end."""
        import ray

        try:
            while pending:
                done, pending = await asyncio.to_thread(ray.wait, pending, num_returns=1, timeout=DRAIN_EVERY_S)
                write(ray.get(hub.drain.remote()))  # a finished task's records are all in the hub by now
                for ref in done:
                    raise_failure(ref)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            write(ray.get(hub.drain.remote()))  # the billing of whatever ran, even on an error
            ray.kill(hub)

    @contextlib.asynccontextmanager
    async def streaming(self, runtime: Runtime, write: Callable[[Drained], None]) -> AsyncIterator[Any]:
        """A hub for tasks submitted while the body runs (their number not known up front), drained
        every DRAIN_EVERY_S and once more at the end, error or not; the body awaits each task with
        :meth:`result`."""
        import ray

        self.connect()
        hub = self.start_hub(runtime)

        async def drain() -> None:
            write(await asyncio.to_thread(lambda: ray.get(hub.drain.remote())))

        async def every() -> None:
            while True:
                await asyncio.sleep(DRAIN_EVERY_S)
                await drain()

        drainer = asyncio.create_task(every())
        try:
            yield hub
        finally:
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer
            await drain()  # the billing of whatever ran, even on an error
            ray.kill(hub)

    @staticmethod
    async def result(ref: Any) -> Any:
        """A task's result, awaited without blocking the event loop (errors as :func:`raise_failure`)."""
        with contextlib.suppress(Exception):  # raised below, mapped
            await asyncio.wrap_future(ref.future())  # no thread held while it runs
        return raise_failure(ref)
