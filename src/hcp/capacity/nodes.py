"""Which management-cluster nodes can host control planes, and what is already there.

hcp schedules control-plane pods (hcp.controlplane.components.component.adapt_pod) with a
toleration for `hypershift.openshift.io/control-plane=true:NoSchedule` (and for the one
cluster's `hypershift.openshift.io/cluster=<namespace>`), and a preference for nodes labelled
`hypershift.openshift.io/control-plane=true`. So a node counts when:

- it is schedulable (not cordoned) and not reported NotReady;
- it has no NoSchedule/NoExecute taint but the control-plane one: a node tainted for one
  hosted cluster (`hypershift.openshift.io/cluster`) is that cluster's, not spare capacity;
- it carries the control-plane label, when any node does (the docs' example, 2.2.4, counts
  the workers labelled as control-plane nodes); otherwise every such node counts;
- or, when the user names a node selector, it matches that instead of the label rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from lightkube.utils.quantity import parse_quantity

from hcp.capacity.formulas import POLICIES, SINGLE_REPLICA, NodeCapacity

CONTROL_PLANE_NODE_LABEL = "hypershift.openshift.io/control-plane"
"""The label and taint key of nodes meant for control planes (hcp.controlplane.components.component)."""
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def _tolerated(taint: Mapping[str, Any]) -> bool:
    return taint.get("effect") not in BLOCKING_EFFECTS or (
        taint.get("key") == CONTROL_PLANE_NODE_LABEL and taint.get("value") == "true")


def _ready(node: Mapping[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    return ready is None or ready.get("status") == "True"


def host_nodes(nodes: Iterable[Mapping[str, Any]], node_selector: Mapping[str, str] | None = None) -> list[dict]:
    """The nodes (as dicts) control planes can be scheduled to, by the rules of the module's docstring."""
    usable = [dict(n) for n in nodes
              if not (n.get("spec") or {}).get("unschedulable") and _ready(n)
              and all(_tolerated(t) for t in (n.get("spec") or {}).get("taints") or [])]

    def labels(node: Mapping[str, Any]) -> Mapping[str, str]:
        return (node.get("metadata") or {}).get("labels") or {}

    if node_selector:
        return [n for n in usable if all(labels(n).get(k) == v for k, v in node_selector.items())]
    labelled = [n for n in usable if labels(n).get(CONTROL_PLANE_NODE_LABEL) == "true"]
    return labelled or usable


def node_capacity(node: Mapping[str, Any]) -> NodeCapacity:
    """A node's allocatable CPU (cores), memory (bytes) and pods (its kubelet's maxPods, less nothing)."""
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    name = (node.get("metadata") or {}).get("name", "")

    def quantity(key: str) -> Fraction:
        value = allocatable.get(key)
        parsed = parse_quantity(str(value)) if value is not None else None
        return Fraction(parsed) if parsed is not None else Fraction(0)
    return NodeCapacity(name, quantity("cpu"), quantity("memory"), int(quantity("pods")))


def existing_control_planes(control_planes: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Availability policy -> how many HostedControlPlanes of it exist (one being deleted still holds its
    resources, so it counts)."""
    counts = {policy: 0 for policy in POLICIES}
    for plane in control_planes:
        policy = (plane.get("spec") or {}).get("controllerAvailabilityPolicy") or SINGLE_REPLICA
        counts[policy if policy in POLICIES else SINGLE_REPLICA] += 1
    return counts
