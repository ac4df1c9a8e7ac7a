"""`hcp destroy cluster kwok`: nothing of the cluster is left, or one error line says what is."""

from __future__ import annotations

import pytest

from hcp.api.names import AUTO_CREATED_LABEL
from tests.unit.cli import world

LABELS = {AUTO_CREATED_LABEL: "demo"}


@pytest.fixture
def created(api):
    """What `hcp create cluster` and the operator leave: the cluster, its pool, namespace and Secrets."""
    cluster = api.add(world.hosted_cluster(available=True))
    api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
             "metadata": {"name": "demo", "namespace": "clusters", "labels": LABELS},
             "spec": {"clusterName": "demo"}})
    api.add(world.namespace("clusters-demo"))
    api.add(world.secret("demo-pull-secret", "clusters", {".dockerconfigjson": "{}"}, LABELS))
    api.add(world.secret("demo-ssh-key", "clusters", {"id_rsa.pub": "ssh-ed25519 AAAA"}, LABELS))
    api.add(world.admin_kubeconfig("demo", owner_uid=cluster["metadata"]["uid"]))
    api.add(world.hosted_cluster("other", available=True))
    api.add(world.secret("other-pull-secret", "clusters", {".dockerconfigjson": "{}"}, {AUTO_CREATED_LABEL: "other"}))
    return cluster


def operator(api, key):
    """Deleting the HostedCluster: the operator's finalizer and the garbage collector, at once."""
    plural, namespace, name = key
    if plural == "hostedclusters":
        api.delete(("nodepools", namespace, name))
        api.delete(("namespaces", None, f"{namespace}-{name}"))
        api.delete(("secrets", namespace, f"{name}-admin-kubeconfig"))


def test_destroy_removes_everything_of_the_cluster_only(hcp, api, created, clock):
    api.on_delete.append(operator)
    result = hcp("destroy", "cluster", "kwok", "--name", "demo")
    assert result.code == 0, result.err
    assert result.progress == [
        "deleting HostedCluster clusters/demo",
        "HostedCluster clusters/demo deleted", "NodePool clusters/demo deleted", "namespace clusters-demo deleted",
        "Secret clusters/demo-admin-kubeconfig deleted", "Secret clusters/demo-pull-secret deleted",
        "Secret clusters/demo-ssh-key deleted", "hosted cluster clusters/demo destroyed",
    ]
    assert api.names("HostedCluster") == ["clusters/other"]
    assert api.names("Secret") == ["clusters/other-pull-secret"]


def test_destroy_cleans_up_after_an_interrupted_create(hcp, api, clock):
    api.add(world.secret("demo-pull-secret", "clusters", {".dockerconfigjson": "{}"}, LABELS))
    api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
             "metadata": {"name": "demo", "namespace": "clusters"}, "spec": {"clusterName": "demo"}})
    result = hcp("destroy", "cluster", "kwok", "--name", "demo")
    assert result.code == 0, result.err
    assert result.progress[0] == "HostedCluster clusters/demo is gone; removing what is left of it"
    assert api.objects == {}


def test_grace_period_exceeded_names_what_is_left(hcp, api, created, clock):
    def stuck_finalizer(api, key):
        if key == ("hostedclusters", "clusters", "demo"):
            api.add({**created, "metadata": {**created["metadata"], "deletionTimestamp": "2030-01-01T00:00:00Z"}})
    api.on_delete.append(stuck_finalizer)
    result = hcp("destroy", "cluster", "kwok", "--name", "demo", "--cluster-grace-period", "30s")
    assert result.code == 1
    assert result.error == (
        "error: hosted cluster clusters/demo not destroyed within 30s; left: HostedCluster clusters/demo, "
        "NodePool clusters/demo, namespace clusters-demo, Secret clusters/demo-admin-kubeconfig, "
        "Secret clusters/demo-pull-secret, Secret clusters/demo-ssh-key; see the operator's logs: "
        "`kubectl -n hypershift logs deployment/operator`")


def test_a_stuck_control_plane_namespace_is_named(hcp, api, created, clock):
    result = hcp("destroy", "cluster", "kwok", "--name", "demo", "--cluster-grace-period", "30s")
    assert result.code == 1
    assert "; left: namespace clusters-demo; see the operator's logs" in result.error


def test_nothing_to_destroy(hcp, api):
    result = hcp("destroy", "cluster", "kwok", "--name", "nope")
    assert result.code == 1
    assert result.err == ("error: HostedCluster clusters/nope not found and nothing of it is left; "
                          "list hosted clusters with `kubectl get hostedclusters -A`\n")


def test_name_is_required(hcp):
    result = hcp("destroy", "cluster", "kwok")
    assert result.code == 2
    assert result.error == "Error: Missing option '--name'."
