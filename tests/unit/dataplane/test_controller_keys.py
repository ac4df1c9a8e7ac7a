"""Which NodePools get bootstrap tokens, and which hosted control plane a NodePool's change concerns."""

from __future__ import annotations

from typing import Any

from hcp.api import HostedControlPlane, NodePool
from hcp.dataplane.controller import DataPlaneController
from hcp.kube.apply import resource_of


class Cache:
    """What the controller reads of an informer: objects by namespace."""

    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects

    def list(self, namespace: str | None = None) -> list[Any]:
        return [o for o in self.objects if namespace is None or o.metadata.namespace == namespace]

    def add_handler(self, handler: Any) -> None:
        pass


def pool(name: str, *, cluster: str = "demo", platform: str = "None", namespace: str = "clusters",
         deleting: bool = False, replicas: int = 1) -> Any:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if deleting:
        metadata["deletionTimestamp"] = "2030-01-01T00:00:00Z"
    return resource_of(NodePool).from_dict({
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool", "metadata": metadata,
        "spec": {"clusterName": cluster, "replicas": replicas, "management": {"upgradeType": "Replace"},
                 "release": {"image": "registry.hcp.internal:5000/hcp/release:v1.37.1"},
                 "platform": {"type": platform}},
    })


CONTROL_PLANE = resource_of(HostedControlPlane).from_dict({
    "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
    "metadata": {"name": "demo", "namespace": "clusters-demo",
                 "annotations": {"hypershift.openshift.io/cluster": "clusters/demo"}},
    "spec": {},
})


def controller(pools: list[Any]) -> DataPlaneController:
    return DataPlaneController(None, None, control_planes=Cache([CONTROL_PLANE]), node_pools=Cache(pools))


def test_only_valid_live_pools_of_this_cluster_whose_machines_join_by_themselves_get_tokens():
    pools = [
        pool("joiners"),
        pool("simulated", platform="KWOK"),
        pool("leaving", deleting=True),
        pool("elsewhere", cluster="other"),
        pool("same-name-other-namespace", namespace="team"),
        pool("too-big", replicas=100000),
        pool("x" * 58),
    ]
    assert controller(pools)._token_pools(CONTROL_PLANE) == ["joiners"]


def test_a_pool_concerns_the_control_plane_of_its_cluster():
    assert DataPlaneController._control_plane_keys(pool("joiners")) == ["clusters-demo/demo"]
    assert DataPlaneController._control_plane_keys(pool("p", cluster="x", namespace="team")) == ["team-x/x"]
