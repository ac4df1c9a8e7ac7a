"""spec.nodeLabels on the Nodes of joining pools: what a Node lacks is patched in, nothing else is touched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from lightkube.resources.core_v1 import Node
from lightkube.types import PatchType

from hcp.api import NodePool
from hcp.api.parse import parse
from hcp.operator.nodepool.controller import _Pass, label_patch
from hcp.operator.nodepool.machines import MachineView
from hcp.platforms import Machine
from tests.unit.nodepool.test_batches import api_error

WANTED = {"hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": "", "team": "a"}


def test_a_node_with_every_label_needs_no_patch():
    assert label_patch({**WANTED, "kubernetes.io/hostname": "n1", "extra": "kept"}, WANTED) == {}


def test_a_node_gets_only_the_labels_it_lacks_or_has_with_another_value():
    current = {"hypershift.openshift.io/nodePool": "workers", "team": "b", "kubernetes.io/hostname": "n1"}
    assert label_patch(current, WANTED) == {"node-role.kubernetes.io/worker": "", "team": "a"}


def test_a_node_without_labels_gets_them_all_and_labels_not_wanted_are_never_removed():
    assert label_patch(None, WANTED) == WANTED
    assert label_patch({"gone-from-spec": "x"}, {}) == {}, "a key dropped from spec.nodeLabels stays on the Node"


def test_an_empty_value_is_a_value():
    assert label_patch({"node-role.kubernetes.io/worker": "x"}, {"node-role.kubernetes.io/worker": ""}) == {
        "node-role.kubernetes.io/worker": ""}


def node(name: str, labels: dict[str, str], *, deleting: bool = False) -> Node:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if deleting:
        metadata["deletionTimestamp"] = "2030-01-01T00:00:00Z"
    return Node.from_dict({"apiVersion": "v1", "kind": "Node", "metadata": metadata})


def view(node_: Node | None, name: str) -> MachineView:
    return MachineView(Machine(name=name, created=datetime(2026, 1, 1, tzinfo=UTC), node_name=name), node_)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def record(self, obj, type_, reason, message):
        self.events.append((type_, reason, message))


class HostedClient:
    def __init__(self, gone: set[str] = frozenset()) -> None:
        self.patches: list[tuple[str, dict, PatchType]] = []
        self.gone = gone

    async def patch(self, resource, name, body, *, patch_type):
        assert resource is Node
        if name in self.gone:
            raise api_error(404, "not found")
        self.patches.append((name, body, patch_type))


def a_pass(labels: dict[str, str]) -> tuple[_Pass, Recorder]:
    pool, problem = parse(NodePool, {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
        "metadata": {"name": "workers", "namespace": "clusters"},
        "spec": {"clusterName": "demo", "replicas": 2, "management": {"upgradeType": "Replace"},
                 "release": {"image": "registry.hcp.internal:5000/hcp/release:v1.37.1"},
                 "platform": {"type": "None"}, "nodeLabels": labels},
    })
    assert pool is not None, problem
    events = Recorder()
    return _Pass(SimpleNamespace(events=events), None, pool, None), events


def test_the_pools_nodes_get_one_merge_patch_of_the_labels_they_lack():
    step, events = a_pass({"node-role.kubernetes.io/worker": "", "team": "a"})
    client = HostedClient(gone={"gone"})
    views = [
        view(node("fresh", {"hypershift.openshift.io/nodePool": "workers", "kubernetes.io/hostname": "fresh"}), "fresh"),
        view(node("done", {"hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": "",
                           "team": "a"}), "done"),
        view(node("leaving", {"hypershift.openshift.io/nodePool": "workers"}, deleting=True), "leaving"),
        view(None, "unregistered"),
        view(node("gone", {"hypershift.openshift.io/nodePool": "workers"}), "gone"),
    ]
    asyncio.run(step.keep_labels(SimpleNamespace(client=client), views))
    assert client.patches == [("fresh", {"metadata": {"labels": {"node-role.kubernetes.io/worker": "", "team": "a"}}},
                               PatchType.MERGE)]
    [(type_, reason, message)] = events.events
    assert (type_, reason) == ("Normal", "NodeLabelsApplied")
    assert message == "Applied labels node-role.kubernetes.io/worker, team of spec.nodeLabels to Nodes fresh"


def test_nothing_is_written_when_every_node_has_its_labels():
    step, events = a_pass({"team": "a"})
    client = HostedClient()
    views = [view(node("n1", {"hypershift.openshift.io/nodePool": "workers", "team": "a"}), "n1")]
    asyncio.run(step.keep_labels(SimpleNamespace(client=client), views))
    assert client.patches == [] and events.events == []


def test_a_machine_pod_concerns_its_pool_in_the_namespace_of_the_control_planes_hosted_cluster():
    """A machine pod deleted by anyone re-queues its pool: pod namespace -> HostedControlPlane -> HostedCluster."""
    from types import SimpleNamespace as Obj

    from hcp.api.names import CLUSTER_ANNOTATION
    from hcp.operator.nodepool import NodePoolController

    class Listing:
        def __init__(self, *objects):
            self.objects = objects

        def list(self, namespace=None):
            return [o for o in self.objects if namespace is None or o.metadata.namespace == namespace]

    control_plane = Obj(metadata=Obj(namespace="clusters-demo", annotations={CLUSTER_ANNOTATION: "clusters/demo"}))
    controller = NodePoolController.__new__(NodePoolController)
    controller.control_planes = Listing(control_plane)
    pod = Obj(metadata=Obj(namespace="clusters-demo", labels={"hypershift.openshift.io/nodePool": "workers"}))
    assert controller._machine_pool_keys(pod) == ["clusters/workers"]
    stray = Obj(metadata=Obj(namespace="elsewhere", labels={"hypershift.openshift.io/nodePool": "workers"}))
    assert controller._machine_pool_keys(stray) == []
    unlabelled = Obj(metadata=Obj(namespace="clusters-demo", labels={}))
    assert controller._machine_pool_keys(unlabelled) == []


def test_taints_added_to_a_pool_reach_its_nodes_and_others_are_kept():
    from hcp.operator.nodepool.controller import taints_update

    lifecycle = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}
    wanted = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert taints_update([lifecycle], [], wanted) == [lifecycle, wanted[0]]
    assert taints_update([lifecycle, *wanted], wanted, wanted) is None


def test_a_taint_removed_from_the_pool_is_removed_from_its_nodes_but_a_users_stays():
    from hcp.operator.nodepool.controller import taints_update

    old = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    user = {"key": "maintenance", "effect": "NoSchedule"}
    assert taints_update([old, user], [old], []) == [user]
    # Never recorded as the pool's (a Node from before hcp recorded them): left alone.
    assert taints_update([old, user], [], []) is None
