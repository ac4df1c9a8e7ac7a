"""`spec.pausedUntil`: "true" pauses until removed, an RFC3339 time pauses until then (docs 12.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Pause:
    paused: bool
    resume_in: float | None = None
    """Seconds until a timed pause ends (a requeue brings reconciliation back)."""
    invalid: str | None = None
    """Why the value was not understood; an invalid value does not pause."""


def pause_state(paused_until: str | None, now: datetime | None = None) -> Pause:
    if not paused_until:
        return Pause(False)
    if paused_until.lower() == "true":
        return Pause(True)
    try:
        until = datetime.fromisoformat(paused_until.replace("Z", "+00:00"))
    except ValueError:
        return Pause(False, invalid=f'pausedUntil must be "true" or an RFC3339 time, not {paused_until!r}')
    if until.tzinfo is None:
        return Pause(False, invalid=f"pausedUntil {paused_until!r} needs a time zone (e.g. 2025-01-01T00:00:00Z)")
    remaining = (until - (now or datetime.now(UTC))).total_seconds()
    return Pause(True, resume_in=remaining + 1) if remaining > 0 else Pause(False)
