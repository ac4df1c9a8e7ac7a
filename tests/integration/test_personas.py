"""The management-side personas of the docs (1.4.2), as hcp install ships them, asked of a real API server.

A platform team binds `hcp:cluster-service-consumer` to a user in the namespaces
the user's team owns, and `hcp:cluster-service-provider` to its SREs cluster-wide.
Every request impersonates those people with the management cluster's admin
kubeconfig (`kubectl --as`); writes use `--dry-run=server`, so they pass through
authorization and admission but nothing is stored.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest

pytestmark = pytest.mark.integration

CONSUMER = "hcp:cluster-service-consumer"
PROVIDER = "hcp:cluster-service-provider"


@pytest.fixture(scope="module")
def team(operator_installed: ManagementCluster):
    """Namespaces team-<id> (bound to consumer alice-<id>) and other-<id>; provider bob-<id> in group sre-<id>."""
    suffix = uuid.uuid4().hex[:6]
    names = {"ours": f"team-{suffix}", "theirs": f"other-{suffix}", "consumer": f"alice-{suffix}",
             "provider": f"bob-{suffix}", "group": f"sre-{suffix}"}
    cluster = operator_installed
    cluster.kubectl("create", "namespace", names["ours"])
    cluster.kubectl("create", "namespace", names["theirs"])
    cluster.kubectl("create", "rolebinding", "clusters", "-n", names["ours"], f"--clusterrole={CONSUMER}",
                    f"--user={names['consumer']}")
    cluster.kubectl("create", "clusterrolebinding", names["group"], f"--clusterrole={PROVIDER}",
                    f"--group={names['group']}")
    yield names
    cluster.kubectl("delete", "clusterrolebinding", names["group"], "--ignore-not-found")
    cluster.kubectl("delete", "namespace", names["ours"], names["theirs"], "--ignore-not-found", "--timeout=120s")


def can(cluster: ManagementCluster, who: list[str], verb: str, resource: str, namespace: str | None = None) -> bool:
    """`kubectl auth can-i`; a resource written `kind/subresource` asks for the subresource."""
    where = ["-n", namespace] if namespace else ["--all-namespaces"]
    resource, _, subresource = resource.partition("/")
    extra = [f"--subresource={subresource}"] if subresource else []
    result = cluster.kubectl("auth", "can-i", verb, resource, *extra, *where, *who, check=False)
    assert result.stdout.strip() in ("yes", "no"), result
    return result.stdout.strip() == "yes"


def test_the_service_consumer_manages_hosted_clusters_in_its_namespace_only(operator_installed, team):
    cluster, alice = operator_installed, [f"--as={team['consumer']}"]
    for verb in ("create", "get", "patch", "delete"):
        assert can(cluster, alice, verb, "hostedclusters.hypershift.openshift.io", team["ours"]), verb
        assert can(cluster, alice, verb, "nodepools.hypershift.openshift.io", team["ours"]), verb
        assert not can(cluster, alice, verb, "hostedclusters.hypershift.openshift.io", team["theirs"]), verb
    assert can(cluster, alice, "update", "nodepools.hypershift.openshift.io/scale", team["ours"])
    assert can(cluster, alice, "get", "secrets", team["ours"])  # the admin kubeconfig hcp publishes there
    assert not can(cluster, alice, "get", "secrets", team["theirs"])
    assert not can(cluster, alice, "get", "secrets", "hypershift")
    assert not can(cluster, alice, "get", "pods", f"{team['ours']}-demo")  # a control-plane namespace
    assert not can(cluster, alice, "create", "namespaces")
    assert not can(cluster, alice, "update", "hostedclusters.hypershift.openshift.io/status", team["ours"])
    assert not can(cluster, alice, "create", "hcpetcdbackups.hypershift.openshift.io", team["ours"])

    # What `hcp create cluster` writes, the consumer may write (server-side dry run: admitted, not stored).
    documents = hosted_cluster_manifest(cluster, "demo", team["ours"]).split("\n---\n")[1:]  # no Namespace
    result = cluster.kubectl("create", "--dry-run=server", *alice, "-f", "-", input="\n---\n".join(documents),
                             check=False)
    assert result.returncode == 0, result.stderr
    result = cluster.kubectl("create", "--dry-run=server", *alice, "-f", "-", check=False,
                             input="\n---\n".join(documents).replace(team["ours"], team["theirs"]))
    assert result.returncode != 0 and "forbidden" in result.stderr


def test_the_service_provider_watches_every_control_plane_but_reads_no_secrets(operator_installed, team):
    cluster, bob = operator_installed, [f"--as={team['provider']}", f"--as-group={team['group']}"]
    assert can(cluster, bob, "list", "hostedclusters.hypershift.openshift.io")
    assert can(cluster, bob, "create", "hcpetcdbackups.hypershift.openshift.io", f"{team['ours']}-demo")
    assert can(cluster, bob, "get", "pods/log", f"{team['ours']}-demo")
    assert can(cluster, bob, "delete", "pods", f"{team['ours']}-demo")
    assert can(cluster, bob, "get", "deployments.apps", "hypershift")
    assert can(cluster, bob, "list", "leases.coordination.k8s.io")
    assert can(cluster, bob, "list", "networkpolicies.networking.k8s.io", f"{team['ours']}-demo")
    assert not can(cluster, bob, "delete", "networkpolicies.networking.k8s.io", f"{team['ours']}-demo")
    assert not can(cluster, bob, "get", "secrets", team["ours"])
    assert not can(cluster, bob, "list", "secrets")
    assert not can(cluster, bob, "create", "clusterrolebindings.rbac.authorization.k8s.io")
    assert not can(cluster, bob, "create", "pods", f"{team['ours']}-demo")
    assert not can(cluster, bob, "impersonate", "users")
