"""Isolation of a hosted control plane on a real management cluster: Pod Security and NetworkPolicies.

One KWOK hosted cluster for the module. Its control-plane namespace enforces the `baseline` Pod
Security profile and warns of `restricted` (hcp.controlplane.podsecurity says why), with the real
PodSecurity admission plugin of the management cluster's API server (on by default since Kubernetes
1.25). Each workload's pod template is submitted as a Pod with a server-side dry run: admitted, with no
PodSecurity warning, so every control-plane pod meets `restricted`; a privileged pod is refused with
PodSecurity's own message.

The NetworkPolicies are checked to exist as rendered. Whether they are enforced depends on the
management cluster's network plugin: the embedded cluster's (the CNI bridge, host-local and portmap
plugins) does not enforce NetworkPolicy, so the reachability tests skip there, naming what is missing;
on a management cluster that runs a policy enforcer they dial etcd from another namespace (refused)
and the API server (reached).

Run: `pytest tests/integration/test_isolation.py -m integration` (as root, like every integration test:
it starts a management cluster of its own).
"""

from __future__ import annotations

import json
import uuid

import pytest

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
    """The name of a DaemonSet that enforces NetworkPolicy on this management cluster, if any runs."""
    for daemonset in get_json(cluster, "daemonsets", "--all-namespaces")["items"]:
        if daemonset["metadata"]["name"] in ENFORCERS:
            return daemonset["metadata"]["name"]
    return None


@pytest.fixture
def enforced(isolated):
    if enforcer(isolated) is None:
        pytest.skip("NetworkPolicy is not enforced on this management cluster: the embedded cluster's CNI "
                    "(bridge, host-local, portmap) accepts policies but has no policy engine, and no known "
                    f"enforcer ({', '.join(ENFORCERS)}) runs as a DaemonSet; reachability cannot be tested")
    return isolated


def dial(cluster: ManagementCluster, host: str, port: int) -> bool:
    """Whether a pod in a namespace of its own (not a control plane's) opens a TCP connection to host:port."""
    cluster.kubectl("create", "namespace", PROBE_NAMESPACE, check=False)
    name = f"dial-{uuid.uuid4().hex[:8]}"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": PROBE_NAMESPACE},
           "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "dial", "image": cluster.image("hcp/busybox"),
                                    "command": ["nc", "-w", "5", host, str(port)],  # busybox 1.35 (Debian static) has no -z
                                    "securityContext": {"allowPrivilegeEscalation": False,
                                                        "capabilities": {"drop": ["ALL"]}}}]}}
    cluster.kubectl("create", "-f", "-", input=json.dumps(pod))

    def finished() -> str | None:
        phase = get_json(cluster, "pod", name, "-n", PROBE_NAMESPACE)["status"].get("phase")
        return phase if phase in ("Succeeded", "Failed") else None

    phase = wait_for(finished, 120, f"the dial pod {name} to finish")
    cluster.kubectl("delete", "pod", name, "-n", PROBE_NAMESPACE, "--wait=false", check=False)
    return phase == "Succeeded"


def test_another_namespace_reaches_the_api_server_but_not_etcd(enforced):
    assert dial(enforced, f"kube-apiserver.{CONTROL_PLANE}.svc", 6443)
    assert not dial(enforced, f"etcd-client.{CONTROL_PLANE}.svc", 2379)
    assert not dial(enforced, f"etcd-0.etcd-discovery.{CONTROL_PLANE}.svc", 2380)
