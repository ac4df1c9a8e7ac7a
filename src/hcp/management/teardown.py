"""Removing what the kernel releases asynchronously: a bounded wait, then one clear error.

Right after a node's processes are killed the kernel is still releasing them:
rmdir of a cgroup answers EBUSY while exiting tasks are being detached from it,
and removing a directory answers EBUSY or ENOTEMPTY while a dying process still
writes a file or holds a mount. These settle within moments, so teardown
retries what is busy for a bounded time; what stays busy past that is reported
as one `TeardownError` naming the path, never as a traceback.
"""

from __future__ import annotations

import errno
import shutil
import time
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 30.0
INTERVAL = 0.2
BUSY_ERRNOS = frozenset({errno.EBUSY, errno.ENOTEMPTY, errno.EAGAIN, errno.ENOENT})
"""Errors that mean "not yet": the kernel or a dying process still holds the path, or it changed under us."""


class TeardownError(RuntimeError):
    """A path that could not be removed; the message names it and why."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"cannot remove {path}: {reason}")
        self.path = Path(path)


Attempt = Callable[[], "list[tuple[Path, OSError]]"]


def until_removed(attempt: Attempt, *, timeout: float = TIMEOUT, interval: float = INTERVAL,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> None:
    """Run `attempt` until it reports nothing left, for at most `timeout` seconds.

    `attempt` does one removal pass and returns the (path, error) pairs that were
    busy; an error outside BUSY_ERRNOS is final and reported at once, because
    waiting will not change it (a permission, a read-only file system).
    """
    deadline = clock() + timeout
    while True:
        left = attempt()
        if not left:
            return
        for path, error in left:
            if error.errno not in BUSY_ERRNOS:
                raise TeardownError(path, error.strerror or str(error))
        path, error = left[0]
        if clock() >= deadline:
            raise TeardownError(path, f"{error.strerror or error} (still busy after {timeout:.0f}s)")
        sleep(interval)


def remove_tree(path: Path, *, timeout: float = TIMEOUT, interval: float = INTERVAL,
                sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic) -> None:
    """Remove a directory tree (absent is fine), retrying while parts of it are still busy."""

    def attempt() -> list[tuple[Path, OSError]]:
        if not path.exists() and not path.is_symlink():
            return []
        try:
            shutil.rmtree(path)
        except OSError as error:
            return [(Path(error.filename or path), error)]
        return []

    until_removed(attempt, timeout=timeout, interval=interval, sleep=sleep, clock=clock)
