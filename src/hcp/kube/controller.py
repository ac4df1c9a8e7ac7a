"""Controllers (informers -> work queue -> reconcile) and the manager that runs them.

A controller's reconcile function gets a key and brings that one object's
world to its desired state, reading from informer caches. It is called again
whenever a watched object that maps to the key changes, after a failure (with
per-key backoff), and after `Result.requeue_after` seconds when asked. The
manager runs the controllers only while it holds the leader lease, and stops
on SIGTERM/SIGINT or when the lease is lost; everything is recomputed from the
caches on the next start, so stopping at any moment is safe.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hcp.kube.informer import Informer, KeyMapper
from hcp.kube.leader import LeaderElector
from hcp.kube.metrics import ERROR, REQUEUE_AFTER, SUCCESS, ControllerMetrics
from hcp.kube.objects import object_key
from hcp.kube.queue import ShutDown, WorkQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What a reconcile asks for besides success: to be called again after `requeue_after` seconds."""

    requeue_after: float | None = None


Reconcile = Callable[[str], Awaitable[Result | None]]


class Controller:
    def __init__(self, name: str, reconcile: Reconcile, *, workers: int = 1) -> None:
        self.name = name
        self.queue = WorkQueue()
        self.informers: list[Informer] = []
        self._reconcile = reconcile
        self._workers = workers
        self.instrument(ControllerMetrics())

    def instrument(self, metrics: ControllerMetrics) -> None:
        """Count reconciles into `metrics` (the Manager passes the registry it serves).

        Until then a private registry nobody scrapes counts them: every controller
        takes the same instrumented path, served or not.
        """
        self.metrics = metrics
        metrics.add_controller(self.name, self.queue, self._workers)

    def watch(self, informer: Informer, to_keys: KeyMapper | None = None) -> None:
        """Reconcile on changes to `informer`'s objects: the object itself (primary kind) or,
        for a secondary kind, the keys `to_keys` maps it to."""

        def enqueue(event: str, obj: Any) -> None:
            for key in to_keys(obj) if to_keys else (object_key(obj),):
                self.queue.add(key)

        informer.add_handler(enqueue)
        self.informers.append(informer)

    async def run(self) -> None:
        """Process keys with `workers` concurrent workers until cancelled."""
        try:
            async with asyncio.TaskGroup() as workers:
                for _ in range(self._workers):
                    workers.create_task(self._work())
        finally:
            self.queue.shut_down()

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self._process(key)
            finally:
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        context = {"controller": self.name, "key": key}
        active = self.metrics.active_workers.labels(self.name)
        active.inc()
        started = time.monotonic()
        try:
            result = await self._reconcile(key)
        except Exception:
            self.metrics.observe(self.name, ERROR, time.monotonic() - started)
            delay = self.queue.add_rate_limited(key)
            log.exception("reconcile failed", extra={**context, "retry_in": delay,
                                                     "failures": self.queue.failures(key)})
            return
        finally:
            active.dec()
        seconds = time.monotonic() - started
        self.queue.forget(key)
        requeue_after = result.requeue_after if result else None
        self.metrics.observe(self.name, SUCCESS if requeue_after is None else REQUEUE_AFTER, seconds)
        if requeue_after is not None:
            self.queue.add_after(key, requeue_after)
        log.debug("reconciled", extra={**context, "seconds": round(seconds, 3), "requeue_after": requeue_after})


STARTING, STANDBY, SYNCING, RUNNING, STOPPED = (
    "starting", "waiting for the leader lease", "loading informer caches", "running", "stopped")
"""The phases of Manager.run, as /readyz names them."""


class Manager:
    """Runs controllers and their informers, while leading if given a LeaderElector.

    With `metrics`, its controllers count into that (served) registry, and it
    publishes whether it leads.
    """

    def __init__(self, *, elector: LeaderElector | None = None, metrics: ControllerMetrics | None = None) -> None:
        self.controllers: list[Controller] = []
        self.informers: list[Informer] = []
        self.phase = STARTING
        self._elector = elector
        self._metrics = metrics
        self._stop = asyncio.Event()
        if metrics is not None and elector is not None:
            metrics.leader.labels(elector.name).set(0)

    def add(self, controller: Controller) -> None:
        if self._metrics is not None:
            controller.instrument(self._metrics)
        self.controllers.append(controller)

    def add_informer(self, informer: Informer) -> None:
        """Run an informer no controller watches (a cache read only by metrics), with the controllers'."""
        self.informers.append(informer)

    def readiness(self) -> tuple[bool, str]:
        """Ready while running with synced caches, and while standing by for the leader lease.

        A replica waiting for the lease is healthy and serves its metrics; were it
        not ready, a rolling update (the new pod must be ready before the old one,
        which holds the lease, is stopped) could never finish. A leader is not
        ready between winning the lease and its caches' first list, nor once stopped.
        """
        return self.phase in (STANDBY, RUNNING), self.phase

    def _set_leading(self, leading: bool) -> None:
        if self._metrics is not None and self._elector is not None:
            self._metrics.leader.labels(self._elector.name).set(1 if leading else 0)

    def stop(self) -> None:
        """Ask `run` to stop its controllers, release the lease and return."""
        self._stop.set()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Run until `stop` (or SIGTERM/SIGINT); raises LeaderLost if the lease is lost first.

        Informers start only once leading, and workers only once every informer
        has listed, so a reconcile never sees a half-filled cache.
        """
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for signum in signals:
            loop.add_signal_handler(signum, self.stop)
        tasks: list[asyncio.Task] = []
        try:
            if self._elector is not None:
                self.phase = STANDBY
                if not await self._unless_stopped(self._elector.acquire()):
                    return
                self._set_leading(True)
                tasks.append(asyncio.create_task(self._elector.hold(), name="lease"))
            self.phase = SYNCING
            informers = {id(i): i for i in [*self.informers, *(i for c in self.controllers for i in c.informers)]}.values()
            tasks += [asyncio.create_task(i.run(), name=repr(i)) for i in informers]
            synced = asyncio.gather(*(i.wait_synced() for i in informers))
            if not await self._unless_stopped(synced, watching=tasks):
                return
            tasks += [asyncio.create_task(c.run(), name=c.name) for c in self.controllers]
            self.phase = RUNNING
            await self._unless_stopped(loop.create_future(), watching=tasks)
        finally:
            self.phase = STOPPED
            self._set_leading(False)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._elector is not None:
                await self._elector.release()
            for signum in signals:
                loop.remove_signal_handler(signum)

    async def _unless_stopped(self, awaitable: Awaitable[Any], watching: Sequence[asyncio.Task] = ()) -> bool:
        """Await `awaitable` unless stop comes first (False); re-raise if a watched task ends first."""
        main = asyncio.ensure_future(awaitable)
        stop = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait([main, stop, *watching], return_when=asyncio.FIRST_COMPLETED)
        finally:
            main.cancel()
            stop.cancel()
        for task in watching:
            if task in done:
                task.result()  # LeaderLost, or a crash
                raise RuntimeError(f"{task.get_name()} stopped unexpectedly")
        if main in done:
            main.result()
            return True
        return False
