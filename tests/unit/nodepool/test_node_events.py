"""Which Node events of a hosted cluster bring a NodePool pass: every change the pass could read, but not a
kubelet's (or kwok's) heartbeat that only refreshes lastHeartbeatTime."""

from __future__ import annotations

import copy
from types import SimpleNamespace

from lightkube.resources.core_v1 import Node

from hcp.kube.informer import ADDED, DELETED, MODIFIED
from hcp.operator.nodepool.controller import NodePoolController
from hcp.operator.nodepool.machines import node_digest
from hcp.platforms import NODE_POOL_LABEL


def node_body(version: str = "1", heartbeat: str = "2030-01-01T00:00:00Z", ready: str = "True") -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "resourceVersion": version, "labels": {NODE_POOL_LABEL: "pool"},
                         "managedFields": [{"manager": "kwok", "time": heartbeat}]},
            "spec": {"taints": []},
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady",
                                       "lastHeartbeatTime": heartbeat,
                                       "lastTransitionTime": "2029-12-31T00:00:00Z"}],
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.9"}]}}


def test_a_heartbeat_alone_does_not_change_the_digest():
    assert node_digest(node_body()) == node_digest(node_body(version="2", heartbeat="2030-01-01T00:05:00Z"))


def test_what_a_pass_reads_changes_the_digest():
    base = node_digest(node_body())
    assert node_digest(node_body(ready="False")) != base
    for change in (lambda b: b["metadata"]["labels"].update(extra="1"),
                   lambda b: b["metadata"].update(annotations={"hcp.io/draining-since": "2030-01-01T00:00:00Z"}),
                   lambda b: b["spec"]["taints"].append({"key": "k", "effect": "NoSchedule"}),
                   lambda b: b["spec"].update(unschedulable=True),
                   lambda b: b["metadata"].update(deletionTimestamp="2030-01-01T00:00:00Z"),
                   lambda b: b["status"]["addresses"][0].update(address="10.0.0.10")):
        body = node_body()
        change(body)
        assert node_digest(body) != base


def handler():
    """The controller's handler of one hosted cluster's events, with the keys it queues."""
    queued: list[str] = []
    owner = SimpleNamespace(controller=SimpleNamespace(queue=SimpleNamespace(add=queued.append)))
    handle = NodePoolController._hosted_event_handler(owner, "clusters", "demo", lambda name: None)
    return handle, queued


def test_only_events_that_change_something_but_the_heartbeat_bring_a_pass():
    handle, queued = handler()
    handle(ADDED, Node.from_dict(node_body()))
    assert queued == ["clusters/pool"]
    handle(MODIFIED, Node.from_dict(node_body(version="2", heartbeat="2030-01-01T00:05:00Z")))
    assert queued == ["clusters/pool"], "a heartbeat brings no pass"
    handle(MODIFIED, Node.from_dict(node_body(version="3", ready="False")))
    assert queued == ["clusters/pool"] * 2
    handle(DELETED, Node.from_dict(node_body(version="3", ready="False")))
    assert queued == ["clusters/pool"] * 3, "a deletion always does"
    handle(ADDED, Node.from_dict(copy.deepcopy(node_body(version="4"))))
    assert queued == ["clusters/pool"] * 4, "a Node of the same name made again does"
