"""`hcp dump cluster`: what a must-gather holds, and that no Secret value is ever in it."""

from __future__ import annotations

import base64
import tarfile

import pytest
import yaml

from hcp.api.names import AUTO_CREATED_LABEL
from tests.unit.cli import world

SECRET_VALUES = ["pull-secret-value-1", "ssh-private-value-2", "etcd-key-value-3", "operator-token-value-4"]


def pod(name: str, namespace: str, containers: list[str], restarts: int = 0) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": c, "image": "x"} for c in containers]},
            "status": {"containerStatuses": [{"name": c, "restartCount": restarts, "state": {"running": {}}}
                                             for c in containers]}}


@pytest.fixture
def cluster(api):
    cluster = api.add(world.hosted_cluster(available=True))
    uid = cluster["metadata"]["uid"]
    api.add(world.node("mgmt-1", "10.0.0.2"))
    api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
             "metadata": {"name": "demo", "namespace": "clusters"}, "spec": {"clusterName": "demo"}})
    api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
             "metadata": {"name": "other", "namespace": "clusters"}, "spec": {"clusterName": "other"}})
    pull = world.secret("demo-pull-secret", "clusters", {".dockerconfigjson": SECRET_VALUES[0]},
                        {AUTO_CREATED_LABEL: "demo"})
    pull["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration":
                                       f'{{"data":{{".dockerconfigjson":"{world.b64(SECRET_VALUES[0])}"}}}}'}
    api.add(pull)
    api.add(world.secret("demo-ssh-key", "clusters", {"id_rsa": SECRET_VALUES[1]}))
    api.add(world.secret("unrelated", "clusters", {"x": "unrelated-value"}))
    api.add(world.admin_kubeconfig("demo", owner_uid=uid))
    api.add({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "demo.1", "namespace": "clusters"},
             "involvedObject": {"kind": "HostedCluster", "name": "demo", "uid": uid}, "reason": "Available"})
    api.add({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "other.1", "namespace": "clusters"},
             "involvedObject": {"kind": "HostedCluster", "name": "other", "uid": "x"}, "reason": "Available"})
    api.add(world.namespace("clusters-demo"))
    api.add(world.secret("etcd-encryption-key", "clusters-demo", {"key": SECRET_VALUES[2]}))
    api.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kas-config", "namespace": "clusters-demo"},
             "data": {"config.yaml": "apiVersion: v1"}})
    api.add(pod("kube-apiserver-0", "clusters-demo", ["kube-apiserver"], restarts=1))
    api.logs[("clusters-demo", "kube-apiserver-0", "kube-apiserver", False)] = "serving on 6443\n"
    api.logs[("clusters-demo", "kube-apiserver-0", "kube-apiserver", True)] = "etcd not ready, exiting\n"
    api.add(pod("etcd-0", "clusters-demo", ["etcd"]))
    api.add(pod("operator-1", "hypershift", ["operator"]))
    api.logs[("hypershift", "operator-1", "operator", False)] = '{"msg": "reconciled clusters/demo"}\n'
    api.add(world.secret("operator-token", "hypershift", {"token": SECRET_VALUES[3]}))
    return cluster


def files(root) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()
            and not p.name.endswith(".tar.gz")}


def test_dump_layout(hcp, api, cluster, tmp_path):
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out))
    assert result.code == 0, result.err
    assert sorted(files(out)) == [
        "cluster-scoped-resources/core/nodes.yaml",
        "dump-errors.txt",
        "namespaces/clusters-demo/core/configmaps.yaml",
        "namespaces/clusters-demo/core/pods.yaml",
        "namespaces/clusters-demo/core/secrets.yaml",
        "namespaces/clusters-demo/pods/kube-apiserver-0/kube-apiserver/current.log",
        "namespaces/clusters-demo/pods/kube-apiserver-0/kube-apiserver/previous.log",
        "namespaces/clusters/core/events.yaml",
        "namespaces/clusters/core/secrets.yaml",
        "namespaces/clusters/hypershift.openshift.io/hostedclusters.yaml",
        "namespaces/clusters/hypershift.openshift.io/nodepools.yaml",
        "namespaces/hypershift/core/pods.yaml",
        "namespaces/hypershift/core/secrets.yaml",
        "namespaces/hypershift/pods/operator-1/operator/current.log",
    ]
    dumped = files(out)
    assert dumped["namespaces/clusters-demo/pods/kube-apiserver-0/kube-apiserver/previous.log"] == \
        "etcd not ready, exiting\n"
    assert dumped["dump-errors.txt"] == ("log of clusters-demo/etcd-0/etcd (current.log): previous terminated "
                                         "container in pod etcd-0 not found\n")
    secrets = yaml.safe_load(dumped["namespaces/clusters/core/secrets.yaml"])["items"]
    assert [(s["metadata"]["name"], s["type"], s["keys"]) for s in secrets] == [
        ("demo-admin-kubeconfig", "Opaque", ["kubeconfig"]), ("demo-pull-secret", "Opaque", [".dockerconfigjson"]),
        ("demo-ssh-key", "Opaque", ["id_rsa"])]
    assert "annotations" not in secrets[1]["metadata"]
    pools = yaml.safe_load(dumped["namespaces/clusters/hypershift.openshift.io/nodepools.yaml"])["items"]
    assert [p["metadata"]["name"] for p in pools] == ["demo"]
    events = yaml.safe_load(dumped["namespaces/clusters/core/events.yaml"])["items"]
    assert [e["metadata"]["name"] for e in events] == ["demo.1"]
    assert "the objects of hosted cluster demo" in result.err


def test_no_secret_value_in_the_dump_or_archive(hcp, api, cluster, tmp_path):
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out), "--archive",
                 "--dump-guest-cluster")
    assert result.code == 0, result.err
    corpus = "\n".join(files(out).values())
    with tarfile.open(out / "hypershift-dump.tar.gz") as tar:
        names = tar.getnames()
        corpus += "\n".join(tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile())
    assert "cluster-scoped-resources/core/nodes.yaml" in names
    kubeconfig = base64.b64decode(api.get("Secret", "demo-admin-kubeconfig", "clusters")["data"]["kubeconfig"])
    for value in [*SECRET_VALUES, kubeconfig.decode(), "secret-token-of-demo"]:
        assert value not in corpus
        assert world.b64(value) not in corpus


def test_dump_guest_cluster(hcp, api, cluster, tmp_path):
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out), "--dump-guest-cluster")
    assert result.code == 0, result.err
    dumped = files(out)
    assert "hostedcluster-demo/cluster-scoped-resources/core/nodes.yaml" in dumped
    assert "hostedcluster-demo/cluster-scoped-resources/core/namespaces.yaml" in dumped
    assert "hostedcluster-demo/namespaces/clusters-demo/core/configmaps.yaml" in dumped


def test_guest_cluster_without_a_kubeconfig_is_an_error_entry_not_a_failure(hcp, api, cluster, tmp_path):
    api.delete(("secrets", "clusters", "demo-admin-kubeconfig"))
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out), "--dump-guest-cluster")
    assert result.code == 0, result.err
    assert "hosted cluster clusters/demo: HostedCluster clusters/demo has no admin kubeconfig yet" in \
        (out / "dump-errors.txt").read_text()
    assert "2 items could not be gathered" in result.err


def test_missing_cluster(hcp, api, tmp_path):
    result = hcp("dump", "cluster", "--name", "nope", "--artifact-dir", str(tmp_path / "d"))
    assert result.code == 1
    assert result.error == ("error: HostedCluster clusters/nope not found; "
                            "list them with `kubectl get hostedclusters -A`")


AUDIT_LINE = ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","verb":"create",'
              '"objectRef":{"resource":"secrets","namespace":"default","name":"s"}}\n')


def test_the_audit_log_of_each_kube_apiserver_is_in_the_dump_and_the_webhook_secret_as_keys_only(
        hcp, api, cluster, tmp_path):
    webhook_kubeconfig = "apiVersion: v1\nusers: [{name: w, user: {client-key-data: webhook-client-key-5}}]\n"
    cluster["spec"]["auditWebhook"] = {"name": "demo-audit-webhook"}
    api.add(world.secret("demo-audit-webhook", "clusters", {"webhook-kubeconfig": webhook_kubeconfig}))
    api.add(world.secret("demo-audit-webhook", "clusters-demo", {"webhook-kubeconfig": webhook_kubeconfig}))
    for index in (1, 2):
        api.add(pod(f"kube-apiserver-{index}", "clusters-demo", ["kube-apiserver", "audit-logs"]))
        api.logs[("clusters-demo", f"kube-apiserver-{index}", "audit-logs", False)] = AUDIT_LINE
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out))
    assert result.code == 0, result.err
    dumped = files(out)
    for index in (1, 2):
        assert dumped[f"namespaces/clusters-demo/pods/kube-apiserver-{index}/audit-logs/current.log"] == AUDIT_LINE
    secrets = {s["metadata"]["name"]: s for s in
               yaml.safe_load(dumped["namespaces/clusters/core/secrets.yaml"])["items"]}
    assert secrets["demo-audit-webhook"]["keys"] == ["webhook-kubeconfig"]
    corpus = "\n".join(dumped.values())
    assert "webhook-client-key-5" not in corpus and world.b64(webhook_kubeconfig) not in corpus


def network_policy(name: str, namespace: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def service_monitor(name: str, namespace: str) -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "endpoints": [{"port": "metrics"}]}}


def test_the_network_policies_and_service_monitors_of_the_control_plane_namespace_are_in_the_dump(
        hcp, api, cluster, tmp_path):
    api.add(network_policy("kube-apiserver", "clusters-demo"))
    api.add(network_policy("same-namespace", "clusters-demo"))
    api.add(network_policy("unrelated", "clusters"))
    api.add(service_monitor("etcd", "clusters-demo"))
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out))
    assert result.code == 0, result.err
    dumped = files(out)
    policies = yaml.safe_load(dumped["namespaces/clusters-demo/networking.k8s.io/networkpolicies.yaml"])["items"]
    assert [(p["kind"], p["metadata"]["name"]) for p in policies] == [
        ("NetworkPolicy", "kube-apiserver"), ("NetworkPolicy", "same-namespace")]
    assert policies[0]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    monitors = yaml.safe_load(dumped["namespaces/clusters-demo/monitoring.coreos.com/servicemonitors.yaml"])["items"]
    assert [(m["apiVersion"], m["kind"], m["metadata"]["name"]) for m in monitors] == [
        ("monitoring.coreos.com/v1", "ServiceMonitor", "etcd")]
    assert "namespaces/clusters/networking.k8s.io/networkpolicies.yaml" not in dumped, "not the cluster's own"


def dump_with_a_network_policy(hcp, api, tmp_path) -> dict:
    """`hcp dump cluster` of demo, whose control-plane namespace has a NetworkPolicy: the files it wrote."""
    api.add(network_policy("kube-apiserver", "clusters-demo"))
    out = tmp_path / "dump"
    result = hcp("dump", "cluster", "--name", "demo", "--artifact-dir", str(out))
    assert result.code == 0, result.err
    return files(out)


def test_without_the_prometheus_operator_there_are_no_service_monitors_and_no_error(hcp, api, cluster, tmp_path):
    api.served = api.served - {"servicemonitors"}
    dumped = dump_with_a_network_policy(hcp, api, tmp_path)
    assert "namespaces/clusters-demo/networking.k8s.io/networkpolicies.yaml" in dumped
    assert not [path for path in dumped if "monitoring.coreos.com" in path]
    assert "servicemonitors" not in dumped.get("dump-errors.txt", "")


def test_a_group_that_cannot_be_described_costs_only_its_own_kinds(hcp, api, cluster, tmp_path):
    api.unavailable.add("metrics.k8s.io/v1beta1")
    dumped = dump_with_a_network_policy(hcp, api, tmp_path)
    assert "namespaces/clusters-demo/networking.k8s.io/networkpolicies.yaml" in dumped
    assert "discovery of metrics.k8s.io/v1beta1: the server is currently unable to handle the request" in \
        dumped["dump-errors.txt"].splitlines()
