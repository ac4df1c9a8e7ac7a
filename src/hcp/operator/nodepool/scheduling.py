"""Scheduling arithmetic for autoscaling: what pods need, what a node offers, whether it would take them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from lightkube.utils.quantity import parse_quantity

_RESOURCES = ("cpu", "memory", "pods")

Resources = dict[str, Decimal]


def pod_requests(pod: Any) -> Resources:
    """What a pod needs of a node: its containers' requests (or an init container's, if more), and one pod slot."""

    def total(containers: Iterable[Any]) -> Resources:
        sums = {"cpu": Decimal(0), "memory": Decimal(0)}
        for container in containers:
            requests = (container.resources.requests or {}) if container.resources else {}
            for resource in sums:
                if resource in requests:
                    sums[resource] += parse_quantity(requests[resource])
        return sums

    main = total(pod.spec.containers or ())
    for init in pod.spec.initContainers or ():
        single = total([init])
        main = {resource: max(main[resource], single[resource]) for resource in main}
    return {**main, "pods": Decimal(1)}


def capacity_of(quantities: Mapping[str, str]) -> Resources:
    return {resource: parse_quantity(str(quantities[resource])) for resource in _RESOURCES}


def fits_in(need: Resources, free: Resources) -> bool:
    return all(need[resource] <= free[resource] for resource in _RESOURCES)


def _tolerates(tolerations: Sequence[Any], taint: Mapping[str, Any]) -> bool:
    for toleration in tolerations:
        if toleration.effect and toleration.effect != taint["effect"]:
            continue
        if toleration.operator == "Exists":
            if not toleration.key or toleration.key == taint["key"]:
                return True
        elif toleration.key == taint["key"] and (toleration.value or "") == (taint.get("value") or ""):
            return True
    return False


def _matches(expression: Any, labels: Mapping[str, str]) -> bool:
    value = labels.get(expression.key)
    match expression.operator:
        case "In":
            return value in (expression.values or ())
        case "NotIn":
            return value not in (expression.values or ())
        case "Exists":
            return expression.key in labels
        case "DoesNotExist":
            return expression.key not in labels
    return False


def schedulable_on(pod: Any, labels: Mapping[str, str], taints: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a node with these labels and taints would take the pod (selector, required affinity, taints)."""
    spec = pod.spec
    if any(labels.get(key) != value for key, value in (spec.nodeSelector or {}).items()):
        return False
    node_affinity = spec.affinity.nodeAffinity if spec.affinity else None
    required = node_affinity.requiredDuringSchedulingIgnoredDuringExecution if node_affinity else None
    if required and not any(all(_matches(e, labels) for e in term.matchExpressions or ())
                            for term in required.nodeSelectorTerms):
        return False
    hard = [t for t in taints if t["effect"] in ("NoSchedule", "NoExecute")]
    return all(_tolerates(spec.tolerations or (), taint) for taint in hard)


def nodes_needed(pending: Sequence[Resources], capacity: Resources, upcoming: int) -> int:
    """How many more nodes of `capacity` the pending pods need, after filling `upcoming` empty ones (first fit)."""
    free = [dict(capacity) for _ in range(upcoming)]
    opened = 0
    for need in sorted(pending, key=lambda r: (r["cpu"], r["memory"]), reverse=True):
        if not fits_in(need, capacity):
            continue  # no node of this pool can ever run it
        slot = next((f for f in free if fits_in(need, f)), None)
        if slot is None:
            slot = dict(capacity)
            free.append(slot)
            opened += 1
        for resource in _RESOURCES:
            slot[resource] -= need[resource]
    return opened

