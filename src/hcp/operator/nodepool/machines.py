"""What one pass of the NodePool controller observes: machines with their Nodes and the pods on them.

The only state the controller keeps is on the machines' Nodes, as annotations
(RFC 3339 times): when a removal's drain started, since when an autoscaled node
has been unneeded, since when an in-place update has been under way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hcp.platforms import Machine
from hcp.platforms.provider import Target
from hcp.platforms.hosted import HostedAccess

DRAINING_ANNOTATION = "hcp.io/draining-since"
"""On a Node: its machine is being removed, since this time (RFC 3339)."""
UNNEEDED_ANNOTATION = "hcp.io/unneeded-since"
"""On a Node of an autoscaled pool: it has had no workload since this time (RFC 3339)."""
UPDATING_ANNOTATION = "hcp.io/updating-since"
"""On a Node of an InPlace pool: it is cordoned, drained and updated where it stands, since this time (RFC 3339)."""


def node_digest(node: dict[str, Any]) -> str:
    """A digest of a Node (a dict) without what only says it is alive: its resourceVersion, managedFields and
    the conditions' lastHeartbeatTime (pure).

    A kubelet (or kwok) rewrites its Node now and then only to refresh those; nothing the NodePool controller
    decides reads them, so a Node event whose digest is the one last seen for that Node brings no pass. Every
    other change (labels, annotations, taints, conditions' status, reason and transition time, addresses,
    capacity, deletion) changes the digest.
    """
    metadata = {key: value for key, value in (node.get("metadata") or {}).items()
                if key not in ("resourceVersion", "managedFields")}
    status = dict(node.get("status") or {})
    if status.get("conditions"):
        status["conditions"] = [{key: value for key, value in condition.items() if key != "lastHeartbeatTime"}
                                for condition in status["conditions"]]
    text = json.dumps({"metadata": metadata, "spec": node.get("spec"), "status": status}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class MachineView:
    """A machine with what its Node and the pods on it say (compared by identity: one per machine and pass)."""

    machine: Machine
    node: Any | None
    pods: tuple[Any, ...] = ()
    """Pods on its Node that a drain evicts (not DaemonSet, mirror or finished pods)."""

    @property
    def name(self) -> str:
        return self.machine.name

    @property
    def draining_since(self) -> datetime | None:
        return _annotation_time(self.node, DRAINING_ANNOTATION)

    @property
    def unneeded_since(self) -> datetime | None:
        return _annotation_time(self.node, UNNEEDED_ANNOTATION)

    @property
    def updating_since(self) -> datetime | None:
        return _annotation_time(self.node, UPDATING_ANNOTATION)

    def runs(self, target: Target) -> bool:
        """Whether the machine runs the pool's target: the configuration its provider recorded, or, for a
        machine made before hcp recorded one, the target's kubelet version."""
        if self.machine.config is not None:
            return self.machine.config == target.config
        return self.kubelet_version == f"v{target.version}"

    @property
    def node_ready(self) -> bool:
        """Whether the Node says Ready (whatever hcp is doing with it)."""
        condition = _ready_condition(self.node)
        return condition is not None and condition.status == "True"

    @property
    def ready(self) -> bool:
        """Ready and serving: the Node is Ready, and neither being removed nor updated in place."""
        return self.node_ready and not self.draining_since and not self.updating_since

    @property
    def kubelet_version(self) -> str | None:
        info = self.node.status.nodeInfo if self.node is not None and self.node.status else None
        return info.kubeletVersion if info else None

    def not_ready_since(self) -> tuple[datetime, bool] | None:
        """Since when the Node has not been Ready, and whether it ever was; None while Ready."""
        condition = _ready_condition(self.node)
        if condition is None:
            return self.machine.created, False
        if condition.status == "True":
            return None
        return condition.lastTransitionTime, True


def _ready_condition(node: Any | None) -> Any | None:
    if node is None or node.status is None:
        return None
    return next((c for c in node.status.conditions or () if c.type == "Ready"), None)


def _annotation_time(node: Any | None, key: str) -> datetime | None:
    value = (node.metadata.annotations or {}).get(key) if node is not None else None
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Pods.


def _owned_by_daemonset(pod: Any) -> bool:
    return any(ref.kind == "DaemonSet" for ref in pod.metadata.ownerReferences or ())


def evictable(pod: Any) -> bool:
    """Whether draining a node must move this pod: not a DaemonSet's, not a mirror pod, not finished."""
    if _owned_by_daemonset(pod) or "kubernetes.io/config.mirror" in (pod.metadata.annotations or {}):
        return False
    return pod.status is None or pod.status.phase not in ("Succeeded", "Failed")


def unschedulable(pod: Any) -> bool:
    """A pod the scheduler found no node for (PodScheduled=False, reason Unschedulable)."""
    if pod.metadata.deletionTimestamp or pod.spec.nodeName or pod.status is None or pod.status.phase != "Pending":
        return False
    return any(c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
               for c in pod.status.conditions or ())


def observe(machines: Sequence[Machine], access: HostedAccess, *, pods: bool = True) -> list[MachineView]:
    """The machines with their Nodes and evictable pods, from the hosted cluster's caches; without `pods`,
    with no pods (a look at the Nodes only, which need not go through every pod of the cluster)."""
    pods_by_node: dict[str, list[Any]] = {}
    for pod in access.pods.list() if pods else ():
        if pod.spec.nodeName and evictable(pod):
            pods_by_node.setdefault(pod.spec.nodeName, []).append(pod)
    return [MachineView(m, access.nodes.get(None, m.node_name) if m.node_name else None,
                        tuple(pods_by_node.get(m.node_name or "", ()))) for m in machines]
