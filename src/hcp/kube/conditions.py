"""Status conditions the Kubernetes way (the conventions of apimachinery's meta.SetStatusCondition).

Controllers recompute every condition on every pass. For that to converge
instead of churning, setting a condition to what it already is must change
nothing, and lastTransitionTime must move only when the status flips: it
answers "since when has this been true/false", not "when did we last look".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from collections.abc import Sequence
from typing import Any

from hcp.api.meta import Condition, ConditionStatus
from hcp.kube.objects import as_dict

_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def conditions_of(live: Any) -> list[Condition]:
    """The conditions a live object reports, skipping any that do not parse (so they can be set anew)."""
    conditions = []
    for raw in (as_dict(live).get("status") or {}).get("conditions") or ():
        try:
            conditions.append(Condition.model_validate(raw))
        except ValueError:
            continue
    return conditions


def refused_status(live: Any, types: Sequence[str], message: str, reason: str = "InvalidConfiguration") -> dict:
    """The live object's status with each of `types` False for `reason`, quoting `message`; the rest kept.

    For objects a controller will not act on (invalid, not its own): they say
    why in one pass instead of failing on every pass.
    """
    conditions = conditions_of(live)
    for type_ in types:
        conditions = set_condition(conditions, type_, "False", reason, message, live.metadata.generation)
    return {**(as_dict(live).get("status") or {}), "conditions": [as_dict(c) for c in conditions]}


def find_condition(conditions: list[Condition] | None, type: str) -> Condition | None:
    return next((c for c in conditions or () if c.type == type), None)


def is_true(conditions: list[Condition] | None, type: str) -> bool:
    condition = find_condition(conditions, type)
    return condition is not None and condition.status == ConditionStatus.TRUE


def set_condition(
    conditions: list[Condition] | None,
    type: str,
    status: ConditionStatus | str,
    reason: str,
    message: str,
    observed_generation: int | None,
    *,
    now: datetime | None = None,
) -> list[Condition]:
    """A copy of `conditions` with `type` set; the input list is not modified.

    An existing condition keeps its place in the list (so repeated passes give
    the same order) and its lastTransitionTime unless the status changed; a new
    one is appended. `reason` must be CamelCase, as Kubernetes asks.
    """
    if not _CAMEL_CASE.match(reason):
        raise ValueError(f"condition reason {reason!r} must be CamelCase, e.g. AsExpected")
    status = ConditionStatus(status)
    conditions = list(conditions or ())
    existing = find_condition(conditions, type)
    if existing is not None and existing.status == status:
        transition = existing.last_transition_time
    else:
        transition = (now or datetime.now(UTC)).replace(microsecond=0)  # metav1.Time has second precision
    updated = Condition(
        type=type,
        status=status,
        reason=reason,
        message=message,
        observed_generation=observed_generation,
        last_transition_time=transition,
    )
    if existing is None:
        return [*conditions, updated]
    return [updated if c is existing else c for c in conditions]
