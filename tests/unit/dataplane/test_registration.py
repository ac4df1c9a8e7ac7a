"""The pools' registration settings: what the data-plane controller publishes is what the ignition server reads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lightkube import ApiError
from lightkube.models.meta_v1 import Status
from lightkube.resources.core_v1 import ConfigMap

from hcp.api import HostedControlPlane, NodePool
from hcp.api.parse import parse
from hcp.controlplane.labels import MANAGED_BY_LABEL
from hcp.dataplane.controller import DataPlaneController
from hcp.ignition import nodeconfig
from hcp.dataplane.registration import CONFIGMAP, pool_registration, registration_configmap
from hcp.ignition.server import Registration
from hcp.ignition.server import pool_registration as served_registration
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict
from tests.unit.dataplane.test_controller_keys import CONTROL_PLANE, Cache, pool


NO_NODE_CONFIG = {"kubelet": {}, "files": [], "digest": nodeconfig.digest(nodeconfig.NodeConfig())}


def model(name: str, **spec: Any) -> NodePool:
    live = pool(name)
    body = as_dict(live)
    body["spec"].update(spec)
    parsed, problem = parse(NodePool, body)
    assert parsed is not None, problem
    return parsed


def test_a_pools_registration_is_its_node_labels_with_the_pool_label_and_its_taints():
    settings = pool_registration(model("workers", nodeLabels={"node-role.kubernetes.io/worker": "", "team": "a"},
                                       taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                                               {"key": "spot", "effect": "NoExecute"}]))
    assert settings == {
        "labels": {"hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": "", "team": "a"},
        "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                   {"key": "spot", "effect": "NoExecute"}],
        "node": NO_NODE_CONFIG,
    }


def test_the_pool_label_is_the_pools_own_name_whatever_node_labels_say():
    settings = pool_registration(model("workers", nodeLabels={"hypershift.openshift.io/nodePool": "other"}))
    assert settings == {"labels": {"hypershift.openshift.io/nodePool": "workers"}, "taints": [],
                        "node": NO_NODE_CONFIG}


def test_the_configmap_holds_each_pools_settings_under_its_name_as_the_server_reads_them(tmp_path: Path):
    pools = {"workers": pool_registration(model("workers", nodeLabels={"team": "a"},
                                                taints=[{"key": "k", "effect": "NoSchedule"}])),
             "infra": pool_registration(model("infra"))}
    configmap = registration_configmap("clusters-demo", pools)
    assert ConfigMap.from_dict(configmap).metadata.name == CONFIGMAP == "nodepool-registration"
    assert configmap["metadata"]["namespace"] == "clusters-demo"
    assert configmap["metadata"]["labels"][MANAGED_BY_LABEL] == "hcp"
    assert list(configmap["data"]) == ["infra", "workers"]
    for name, value in configmap["data"].items():  # as the ConfigMap volume lays them out
        (tmp_path / name).write_text(value)
    empty = nodeconfig.digest(nodeconfig.NodeConfig())
    assert served_registration(tmp_path, "workers") == Registration(
        {"hypershift.openshift.io/nodePool": "workers", "team": "a"}, ({"key": "k", "effect": "NoSchedule"},),
        nodeconfig.NodeConfig(), empty)
    assert served_registration(tmp_path, "infra") == Registration({"hypershift.openshift.io/nodePool": "infra"}, (),
                                                                  nodeconfig.NodeConfig(), empty)
    assert registration_configmap("clusters-demo", {})["data"] == {}, "a gone pool's key is applied away"
    assert registration_configmap("clusters-demo", pools) == registration_configmap("clusters-demo", dict(
        reversed(pools.items()))), "the same settings make the same ConfigMap"


class FakeManagement:
    """The management cluster's ConfigMaps, for the controller's get and server-side apply."""

    def __init__(self) -> None:
        self.configmaps: dict[tuple[str, str], dict[str, Any]] = {}
        self.applied: list[dict[str, Any]] = []

    async def get(self, resource, name, *, namespace):
        assert resource is ConfigMap
        found = self.configmaps.get((namespace, name))
        if found is None:
            response = SimpleNamespace(json=lambda: {"code": 404, "message": "not found"}, status_code=404)
            raise ApiError(response=response, status=Status(code=404, message="not found"))
        return ConfigMap.from_dict(found)

    async def patch(self, resource, name, body, *, namespace, **_):
        assert resource is ConfigMap and body["metadata"]["name"] == name
        self.applied.append(body)
        self.configmaps[(namespace, name)] = json.loads(json.dumps(body))
        return ConfigMap.from_dict(body)


def test_the_controller_publishes_the_joining_pools_settings_once_and_again_only_when_they_change():
    live_control_plane = resource_of(HostedControlPlane).from_dict(
        {**as_dict(CONTROL_PLANE), "metadata": {**as_dict(CONTROL_PLANE)["metadata"], "uid": "uid-1"}})
    joining = pool("workers")
    joining.spec["nodeLabels"] = {"node-role.kubernetes.io/worker": ""}
    pools = [joining, pool("simulated", platform="KWOK"), pool("leaving", deleting=True)]
    management = FakeManagement()
    controller = DataPlaneController(management, None, control_planes=Cache([live_control_plane]),
                                     node_pools=Cache(pools))

    def publish() -> None:
        settings = {p.metadata.name: pool_registration(p) for p in controller._joining_pools(live_control_plane)}
        asyncio.run(controller._publish_registration(live_control_plane, settings))

    publish()
    [applied] = management.applied
    assert applied["metadata"]["name"] == CONFIGMAP and applied["metadata"]["namespace"] == "clusters-demo"
    assert applied["metadata"]["ownerReferences"][0]["kind"] == "HostedControlPlane"
    assert json.loads(applied["data"]["workers"])["labels"] == {
        "hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": ""}
    assert set(applied["data"]) == {"workers"}, "KWOK pools register no kubelet; deleted pools join no machine"
    publish()
    assert len(management.applied) == 1, "unchanged: not written again"
    joining.spec["taints"] = [{"key": "dedicated", "effect": "NoSchedule"}]
    publish()
    assert json.loads(management.applied[-1]["data"]["workers"])["taints"] == [
        {"key": "dedicated", "effect": "NoSchedule"}]
