"""What the NodePool controller does with a hosted cluster's pods: a change of one concerns only the pools whose
pass reads pods (drains, autoscaling), and a look at the Nodes alone goes through none."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from lightkube.resources.core_v1 import Node, Pod

from hcp.operator.nodepool.controller import pod_event_pools
from hcp.operator.nodepool.machines import DRAINING_ANNOTATION, UPDATING_ANNOTATION, observe
from hcp.platforms import NODE_POOL_LABEL, Machine


def node(pool: str | None, **annotations: str) -> Node:
    labels = {NODE_POOL_LABEL: pool} if pool else {}
    return Node.from_dict({"apiVersion": "v1", "kind": "Node",
                           "metadata": {"name": "n1", "labels": labels, "annotations": annotations}})


def pod(node_name: str | None = None, *, unschedulable: bool = False) -> Pod:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                            "spec": {"containers": [{"name": "c", "image": "pause"}]},
                            "status": {"phase": "Pending"}}
    if node_name:
        body["spec"]["nodeName"] = node_name
        body["status"]["phase"] = "Running"
    if unschedulable:
        body["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    return Pod.from_dict(body)


class Asked:
    """The cluster's autoscaled pools, counting how often they were asked for."""

    def __init__(self, *pools: str) -> None:
        self.pools, self.calls = list(pools), 0

    def __call__(self) -> list[str]:
        self.calls += 1
        return self.pools


def test_a_pod_on_a_node_of_a_fixed_size_pool_concerns_no_pool():
    assert pod_event_pools(pod("n1"), node("workers"), Asked("other")) == []


def test_a_pod_on_a_draining_or_updating_node_concerns_its_pool():
    assert pod_event_pools(pod("n1"), node("workers", **{DRAINING_ANNOTATION: "2026-01-01T00:00:00Z"}),
                           Asked()) == ["workers"]
    assert pod_event_pools(pod("n1"), node("workers", **{UPDATING_ANNOTATION: "2026-01-01T00:00:00Z"}),
                           Asked()) == ["workers"]


def test_a_pod_on_a_node_of_an_autoscaled_pool_concerns_that_pool_only():
    assert pod_event_pools(pod("n1"), node("auto"), Asked("auto", "auto-2")) == ["auto"]


def test_a_pod_on_a_node_not_in_the_cache_or_of_no_pool_concerns_none():
    asked = Asked("auto")
    assert pod_event_pools(pod("n1"), None, asked) == []
    assert pod_event_pools(pod("n1"), node(None), asked) == []
    assert asked.calls == 0


def test_an_unschedulable_pod_concerns_every_autoscaled_pool_of_the_cluster():
    assert pod_event_pools(pod(unschedulable=True), None, Asked("a", "b")) == ["a", "b"]


def test_a_pending_pod_the_scheduler_has_not_judged_concerns_none_and_asks_nothing():
    asked = Asked("a")
    assert pod_event_pools(pod(), None, asked) == []
    assert asked.calls == 0


class Cache:
    def __init__(self, *objects: Any) -> None:
        self.objects = {o.metadata.name: o for o in objects}
        self.lists = 0

    def get(self, namespace: str | None, name: str) -> Any | None:
        return self.objects.get(name)

    def list(self, namespace: str | None = None) -> list[Any]:
        self.lists += 1
        return list(self.objects.values())


def test_observe_gives_each_machine_its_node_and_pods_or_with_pods_false_lists_no_pod():
    access = SimpleNamespace(nodes=Cache(node("workers")), pods=Cache(pod("n1")))
    machine = Machine(name="n1", created=datetime(2026, 1, 1, tzinfo=UTC), node_name="n1")
    [view] = observe([machine], access)
    assert view.node is access.nodes.objects["n1"] and [p.metadata.name for p in view.pods] == ["p"]
    [view] = observe([machine], access, pods=False)
    assert view.node is access.nodes.objects["n1"] and view.pods == ()
    assert access.pods.lists == 1
