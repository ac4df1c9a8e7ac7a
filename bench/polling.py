"""Waiting for a condition in benchmarks: the time it became true, or a clear exit when it never does."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> float:
    """The monotonic time at which `predicate` first held (looked at every `interval` seconds)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic()
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
