"""HostedCluster → a working hosted control plane, driven through kubectl as a user would."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import time

import pytest

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest

pytestmark = pytest.mark.integration

NAMESPACE = "clusters"
AVAILABLE_TIMEOUT = "420s"


def wait_available(cluster: ManagementCluster, name: str, namespace: str = NAMESPACE) -> None:
    cluster.kubectl("wait", "-n", namespace, f"hostedcluster/{name}", "--for=condition=Available",
                    f"--timeout={AVAILABLE_TIMEOUT}", timeout=500)


def hosted_kubeconfig(cluster: ManagementCluster, name: str, tmp_path, namespace: str = NAMESPACE):
    encoded = cluster.kubectl("get", "secret", "-n", namespace, f"{name}-admin-kubeconfig",
                              "-o", "jsonpath={.data.kubeconfig}").stdout
    path = tmp_path / f"{name}.kubeconfig"
    path.write_bytes(base64.b64decode(encoded))
    path.chmod(0o600)
    return path


def hosted_kubectl(kubeconfig, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"hosted kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result


def delete_hosted_cluster(cluster: ManagementCluster, name: str, namespace: str = NAMESPACE) -> None:
    cluster.kubectl("delete", "-n", namespace, f"hostedcluster/{name}", "--ignore-not-found",
                    "--wait=true", "--timeout=300s", timeout=400)


def hc_json(cluster: ManagementCluster, name: str, namespace: str = NAMESPACE) -> dict:
    return json.loads(cluster.kubectl("get", "-n", namespace, f"hostedcluster/{name}", "-o", "json").stdout)


def condition(obj: dict, type_: str) -> dict:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


@pytest.fixture(scope="module")
def alpha(operator_installed: ManagementCluster):
    """Hosted cluster `alpha`, created while the operator is killed mid-way: it must still come up."""
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, "alpha"))
    cluster.kubectl("wait", "--for=create", "namespace/clusters-alpha", "--timeout=120s", timeout=200)
    cluster.kubectl("delete", "pod", "-n", "hypershift", "-l", "app=operator", "--wait=false")
    wait_available(cluster, "alpha")
    yield cluster
    delete_hosted_cluster(cluster, "alpha")


def test_hosted_cluster_becomes_available_and_completed(alpha):
    hc = hc_json(alpha, "alpha")
    assert condition(hc, "Available")["status"] == "True"
    assert condition(hc, "Available")["message"] == "The hosted control plane is available"
    assert condition(hc, "ValidReleaseImage")["status"] == "True"
    assert hc["status"]["version"]["history"][0]["state"] == "Completed"
    assert hc["status"]["kubeconfig"]["name"] == "alpha-admin-kubeconfig"
    assert hc["status"]["controlPlaneEndpoint"]["port"] > 0


def test_get_hostedclusters_shows_the_documented_columns(alpha):
    lines = alpha.kubectl("get", "hostedclusters", "-n", NAMESPACE).stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "KUBECONFIG", "PROGRESS", "AVAILABLE", "PROGRESSING", "MESSAGE"]
    row = next(line for line in lines if line.startswith("alpha "))
    version = binaries.TOOLSETS["kubernetes"].version.lstrip("v")
    assert row.split()[:6] == ["alpha", version, "alpha-admin-kubeconfig", "Completed", "True", "False"]
    assert row.endswith("The hosted control plane is available")


def test_control_plane_runs_as_pods_in_its_namespace(alpha):
    pods = json.loads(alpha.kubectl("get", "pods", "-n", "clusters-alpha", "-o", "json").stdout)["items"]
    names = {p["metadata"]["name"].rsplit("-", 2)[0] if not p["metadata"]["name"].startswith("etcd")
             else p["metadata"]["name"] for p in pods}
    assert {"etcd-0", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} <= names
    assert alpha.kubectl("get", "pvc", "-n", "clusters-alpha", "data-etcd-0").returncode == 0
    health = alpha.kubectl(
        "exec", "-n", "clusters-alpha", "etcd-0", "-c", "etcd", "--", "env", "ETCDCTL_API=3", "/usr/bin/etcdctl",
        "--cacert", "/etc/etcd/tls/etcd-ca/ca.crt", "--cert", "/etc/etcd/tls/client/etcd-client.crt",
        "--key", "/etc/etcd/tls/client/etcd-client.key", "--endpoints=localhost:2379", "endpoint", "health")
    assert "is healthy" in health.stdout + health.stderr


def test_hosted_api_serves_objects_with_the_admin_kubeconfig(alpha, tmp_path):
    kubeconfig = hosted_kubeconfig(alpha, "alpha", tmp_path)
    hosted_kubectl(kubeconfig, "create", "namespace", "team-a")
    hosted_kubectl(kubeconfig, "create", "configmap", "settings", "-n", "team-a", "--from-literal=color=blue")
    assert hosted_kubectl(kubeconfig, "get", "configmap", "settings", "-n", "team-a",
                          "-o", "jsonpath={.data.color}").stdout == "blue"
    version = json.loads(hosted_kubectl(kubeconfig, "version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    assert version == binaries.TOOLSETS["kubernetes"].version


def running_pod_uids(cluster: ManagementCluster) -> dict[str, str]:
    """Control-plane pods that are not on their way out, by name (a StatefulSet reuses names, not uids)."""
    pods = json.loads(cluster.kubectl("get", "pods", "-n", "clusters-alpha", "-o", "json").stdout)["items"]
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods
            if not p["metadata"].get("deletionTimestamp") and not p["metadata"]["name"].startswith("kwok")}


def test_restart_date_rolls_every_component(alpha):
    before = running_pod_uids(alpha)
    alpha.kubectl("annotate", "hostedcluster/alpha", "-n", NAMESPACE, "--overwrite",
                  "hypershift.openshift.io/restart-date=2026-11-21T00:00:00Z")
    for workload in ("deployment/kube-apiserver", "deployment/kube-controller-manager",
                     "deployment/kube-scheduler", "statefulset/etcd"):
        deadline = time.monotonic() + 120
        while alpha.kubectl("get", "-n", "clusters-alpha", workload, "-o",
                            "jsonpath={.spec.template.metadata.annotations.hypershift\\.openshift\\.io/restart-date}"
                            ).stdout != "2026-11-21T00:00:00Z":
            assert time.monotonic() < deadline, f"{workload} did not get the restart-date"
            time.sleep(2)
        alpha.kubectl("rollout", "status", "-n", "clusters-alpha", workload, "--timeout=300s", timeout=400)
    after = running_pod_uids(alpha)
    assert not set(before.values()) & set(after.values()), f"pods not replaced: {before} → {after}"
    wait_available(alpha, "alpha")


def handshake(host: str, port: int, tls_version: ssl.TLSVersion) -> str:
    """The TLS version a client limited to `tls_version` at most negotiates with host:port, or why it could not.

    Only the protocol is in question, not the server's identity (konnectivity's certificate is of a CA of its
    own): the certificate is not verified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = tls_version
    try:
        with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw) as tls:
            return tls.version() or ""
    except ssl.SSLError as error:
        return f"refused: {error.reason}"


def container_args(cluster: ManagementCluster, workload: str, container: str) -> list[str]:
    template = json.loads(cluster.kubectl("get", "-n", "clusters-alpha", workload, "-o", "json").stdout)
    found = next(c for c in template["spec"]["template"]["spec"]["containers"] if c["name"] == container)
    return [*found.get("command", []), *found.get("args", [])]


def test_a_modern_tls_profile_reaches_every_server_and_refuses_tls_1_2(alpha):
    """apiServer.tlsSecurityProfile Modern (TLS 1.3 only): each server rolls with its flags and serves, the control
    plane stays Available, and a TLS 1.2 client is refused at the published API server and konnectivity
    server; unset again, TLS 1.2 is served again."""
    profile = {"spec": {"configuration": {"apiServer": {"tlsSecurityProfile": {"type": "Modern", "modern": {}}}}}}
    alpha.kubectl("patch", "hostedcluster/alpha", "-n", NAMESPACE, "--type=merge", "-p", json.dumps(profile))
    expected = {("deployment/kube-apiserver", "kube-apiserver"): "--tls-min-version=VersionTLS13",
                ("deployment/kube-apiserver", "konnectivity-server"): "--cipher-suites=",
                ("deployment/kube-controller-manager", "kube-controller-manager"): "--tls-min-version=VersionTLS13",
                ("deployment/kube-scheduler", "kube-scheduler"): "--tls-min-version=VersionTLS13",
                ("statefulset/etcd", "etcd"): "--tls-min-version=TLS1.3"}
    for (workload, container), flag in expected.items():
        deadline = time.monotonic() + 120
        while not any(arg.startswith(flag) for arg in container_args(alpha, workload, container)):
            assert time.monotonic() < deadline, f"{workload} {container} did not get {flag}"
            time.sleep(2)
    for workload in ("statefulset/etcd", "deployment/kube-apiserver", "deployment/kube-controller-manager",
                     "deployment/kube-scheduler"):
        alpha.kubectl("rollout", "status", "-n", "clusters-alpha", workload, "--timeout=300s", timeout=400)
    wait_available(alpha, "alpha")

    hc = hc_json(alpha, "alpha")
    assert condition(hc, "SupportedConfiguration")["status"] == "True", "every server can take Modern"
    host, port = hc["status"]["controlPlaneEndpoint"]["host"], hc["status"]["controlPlaneEndpoint"]["port"]
    konnectivity = int(alpha.kubectl("get", "service", "-n", "clusters-alpha", "konnectivity-server",
                                     "-o", "jsonpath={.spec.ports[0].nodePort}").stdout)
    for server in (port, konnectivity):
        assert handshake(host, server, ssl.TLSVersion.TLSv1_3) == "TLSv1.3", server
        assert handshake(host, server, ssl.TLSVersion.TLSv1_2).startswith("refused"), server

    alpha.kubectl("patch", "hostedcluster/alpha", "-n", NAMESPACE, "--type=json",
                  "-p", '[{"op": "remove", "path": "/spec/configuration"}]')
    deadline = time.monotonic() + 300
    while handshake(host, port, ssl.TLSVersion.TLSv1_2) != "TLSv1.2":
        assert time.monotonic() < deadline, "TLS 1.2 was not served again once the profile was unset"
        time.sleep(2)
    for workload in ("statefulset/etcd", "deployment/kube-apiserver"):
        alpha.kubectl("rollout", "status", "-n", "clusters-alpha", workload, "--timeout=300s", timeout=400)
    wait_available(alpha, "alpha")


def test_paused_cluster_gets_no_spec_changes_until_unpaused(alpha):
    alpha.kubectl("patch", "hostedcluster/alpha", "-n", NAMESPACE, "--type=merge",
                  "-p", '{"spec": {"pausedUntil": "true"}}')
    deadline = time.monotonic() + 60
    while condition(hc_json(alpha, "alpha"), "ReconciliationPaused")["status"] != "True":
        assert time.monotonic() < deadline, "ReconciliationPaused never became True"
        time.sleep(1)
    alpha.kubectl("patch", "hostedcluster/alpha", "-n", NAMESPACE, "--type=merge",
                  "-p", '{"spec": {"nodeSelector": {"hcp-test": "paused"}}}')
    time.sleep(10)
    hcp = json.loads(alpha.kubectl("get", "hostedcontrolplane/alpha", "-n", "clusters-alpha", "-o", "json").stdout)
    assert "nodeSelector" not in hcp["spec"], "a paused cluster's change reached its control plane"
    assert hcp["spec"]["pausedUntil"] == "true"

    alpha.kubectl("patch", "hostedcluster/alpha", "-n", NAMESPACE, "--type=json",
                  "-p", '[{"op": "remove", "path": "/spec/pausedUntil"}, {"op": "remove", "path": "/spec/nodeSelector"}]')
    deadline = time.monotonic() + 60
    while True:
        hcp = json.loads(alpha.kubectl("get", "hostedcontrolplane/alpha", "-n", "clusters-alpha", "-o", "json").stdout)
        if "pausedUntil" not in hcp["spec"]:
            break
        assert time.monotonic() < deadline, "unpausing did not reach the control plane"
        time.sleep(1)
    # The same pass writes the HostedCluster's status after the control plane's spec: poll for it too.
    while condition(hc_json(alpha, "alpha"), "ReconciliationPaused")["status"] != "False":
        assert time.monotonic() < deadline, "ReconciliationPaused stayed True after unpausing"
        time.sleep(1)


def test_invalid_objects_are_rejected_with_a_useful_message(operator_installed):
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, "broken").split("---")[-1]
    bad_policy = manifest.replace("controllerAvailabilityPolicy: SingleReplica", "controllerAvailabilityPolicy: Twice")
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=bad_policy, check=False)
    assert result.returncode != 0
    assert "controllerAvailabilityPolicy" in result.stderr and "SingleReplica" in result.stderr

    no_release = manifest.replace("  release: {image:", "  releaseX: {image:")
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=no_release, check=False)
    assert result.returncode != 0 and "release" in result.stderr

    both = """
apiVersion: hypershift.openshift.io/v1beta1
kind: NodePool
metadata: {name: both, namespace: clusters}
spec:
  clusterName: alpha
  replicas: 2
  autoScaling: {min: 1, max: 3}
  release: {image: registry.hcp.internal:5000/hcp/release:v1.37.1}
  platform: {type: KWOK}
  management: {upgradeType: Replace}
"""
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=both, check=False)
    assert result.returncode != 0 and "replicas or autoScaling" in result.stderr


def test_unknown_release_gets_a_clear_condition(operator_installed):
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, "norelease", release="registry.hcp.internal:5000/hcp/release:v9.9.9")
    cluster.kubectl("apply", "-f", "-", input=manifest)
    try:
        deadline = time.monotonic() + 120
        while True:
            hc = hc_json(cluster, "norelease")
            conditions = {c["type"]: c for c in (hc.get("status") or {}).get("conditions", [])}
            if "ValidReleaseImage" in conditions:
                break
            assert time.monotonic() < deadline, "no ValidReleaseImage condition"
            time.sleep(1)
        assert conditions["ValidReleaseImage"]["status"] == "False"
        assert "not found" in conditions["ValidReleaseImage"]["message"]
        assert "supported versions" in conditions["ValidReleaseImage"]["message"]
        assert conditions["Available"]["status"] == "False"
    finally:
        delete_hosted_cluster(cluster, "norelease")


def test_two_clusters_are_isolated_and_deletion_removes_everything(alpha, tmp_path):
    cluster = alpha
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, "beta"))
    try:
        wait_available(cluster, "beta")
        alpha_config = hosted_kubeconfig(cluster, "alpha", tmp_path)
        beta_config = hosted_kubeconfig(cluster, "beta", tmp_path)
        hosted_kubectl(alpha_config, "create", "configmap", "only-in-alpha", "-n", "default")
        assert hosted_kubectl(beta_config, "get", "configmap", "only-in-alpha", "-n", "default",
                              check=False).returncode != 0
        alpha_endpoint = hc_json(cluster, "alpha")["status"]["controlPlaneEndpoint"]
        beta_endpoint = hc_json(cluster, "beta")["status"]["controlPlaneEndpoint"]
        assert alpha_endpoint != beta_endpoint
    finally:
        delete_hosted_cluster(cluster, "beta")
    assert cluster.kubectl("get", "namespace", "clusters-beta", check=False).returncode != 0
    assert cluster.kubectl("get", "secret", "-n", NAMESPACE, "beta-admin-kubeconfig", check=False).returncode != 0
    assert cluster.kubectl("get", "hostedcontrolplanes", "-A", "-o", "name").stdout.count("beta") == 0
