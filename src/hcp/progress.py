"""Progress lines for long operations: one line per step, with the time elapsed since the start."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.started = time.monotonic()
        self.stream = stream or sys.stderr  # looked up now, so redirected stderr (tests, callers) is honoured
        self.quiet = quiet

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.elapsed:6.1f}s] {message}", file=self.stream, flush=True)
