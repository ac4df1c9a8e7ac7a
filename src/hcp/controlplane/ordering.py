"""The order in which a control plane's components are updated (docs 6.7): etcd, then kube-apiserver, then the rest.

A pass applies the render stage by stage. A workload (Deployment or
StatefulSet) that already exists is updated only once every workload of the
earlier stages is rolled out on its current spec and available; until then it
keeps the spec it runs and is "held", which the HostedControlPlane's status
says. Workloads that do not exist yet are never held, so a new control plane
starts all its components at once; objects other than workloads (Services,
ConfigMaps, Secrets, PodDisruptionBudgets) are always applied.

Pure: the controller gives it the render and asks, as it applies, whether a
workload may be updated now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hcp.controlplane.labels import RENDERED_BY_LABEL

UPDATE_ORDER = ("etcd", "kube-apiserver")
"""Components updated first, in this order; every other component comes after them, together."""
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def stage(obj: Mapping[str, Any]) -> int:
    """The update stage of a rendered object: its component's place in UPDATE_ORDER, or after them."""
    component = (obj.get("metadata", {}).get("labels") or {}).get(RENDERED_BY_LABEL, "")
    return UPDATE_ORDER.index(component) if component in UPDATE_ORDER else len(UPDATE_ORDER)


def stages(rendered: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The render in update stages, each in render order."""
    grouped: list[list[Mapping[str, Any]]] = [[] for _ in range(len(UPDATE_ORDER) + 1)]
    for obj in rendered:
        grouped[stage(obj)].append(obj)
    return [group for group in grouped if group]


def is_workload(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") in WORKLOAD_KINDS
