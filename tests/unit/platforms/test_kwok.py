"""The KWOK platform: the Nodes its machines are, and the kwok component that keeps them alive."""

from __future__ import annotations

import dataclasses

import yaml

from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.api.v1beta1.platform import PlatformType
from hcp.controlplane.components.kwok import adapter
from hcp.controlplane.render import render
from hcp.platforms import NODE_POOL_LABEL, PROVIDERS, MachineTemplate
from hcp.platforms.kwok import KwokProvider, node_capacity, node_manifest


def template(**platform) -> MachineTemplate:
    return MachineTemplate(
        pool="workers", kubernetes_version="1.37.1", arch="arm64",
        labels={NODE_POOL_LABEL: "workers", "tier": "sim"},
        taints=({"key": "dedicated", "value": "sim", "effect": "NoSchedule"},),
        platform=NodePoolPlatform.model_validate({"type": "KWOK", **platform}), config="0123abcd",
    )


def test_kwok_is_a_registered_platform():
    assert PROVIDERS[PlatformType.KWOK] is KwokProvider


def test_a_machine_is_a_node_kwok_manages_with_the_pools_labels_taints_and_version():
    node = node_manifest("workers-abcde", template(kwok={"capacity": {"cpu": "4", "memory": "16Gi", "pods": 110}}))
    metadata, status = node["metadata"], node["status"]
    assert metadata["name"] == "workers-abcde"
    # kwok manages it; it records the configuration it was made with, which a rollout compares.
    assert metadata["annotations"] == {"kwok.x-k8s.io/node": "fake",
                                       "hypershift.openshift.io/nodePoolCurrentConfig": "0123abcd"}
    assert metadata["labels"][NODE_POOL_LABEL] == "workers"
    assert metadata["labels"]["tier"] == "sim"
    assert metadata["labels"]["kubernetes.io/hostname"] == "workers-abcde"
    assert metadata["labels"]["kubernetes.io/arch"] == "arm64"
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "sim", "effect": "NoSchedule"}]
    assert status["capacity"] == status["allocatable"] == {"cpu": "4", "memory": "16Gi", "pods": "110"}
    assert status["nodeInfo"]["kubeletVersion"] == "v1.37.1"


def test_capacity_left_unset_is_kwoks_default():
    assert node_capacity(template().platform) == {"cpu": "1k", "memory": "1Ti", "pods": "1M"}
    assert node_capacity(template(kwok={"capacity": {"cpu": "2"}}).platform) == {
        "cpu": "2", "memory": "1Ti", "pods": "1M",
    }


def test_kwok_runs_only_on_the_kwok_platform(single_ctx):
    assert adapter.render(single_ctx) != []
    other = single_ctx.hcp.model_copy(deep=True)
    other.spec.platform.type = PlatformType.NONE
    assert adapter.render(dataclasses.replace(single_ctx, hcp=other)) == []
    assert not [o for o in render(dataclasses.replace(single_ctx, hcp=other)) if o["metadata"]["name"] == "kwok"]


def test_kwok_config_manages_annotated_nodes_with_kwoks_default_stages(single_ctx):
    objects = {f"{o['kind']}/{o['metadata']['name']}": o for o in adapter.render(single_ctx)}
    documents = list(yaml.safe_load_all(objects["ConfigMap/kwok"]["data"]["kwok.yaml"]))
    assert documents[0]["options"]["manageNodesWithAnnotationSelector"] == "kwok.x-k8s.io/node=fake"
    assert [d["metadata"]["name"] for d in documents[1:]] == [
        "node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete",
    ]
    pod = objects["Deployment/kwok"]["spec"]["template"]
    main = pod["spec"]["containers"][0]
    assert main["image"] == single_ctx.images["kwok"]
    assert "--cidr=10.132.0.0/14" in main["args"]
    assert {"name": "kubeconfig", "secret": {"secretName": "kwok-kubeconfig", "defaultMode": 0o640}} in \
        pod["spec"]["volumes"]
    assert objects["Deployment/kwok"]["spec"]["replicas"] == 1
