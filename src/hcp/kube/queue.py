"""The work queue between informers and reconcile workers.

Reconciliation is level-triggered: a key only says "look at this object
again", so a key queued many times while waiting is processed once, and a key
is never handled by two workers at once. A key re-added while it is being
processed is processed again afterwards, because the change that re-added it
may have come after the worker read the cache. Failures back off per key, and
requeue-after lets a controller come back when time alone changes the answer
(for example when a pausedUntil date passes).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import Callable

BASE_DELAY = 0.5
MAX_DELAY = 60.0


class ShutDown(Exception):
    """Raised by `WorkQueue.get` once the queue is shut down."""


class WorkQueue:
    """De-duplicating, delaying, rate-limited queue of keys, for one event loop.

    Every key handed out by `get` must be given back with `done`.
    """

    def __init__(
        self,
        *,
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._clock = clock
        self._ready: deque[str] = deque()
        self._dirty: set[str] = set()  # keys that need processing (ready, or re-added while processing)
        self._processing: set[str] = set()
        self._waiting: list[tuple[float, str]] = []  # heap of (due, key); stale entries are skipped
        self._due: dict[str, float] = {}  # earliest due time of each waiting key
        self._failures: dict[str, int] = {}
        self._wakeup = asyncio.Event()
        self._shut_down = False

    def __len__(self) -> int:
        """Keys ready to be handed out now."""
        self._promote_due()
        return len(self._ready)

    def depth(self) -> int:
        """Keys waiting for a worker now: the ready ones and the delayed ones whose time has come.

        Unlike len(), it moves nothing, so a metrics scrape leaves the queue exactly as it was.
        """
        now = self._clock()
        due = {key for key, at in self._due.items() if at <= now and key not in self._dirty
               and key not in self._processing}
        return len(self._ready) + len(due)

    def add(self, key: str) -> None:
        """Queue a key for processing as soon as a worker is free."""
        if self._shut_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._ready.append(key)
            self._wakeup.set()

    def add_after(self, key: str, seconds: float) -> None:
        """Queue a key once `seconds` have passed; an earlier pending time for the key wins."""
        if seconds <= 0:
            self.add(key)
            return
        if self._shut_down:
            return
        due = self._clock() + seconds
        if self._due.get(key, due + 1) <= due:
            return
        self._due[key] = due
        heapq.heappush(self._waiting, (due, key))
        self._wakeup.set()  # a getter may be sleeping until a later due time

    def add_rate_limited(self, key: str) -> float:
        """Queue a key after its failure backoff (base * 2^(failures-1), capped); returns the delay."""
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = min(self._max_delay, self._base_delay * 2 ** min(failures - 1, 64))
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        """Reset a key's backoff after it was processed successfully."""
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        """Consecutive failures since the key was last forgotten."""
        return self._failures.get(key, 0)

    async def get(self) -> str:
        """Wait for the next key and mark it as being processed; raises ShutDown once shut down."""
        while True:
            if self._shut_down:
                raise ShutDown
            self._promote_due()
            if self._ready:
                key = self._ready.popleft()
                self._dirty.discard(key)
                self._processing.add(key)
                return key
            self._wakeup.clear()
            timeout = self._waiting[0][0] - self._clock() if self._waiting else None
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                pass

    def done(self, key: str) -> None:
        """Finish processing a key; if it was re-added meanwhile, queue it again."""
        self._processing.discard(key)
        if key in self._dirty and not self._shut_down:
            self._ready.append(key)
            self._wakeup.set()

    def shut_down(self) -> None:
        """Stop handing out keys: every waiting and later `get` raises ShutDown."""
        self._shut_down = True
        self._wakeup.set()

    def _promote_due(self) -> None:
        now = self._clock()
        while self._waiting and self._waiting[0][0] <= now:
            due, key = heapq.heappop(self._waiting)
            if self._due.get(key) == due:
                del self._due[key]
                self.add(key)
