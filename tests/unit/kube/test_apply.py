"""Owner references from every form an object takes, and kind -> lightkube resource resolution."""

from __future__ import annotations

import asyncio

import pytest
from lightkube.generic_resource import GenericNamespacedResource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap

from hcp.api import HostedCluster, HostedControlPlane, NodePool
from hcp.kube.apply import owner_reference, resource_for, resource_of

HOSTED_CLUSTER = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedCluster",
    "metadata": {"name": "demo", "namespace": "clusters", "uid": "0b5c6f0e-7d2a-4d8e-9d3b-1f2e3a4b5c6d"},
    "spec": {
        "release": {"image": "registry.hcp.internal:5000/hcp/release:1.37.1"},
        "platform": {"type": "KWOK"},
        "pullSecret": {"name": "pull-secret"},
        "services": [],
    },
}
EXPECTED = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HostedCluster",
    "name": "demo",
    "uid": "0b5c6f0e-7d2a-4d8e-9d3b-1f2e3a4b5c6d",
    "controller": True,
    "blockOwnerDeletion": True,
}


def test_owner_reference_of_a_plain_dict():
    assert owner_reference(HOSTED_CLUSTER) == EXPECTED


def test_owner_reference_of_a_typed_model():
    assert owner_reference(HostedCluster.model_validate(HOSTED_CLUSTER)) == EXPECTED


def test_owner_reference_of_a_lightkube_generic_resource():
    resource = resource_of(HostedCluster)
    assert owner_reference(resource(HOSTED_CLUSTER)) == EXPECTED


def test_owner_reference_of_a_lightkube_builtin_object():
    config_map = ConfigMap(metadata=ObjectMeta(name="etcd-config", namespace="clusters-demo", uid="u-1"))
    assert owner_reference(config_map, controller=False) == {
        "apiVersion": "v1", "kind": "ConfigMap", "name": "etcd-config", "uid": "u-1",
        "controller": False, "blockOwnerDeletion": True,
    }


def test_owner_reference_needs_a_uid():
    unsaved = {**HOSTED_CLUSTER, "metadata": {"name": "demo", "namespace": "clusters"}}
    with pytest.raises(ValueError, match="no uid"):
        owner_reference(unsaved)


def test_hcp_kinds_are_namespaced_generic_resources_with_their_plural():
    for model, plural in ((HostedCluster, "hostedclusters"), (NodePool, "nodepools"),
                          (HostedControlPlane, "hostedcontrolplanes")):
        resource = resource_of(model)
        assert issubclass(resource, GenericNamespacedResource)
        assert resource._api_info.plural == plural
        assert resource._api_info.resource.api_version == "hypershift.openshift.io/v1beta1"
        assert resource_of(model) is resource, "created once, then reused"


def test_built_in_and_hcp_kinds_resolve_without_asking_the_server():
    def resolve(api_version: str, kind: str):
        return asyncio.run(resource_for(None, api_version, kind))  # no client: it must not be used

    assert resolve("apps/v1", "Deployment") is Deployment
    assert resolve("coordination.k8s.io/v1", "Lease") is Lease
    assert resolve("hypershift.openshift.io/v1beta1", "NodePool") is resource_of(NodePool)
