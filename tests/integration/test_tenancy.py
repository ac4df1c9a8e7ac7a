"""Tenancy safety, driven through kubectl as a user would: hcp never touches what is not its own.

Each test reproduces a defect of issue 14 on a real management cluster with
the operator installed, and shows the fix: ownership by UID, collisions
refused, bounded scaling, bad input reported by a condition, deletion that
always completes, and an operator killed with SIGKILL (not a graceful pod
delete) during create, update and destroy that converges with no orphans.

One hosted cluster, `c/a-b`, serves the tests that need an available control
plane (creating one is most of this module's time); it is created with the
operator killed mid-way and destroyed, with the operator killed again, by the
last test. Tests run in file order.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hcp.api.names import HOSTED_CLUSTER_UID_LABEL
from hcp.upstream import binaries
from hcp.management.layout import Layout
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, wait_for

pytestmark = pytest.mark.integration

AVAILABLE = 420.0


def get(cluster: ManagementCluster, kind: str, name: str, namespace: str | None = None) -> dict | None:
    args = ["get", kind, name, "-o", "json", "--ignore-not-found"] + (["-n", namespace] if namespace else [])
    out = cluster.kubectl(*args).stdout
    return json.loads(out) if out.strip() else None


def condition(obj: dict | None, type_: str) -> dict:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == type_), {})


def apply(cluster: ManagementCluster, manifest: str) -> None:
    cluster.kubectl("apply", "-f", "-", input=manifest)


def node_pool_manifest(cluster: ManagementCluster, name: str, namespace: str, cluster_name: str,
                       replicas: int, platform: str = "KWOK") -> str:
    config = Layout(cluster.state_dir).load_config()
    release = f"{config.registry}/hcp/release:{binaries.TOOLSETS['kubernetes'].version}"
    return f"""
apiVersion: hypershift.openshift.io/v1beta1
kind: NodePool
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  clusterName: {cluster_name}
  replicas: {replicas}
  release: {{image: {release}}}
  platform: {{type: {platform}}}
  management: {{upgradeType: Replace}}
"""


def delete_and_wait(cluster: ManagementCluster, kind: str, name: str, namespace: str, timeout: float = 300) -> None:
    cluster.kubectl("delete", "-n", namespace, f"{kind}/{name}", "--ignore-not-found", "--wait=true",
                    f"--timeout={int(timeout)}s", timeout=timeout + 60)


def owned_by(cluster: ManagementCluster, uid: str) -> list[str]:
    """Namespaces and Secrets anywhere that still carry a HostedCluster's UID mark."""
    found = []
    for kind in ("namespaces", "secrets"):
        items = json.loads(cluster.kubectl("get", kind, "-A", "-l", f"{HOSTED_CLUSTER_UID_LABEL}={uid}",
                                           "-o", "json").stdout)["items"]
        found += [f"{kind} {i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items]
    return found


def kill_operator(cluster: ManagementCluster) -> int:
    """SIGKILL the operator's process, found on the host by its command line and its cluster's cgroup."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cgroup = (proc / "cgroup").read_text()
        except OSError:
            continue
        if "-m hcp.operator" in cmdline and f"/hcp-{cluster.name}/" in cgroup:  # not another worker's
            os.kill(int(proc.name), signal.SIGKILL)
            return int(proc.name)
    raise AssertionError("no operator process of this management cluster found")


def wait_operator_running(cluster: ManagementCluster) -> None:
    cluster.kubectl("rollout", "status", "-n", "hypershift", "deployment/operator", "--timeout=180s", timeout=240)


def test_deleting_a_hosted_cluster_never_deletes_a_namespace_it_does_not_own(operator_installed):
    cluster = operator_installed
    cluster.kubectl("create", "namespace", "rel-victim")
    cluster.kubectl("create", "configmap", "precious", "-n", "rel-victim", "--from-literal=keep=me")
    config = Layout(cluster.state_dir).load_config()
    apply(cluster, hosted_cluster_manifest(cluster, "victim", "rel",
                                           release=f"{config.registry}/hcp/release:v0.0.0-missing"))
    try:
        hc = wait_for(lambda: (h := get(cluster, "hostedcluster", "victim", "rel"))
                      and condition(h, "ValidConfiguration").get("status") == "False" and h, 120,
                      "ValidConfiguration=False")
        message = condition(hc, "ValidConfiguration")["message"]
        assert "namespace rel-victim already exists and it was not made by hcp" in message
        assert "never deletes it" in message
    finally:
        delete_and_wait(cluster, "hostedcluster", "victim", "rel")
    assert get(cluster, "configmap", "precious", "rel-victim")["data"] == {"keep": "me"}
    assert get(cluster, "namespace", "rel-victim")["status"]["phase"] == "Active"
    cluster.kubectl("delete", "namespace", "rel-victim", "rel", "--wait=false")


def test_unservable_specs_get_a_condition_and_deletion_completes(operator_installed):
    """What the API admits but hcp cannot serve: a condition within one pass, and a clean delete."""
    cluster = operator_installed
    namespace = "n" * 30
    name = "c" * 33  # <namespace>-<name> is 64 characters: no DNS label
    apply(cluster, hosted_cluster_manifest(cluster, name, namespace))
    try:
        hc = wait_for(lambda: (h := get(cluster, "hostedcluster", name, namespace))
                      and condition(h, "ValidConfiguration").get("status") == "False" and h, 120,
                      "ValidConfiguration=False for a too-long control-plane namespace")
        assert "must be a DNS label of at most 63 characters" in condition(hc, "ValidConfiguration")["message"]
    finally:
        delete_and_wait(cluster, "hostedcluster", name, namespace, timeout=120)
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found")


def test_a_spec_the_api_server_refuses_to_render_gets_a_condition_and_deletion_completes(operator_installed):
    """nodePort 80 is a valid port, but outside the management cluster's node-port range: a condition, no loop."""
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, "port80", "tp")
    address = Layout(cluster.state_dir).load_config().node_ip
    manifest = manifest.replace(f"nodePort: {{address: {address}}}", f"nodePort: {{address: {address}, port: 80}}", 1)
    apply(cluster, manifest)
    try:
        hcp = wait_for(lambda: (h := get(cluster, "hostedcontrolplane", "port80", "tp-port80"))
                       and condition(h, "ValidConfiguration").get("status") == "False" and h, 180,
                       "ValidConfiguration=False on the HostedControlPlane")
        message = condition(hcp, "ValidConfiguration")["message"]
        assert message.startswith("the API server refused a control-plane object:") and "80" in message
        hc = wait_for(lambda: (h := get(cluster, "hostedcluster", "port80", "tp"))
                      and condition(h, "Available").get("message") == message and h, 120,
                      "the HostedCluster to report why")
        assert condition(hc, "Available")["status"] == "False"
    finally:
        delete_and_wait(cluster, "hostedcluster", "port80", "tp", timeout=180)
        cluster.kubectl("delete", "namespace", "tp", "--wait=false", "--ignore-not-found")


@pytest.fixture(scope="module")
def tenant(operator_installed) -> dict:
    """HostedCluster c/a-b, created while its operator is SIGKILLed mid-way; the last test destroys it."""
    cluster = operator_installed
    apply(cluster, hosted_cluster_manifest(cluster, "a-b", "c"))
    uid = wait_for(lambda: ((get(cluster, "hostedcluster", "a-b", "c") or {}).get("metadata") or {}).get("uid"),
                   30, "the HostedCluster")
    wait_for(lambda: get(cluster, "namespace", "c-a-b"), 120, "the control-plane namespace")
    kill_operator(cluster)
    try:
        cluster.kubectl("wait", "-n", "c", "hostedcluster/a-b", "--for=condition=Available",
                        f"--timeout={int(AVAILABLE)}s", timeout=AVAILABLE + 60)
        yield {"uid": uid}
    finally:
        delete_and_wait(cluster, "hostedcluster", "a-b", "c")
        cluster.kubectl("delete", "namespace", "c", "c-a", "--wait=false", "--ignore-not-found")


def test_killed_during_create_the_operator_still_brings_the_control_plane_up(operator_installed, tenant):
    hc = get(operator_installed, "hostedcluster", "a-b", "c")
    assert condition(hc, "Available")["status"] == "True"
    namespace = get(operator_installed, "namespace", "c-a-b")
    assert namespace["metadata"]["labels"][HOSTED_CLUSTER_UID_LABEL] == tenant["uid"]


def test_two_hosted_clusters_never_share_a_control_plane(operator_installed, tenant):
    """`c/a-b` and `c-a/b` both map to namespace c-a-b: the second is refused and its deletion harms nothing."""
    cluster = operator_installed
    etcd_uid = get(cluster, "pod", "etcd-0", "c-a-b")["metadata"]["uid"]
    apply(cluster, hosted_cluster_manifest(cluster, "b", "c-a"))
    try:
        second = wait_for(lambda: (h := get(cluster, "hostedcluster", "b", "c-a"))
                          and condition(h, "ValidConfiguration").get("status") == "False" and h, 120,
                          "the second HostedCluster to be refused")
        assert "it is the control plane of HostedCluster c/a-b" in condition(second, "ValidConfiguration")["message"]
        assert condition(second, "Available").get("status") != "True"
    finally:
        delete_and_wait(cluster, "hostedcluster", "b", "c-a")
    first = get(cluster, "hostedcluster", "a-b", "c")
    assert condition(first, "Available")["status"] == "True"
    assert get(cluster, "namespace", "c-a-b")["status"]["phase"] == "Active"
    assert get(cluster, "pod", "etcd-0", "c-a-b")["metadata"]["uid"] == etcd_uid


def test_a_pool_hcp_cannot_serve_never_delays_its_sibling(operator_installed, tenant):
    """And a pool updated while the operator is SIGKILLed still converges."""
    cluster = operator_installed
    apply(cluster, node_pool_manifest(cluster, "outside", "c", "a-b", 1, platform="Container"))
    apply(cluster, node_pool_manifest(cluster, "sim", "c", "a-b", 2))
    wait_for(lambda: get(cluster, "nodepool", "sim", "c"), 30, "the NodePool")
    kill_operator(cluster)
    wait_for(lambda: (get(cluster, "nodepool", "sim", "c") or {}).get("status", {}).get("replicas") == 2,
             AVAILABLE, "2 nodes in the sibling pool after the operator was killed")
    outside = get(cluster, "nodepool", "outside", "c")
    assert condition(outside, "ValidPlatformConfig")["status"] == "False"
    assert ("a HostedCluster of platform KWOK cannot serve NodePools of platform Container"
            in condition(outside, "ValidPlatformConfig")["message"])
    assert condition(outside, "Ready")["reason"] == "ValidPlatformConfigFailed"
    delete_and_wait(cluster, "nodepool", "outside", "c", timeout=60)


def hosted_nodes(cluster: ManagementCluster, namespace: str, name: str) -> Callable[[], int]:
    secret = cluster.kubectl("get", "secret", "-n", namespace, f"{name}-admin-kubeconfig",
                             "-o", "jsonpath={.data.kubeconfig}").stdout
    kubeconfig = cluster.state_dir / f"{namespace}-{name}.kubeconfig"
    kubeconfig.write_bytes(base64.b64decode(secret))
    kubeconfig.chmod(0o600)

    def count() -> int:
        out = subprocess.run([str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig),
                              "get", "nodes", "--no-headers"], capture_output=True, text=True, timeout=60)
        return len(out.stdout.splitlines())

    return count


def test_a_scale_down_during_a_large_scale_up_takes_effect(operator_installed, tenant):
    """Machines come in bounded batches, each re-reading the desired count: 1000 → 0 stops the growth."""
    cluster = operator_installed
    too_many = cluster.kubectl("apply", "-f", "-", check=False,
                               input=node_pool_manifest(cluster, "huge", "c", "a-b", 100000))
    assert too_many.returncode != 0 and "1000" in too_many.stderr
    nodes = hosted_nodes(cluster, "c", "a-b")
    before = nodes()
    apply(cluster, node_pool_manifest(cluster, "grow", "c", "a-b", 1000))
    wait_for(lambda: nodes() >= before + 100, 300, "the scale-up to pass 100 nodes")
    cluster.kubectl("scale", "-n", "c", "nodepool/grow", "--replicas=0")
    peak = 0

    def shrunk() -> bool:
        nonlocal peak
        count = nodes() - before
        peak = max(peak, count)
        return count == 0

    wait_for(shrunk, 600, "the pool to shrink to 0 nodes", interval=2.0)
    assert peak < 1000, f"the scale-up ran to {peak} nodes after the pool was scaled to 0"
    delete_and_wait(cluster, "nodepool", "grow", "c", timeout=120)


def test_killed_during_destroy_the_operator_leaves_no_orphans(operator_installed, tenant):
    cluster = operator_installed
    cluster.kubectl("delete", "-n", "c", "hostedcluster/a-b", "--wait=false")
    wait_operator_running(cluster)
    kill_operator(cluster)
    wait_for(lambda: get(cluster, "hostedcluster", "a-b", "c") is None, 420,
             "the HostedCluster to be deleted after the operator was killed")
    wait_for(lambda: get(cluster, "namespace", "c-a-b") is None, 300, "the control-plane namespace to go")
    assert get(cluster, "nodepool", "sim", "c") is None
    assert owned_by(cluster, tenant["uid"]) == []
