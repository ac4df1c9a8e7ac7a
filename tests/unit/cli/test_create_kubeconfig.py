"""`hcp create kubeconfig`: one cluster's admin kubeconfig, or all of them merged with a context each."""

from __future__ import annotations

import base64

import yaml

from tests.unit.cli import world
from tests.unit.cli.conftest import assert_golden


def seed(api, name: str, namespace: str = "clusters", available: bool = True) -> None:
    cluster = api.add(world.hosted_cluster(name, namespace, available=available))
    if available:
        api.add(world.admin_kubeconfig(name, namespace, owner_uid=cluster["metadata"]["uid"]))


def test_one_cluster(hcp, api):
    seed(api, "demo")
    result = hcp("create", "kubeconfig", "--name", "demo")
    assert result.code == 0, result.err
    secret = api.get("Secret", "demo-admin-kubeconfig", "clusters")
    assert result.out == base64.b64decode(secret["data"]["kubeconfig"]).decode()


def test_all_clusters_merged(hcp, api):
    seed(api, "demo")
    seed(api, "other", "team-a")
    seed(api, "starting", available=False)
    result = hcp("create", "kubeconfig")
    assert result.code == 0, result.err
    assert_golden("create-kubeconfig-all.yaml", result.out)
    config = yaml.safe_load(result.out)
    assert [c["name"] for c in config["contexts"]] == ["clusters-demo", "team-a-other"]


def test_all_clusters_of_one_namespace(hcp, api):
    seed(api, "demo")
    seed(api, "other", "team-a")
    result = hcp("create", "kubeconfig", "--namespace", "team-a")
    assert [c["name"] for c in yaml.safe_load(result.out)["contexts"]] == ["team-a-other"]


def test_cluster_without_a_kubeconfig_yet(hcp, api):
    seed(api, "starting", available=False)
    result = hcp("create", "kubeconfig", "--name", "starting")
    assert result.code == 1
    assert result.err == ("error: HostedCluster clusters/starting has no admin kubeconfig yet; its control plane is "
                          "not available, see `kubectl -n clusters get hostedcluster starting`\n")
    result = hcp("create", "kubeconfig")
    assert result.err == ("error: no hosted cluster in any namespace reports a kubeconfig yet; "
                          "see `kubectl get hostedclusters -A`\n")
