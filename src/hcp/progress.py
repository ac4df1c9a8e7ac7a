"""Progress lines for long operations: one line per step, with the time elapsed since the start.

A step of minutes (a Go build) is shown while it runs by `ticking`: on a terminal
one line rewritten in place about once a second, elsewhere (CI logs, pipes) a
plain line every half minute, then a line with its duration. A live line is
cut to the terminal's width, so that it can be rewritten in place. click's
progressbar draws only when the caller advances it and prints nothing but its
label when not on a terminal, so it cannot show a step that blocks in a
subprocess; hence this small helper.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Clock = Callable[[], float]

LIVE_EVERY = 1.0
"""Seconds between rewrites of a step's line on a terminal."""
PLAIN_EVERY = 30.0
"""Seconds between a step's plain lines when the output is not a terminal."""

_CLEAR_LINE = "\r\x1b[K"  # back to column 0, erase to the end of the line


def duration(seconds: float) -> str:
    """Elapsed time as a person reads it: `7s`, `2m10s`."""
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, *, clock: Clock = time.monotonic,
                 columns: Callable[[], int] | None = None):
        self.clock = clock
        self.started = clock()
        self.stream = stream or sys.stderr  # looked up now, so redirected stderr (tests, callers) is honoured
        self.quiet = quiet
        self.columns = columns or (lambda: shutil.get_terminal_size().columns)
        """The terminal's width, asked at each live line (the window may be resized)."""
        self._live = False  # a line written by live() is on screen, not yet ended

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def tty(self) -> bool:
        """Whether lines can be rewritten in place (a terminal, not a log file or pipe)."""
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _line(self, message: str) -> str:
        return f"[{self.elapsed:6.1f}s] {message}"

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        prefix = _CLEAR_LINE if self._live else ""
        self._live = False
        print(prefix + self._line(message), file=self.stream, flush=True)

    def live(self, message: str) -> None:
        """Show `message` in place of the previous live line (terminals only); the next call ends it.

        Cut to the terminal's width: a line that wraps cannot be rewritten in place (the carriage return
        goes back to the start of its last row only), and the screen would fill with copies.
        """
        if self.quiet:
            return
        line = self._line(message)
        width = max(20, self.columns() - 1)
        if len(line) > width:
            line = line[:width - 1] + "…"
        self.stream.write(_CLEAR_LINE + line)
        self.stream.flush()
        self._live = True


class Ticker:
    """What a running step shows, and when: decided by the clock, written by `log`."""

    def __init__(self, log: Callable[[str], None], label: str, doing: str, clock: Clock | None = None,
                 detail: str = ""):
        progress = log if isinstance(log, Progress) else None
        self.write = progress.live if progress and progress.tty else log
        self.every = LIVE_EVERY if progress and progress.tty else PLAIN_EVERY
        self.clock = clock or (progress.clock if progress else time.monotonic)
        self.label, self.doing = label, doing
        self.detail = detail
        """Said after the elapsed time (what is built, what remains): on a narrow terminal it is what is cut."""
        self.started = self.clock()
        self._shown: float | None = None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def tick(self) -> None:
        """Show the step's line if it has not been shown within `every` seconds."""
        now = self.clock()
        if self._shown is not None and now - self._shown < self.every:
            return
        self._shown = now
        detail = f" ({self.detail})" if self.detail else ""
        self.write(f"{self.label}: {self.doing}… {duration(now - self.started)}{detail}")


@contextmanager
def ticking(log: Callable[[str], None], label: str, doing: str = "building", done: str = "built",
            clock: Clock | None = None, detail: str = "") -> Iterator[Ticker]:
    """Show the step `label` while the body runs (`label: building… 2m10s (detail)`), then `label: built in
    2m10s` (or `failed after`)."""
    ticker = Ticker(log, label, doing, clock, detail)
    ticker.tick()
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(LIVE_EVERY):
            ticker.tick()

    thread = threading.Thread(target=run, name=f"ticking {label}", daemon=True)
    thread.start()
    outcome = "failed after"
    try:
        yield ticker
        outcome = f"{done} in"
    finally:
        stop.set()
        thread.join()
        log(f"{label}: {outcome} {duration(ticker.elapsed)}")
