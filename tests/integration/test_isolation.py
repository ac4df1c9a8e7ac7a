"""Isolation of a hosted control plane on a real management cluster: Pod Security and NetworkPolicies.

One KWOK hosted cluster for the module. Its control-plane namespace enforces the `baseline` Pod
Security profile and warns of `restricted` (hcp.controlplane.podsecurity says why), with the real
PodSecurity admission plugin of the management cluster's API server (on by default since Kubernetes
1.25). Each workload's pod template is submitted as a Pod with a server-side dry run: admitted, with no
PodSecurity warning, so every control-plane pod meets `restricted`; a privileged pod is refused with
PodSecurity's own message.

The NetworkPolicies are checked to exist as rendered, and enforced: a pod in another namespace dials
etcd (refused) and the API server (reached). Enforcement is the management cluster's network plugin's
job. The embedded cluster's CNI (the bridge, host-local and portmap plugins) has no policy engine of its
own; beside it the node runs kube-router's firewall as a host process (hcp.management.host_processes),
which this module finds healthy in the supervisor's report, with its chains in the node's iptables. On
another management cluster a known enforcer's DaemonSet is looked for. Where none runs, the
reachability test skips, naming what is missing.

Run: `pytest tests/integration/test_isolation.py -m integration` (as root, like every integration test:
it starts a management cluster of its own).
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from hcp.management.cluster import component_status
from hcp.management.layout import Layout
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for
from tests.integration.test_hosted_control_plane import wait_available

pytestmark = pytest.mark.integration

NAME = "isolated"
NAMESPACE = "clusters-iso"
"""A namespace of this module's own, removed with the cluster."""
CONTROL_PLANE = f"{NAMESPACE}-{NAME}"
POLICIES = {"default-deny-ingress", "same-control-plane", "kube-apiserver", "konnectivity-server", "operator",
            "monitoring"}
"""The policies of a KWOK cluster (no ignition server, no machines: their policies are not rendered)."""
ENFORCERS = ("kube-router", "calico-node", "cilium", "antrea-agent", "weave-net", "kube-network-policies")
"""DaemonSets (any namespace) of network plugins or controllers known to enforce NetworkPolicy."""
PROBE_NAMESPACE = "isolation-probe"


@pytest.fixture(scope="module")
def isolated(operator_installed: ManagementCluster):
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, NAME, NAMESPACE))
    wait_available(cluster, NAME, NAMESPACE)
    yield cluster
    cluster.kubectl("delete", "namespace", PROBE_NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
    remove_hosted_cluster(cluster, NAMESPACE, NAME)


def get_json(cluster: ManagementCluster, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def test_the_control_plane_namespace_enforces_baseline_and_warns_of_restricted(isolated):
    labels = get_json(isolated, "namespace", CONTROL_PLANE)["metadata"]["labels"]
    for mode, level in (("enforce", "baseline"), ("audit", "restricted"), ("warn", "restricted")):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == level, mode
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest", mode


def test_every_control_plane_pod_was_admitted_under_it(isolated):
    """Available: every workload has its pods, and none was refused or warned of on the way."""
    for kind in ("deployments", "statefulsets"):
        for workload in get_json(isolated, kind, "-n", CONTROL_PLANE)["items"]:
            name, status = workload["metadata"]["name"], workload.get("status") or {}
            assert status.get("readyReplicas", 0) == workload["spec"]["replicas"], f"{kind}/{name}: {status}"
    refused = [event["message"] for event in get_json(isolated, "events", "-n", CONTROL_PLANE)["items"]
               if "PodSecurity" in (event.get("message") or "")]
    assert refused == []


def test_each_workloads_pod_template_passes_pod_security_admission_as_a_pod(isolated):
    """The templates themselves, judged by the API server (a dry run: nothing is created)."""
    templates = [(f"{kind}/{w['metadata']['name']}", w["spec"]["template"])
                 for kind in ("deployments", "statefulsets")
                 for w in get_json(isolated, kind, "-n", CONTROL_PLANE)["items"]]
    assert templates
    for index, (what, template) in enumerate(templates):
        spec = dict(template["spec"])
        # A StatefulSet's claim templates become PersistentVolumeClaim volumes on its pods.
        claims = [w for kind in ("statefulsets",) for w in get_json(isolated, kind, "-n", CONTROL_PLANE)["items"]
                  if what == f"statefulsets/{w['metadata']['name']}"]
        spec["volumes"] = [*spec.get("volumes", []), *(
            {"name": claim["metadata"]["name"],
             "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-psa-check"}}
            for workload in claims for claim in workload["spec"].get("volumeClaimTemplates", []))]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"psa-check-{index}", "namespace": CONTROL_PLANE}, "spec": spec}
        result = isolated.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
        assert result.returncode == 0, f"{what}: {result.stderr}"
        assert "PodSecurity" not in result.stderr, f"{what} warned: {result.stderr}"


def test_a_privileged_pod_is_refused_by_pod_security(isolated):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "privileged", "namespace": CONTROL_PLANE},
           "spec": {"containers": [{"name": "c", "image": isolated.image("hcp/busybox"),
                                    "securityContext": {"privileged": True}}]}}
    result = isolated.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
    assert result.returncode != 0
    assert 'violates PodSecurity "baseline:latest"' in result.stderr, result.stderr
    assert "privileged" in result.stderr


def test_the_network_policies_are_rendered_into_the_namespace(isolated):
    items = get_json(isolated, "networkpolicies", "-n", CONTROL_PLANE)["items"]
    names = {item["metadata"]["name"] for item in items}
    assert names == POLICIES
    for item in items:
        assert item["metadata"]["labels"]["hcp.io/control-plane-component"] == "network-policy"
        assert item["spec"]["policyTypes"] == ["Ingress"]


def enforcer(cluster: ManagementCluster) -> str | None:
    """What enforces NetworkPolicy on this management cluster, if anything that does runs: the embedded
    node's kube-router host process, or a known enforcer's DaemonSet."""
    return embedded_enforcer(cluster) or next(
        (daemonset["metadata"]["name"] for daemonset in get_json(cluster, "daemonsets", "--all-namespaces")["items"]
         if daemonset["metadata"]["name"] in ENFORCERS), None)


def embedded_enforcer(cluster: ManagementCluster) -> str | None:
    """The embedded node's kube-router, if it runs and works: healthy in the supervisor's report (its caches
    synced, its policy controller syncing) and its chains hooked into the node's filter table."""
    layout = Layout(cluster.state_dir)
    config = layout.load_config()
    if config is None or not any(status.name == "kube-router" and status.healthy
                                 for status in component_status(layout, config)):
        return None
    rules = subprocess.run(["ip", "netns", "exec", config.netns, "iptables", "-t", "filter", "-S", "FORWARD"],
                           capture_output=True, text=True)
    if "-j KUBE-ROUTER-FORWARD" not in rules.stdout:
        return None
    return "kube-router (the embedded node's host process)"


@pytest.fixture
def enforced(isolated):
    if enforcer(isolated) is None:
        pytest.skip("NetworkPolicy is not enforced on this management cluster: neither the embedded node's "
                    "kube-router runs healthy with its chains in place, nor a known enforcer "
                    f"({', '.join(ENFORCERS)}) as a DaemonSet; reachability cannot be tested")
    return isolated


def dial(cluster: ManagementCluster, host: str, port: int, namespace: str = PROBE_NAMESPACE,
         labels: dict[str, str] | None = None) -> bool:
    """Whether a pod (by default in a namespace of its own, not a control plane's) opens a TCP connection
    to host:port.

    With busybox's `nc` (1.35, Debian's static build: it has no `-z`) and no stdin: it exits 0 once
    connected, 1 when refused (a policy's REJECT) or timed out.
    """
    cluster.kubectl("create", "namespace", namespace, check=False)
    name = f"dial-{uuid.uuid4().hex[:8]}"
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
           "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "dial", "image": cluster.image("hcp/busybox"),
                                    "command": ["nc", "-w", "5", host, str(port)],  # busybox 1.35 (Debian static) has no -z
                                    "securityContext": {"allowPrivilegeEscalation": False,
                                                        "capabilities": {"drop": ["ALL"]}}}]}}
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))

    def finished() -> str | None:
        phase = get_json(cluster, "pod", name, "-n", namespace)["status"].get("phase")
        return phase if phase in ("Succeeded", "Failed") else None

    phase = wait_for(finished, 120, f"the dial pod {name} to finish")
    cluster.kubectl("delete", "pod", name, "-n", namespace, "--wait=false", check=False)
    return phase == "Succeeded"


def test_another_namespace_reaches_the_api_server_but_not_etcd(enforced):
    etcd = {2379: f"etcd-client.{CONTROL_PLANE}.svc", 2380: f"etcd-0.etcd-discovery.{CONTROL_PLANE}.svc"}
    assert dial(enforced, f"kube-apiserver.{CONTROL_PLANE}.svc", 6443)
    for port, host in etcd.items():
        assert not dial(enforced, host, port), port
    # etcd serves both ports: a pod of the control plane (policy same-control-plane) is let in. So the
    # refusals above are the policies' doing.
    control_plane_pod = {"hypershift.openshift.io/control-plane-component": "isolation-probe"}
    for port, host in etcd.items():
        assert dial(enforced, host, port, namespace=CONTROL_PLANE, labels=control_plane_pod), port
