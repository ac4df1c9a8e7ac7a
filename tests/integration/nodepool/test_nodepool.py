"""NodePools of simulated (KWOK) machines on a real hosted cluster, driven with kubectl as the docs do."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hcp.upstream import binaries
from tests.integration.nodepool.conftest import (
    CONTROL_PLANE_TOOLSET,
    NAMESPACE,
    HostedCluster,
    create_hosted_cluster,
    delete_hosted_cluster,
    release_image,
    wait_for,
)

pytestmark = pytest.mark.integration

VERSION = binaries.TOOLSETS[CONTROL_PLANE_TOOLSET].version
COLUMNS = ["NAME", "CLUSTER", "DESIRED", "NODES", "CURRENT", "NODES", "AUTOSCALING", "AUTOREPAIR", "VERSION",
           "UPDATINGVERSION", "UPDATINGCONFIG", "MESSAGE"]


def deployment(name: str, replicas: int, cpu: str = "100m") -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                     {"name": "app", "image": "registry.example/app:1",
                      "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}}},
    })


def running_pods(cluster: HostedCluster, app: str) -> dict[str, str]:
    pods = cluster.hosted_json("get", "pods", "-n", "default", "-l", f"app={app}")["items"]
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")}


def fail_node(cluster: HostedCluster, node: str) -> None:
    """The machine dies: kwok stops playing its kubelet, and the node reports NotReady."""
    cluster.hosted("annotate", "node", node, "kwok.x-k8s.io/node-")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = {"type": "Ready", "status": "False", "reason": "SimulatedFailure", "message": "machine failed",
             "lastHeartbeatTime": now, "lastTransitionTime": now}
    cluster.hosted("patch", "node", node, "--subresource=status", "--type=strategic",
                   "-p", json.dumps({"status": {"conditions": [ready]}}))


def test_scale_0_to_3_to_1_drains_through_the_eviction_api(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("scale", replicas=0, nodeDrainTimeout="20s", nodeLabels={"tier": "sim"},
                            taints=[{"key": "example.com/sim", "value": "yes", "effect": "PreferNoSchedule"}])
    wait_for(lambda: cluster.condition("scale", "Ready").get("status") == "True", 60, "an empty pool to be Ready")

    cluster.kubectl("scale", "nodepool/scale", "-n", NAMESPACE, "--replicas=3")
    wait_for(lambda: len(cluster.ready_nodes("scale")) == 3, 60, "3 Ready nodes")
    node = cluster.nodes("scale")[0]
    assert node["metadata"]["name"].startswith("scale-")
    assert node["metadata"]["labels"]["tier"] == "sim"
    # node.kubernetes.io/* taints come and go with the node lifecycle controller, not with the pool
    pool_taints = [t for t in node["spec"]["taints"] if not t["key"].startswith("node.kubernetes.io/")]
    assert pool_taints == [{"key": "example.com/sim", "value": "yes", "effect": "PreferNoSchedule"}]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSION
    assert node["status"]["capacity"] == {"cpu": "4", "memory": "16Gi", "pods": "110"}
    wait_for(lambda: cluster.nodepool("scale")["status"].get("replicas") == 3, 30, "status.replicas 3")
    lines = cluster.kubectl("get", "nodepools", "-n", NAMESPACE).stdout.splitlines()
    assert lines[0].split() == COLUMNS
    assert next(line for line in lines if line.startswith("scale ")).split() == [
        "scale", "pools", "3", "3", "False", "False", VERSION.lstrip("v"), "False", "False",
    ]

    cluster.hosted("apply", "-f", "-", input=deployment("web", 6))
    wait_for(lambda: len(running_pods(cluster, "web")) == 6, 60, "6 web pods Running on the simulated nodes")
    # A PodDisruptionBudget that allows no eviction holds a drain until nodeDrainTimeout.
    cluster.hosted("create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=6")
    cluster.kubectl("scale", "nodepool/scale", "-n", NAMESPACE, "--replicas=1")
    wait_for(lambda: len(cluster.ready_nodes("scale")) == 1, 30, "two nodes cordoned")
    cordoned = [n["metadata"]["name"] for n in cluster.nodes("scale") if n["spec"].get("unschedulable")]
    assert len(cordoned) == 2
    assert len(running_pods(cluster, "web")) == 6, "the PodDisruptionBudget was not respected"
    wait_for(lambda: len(cluster.nodes("scale")) == 1, 60, "the drain timeout to remove the cordoned nodes")
    survivor = cluster.ready_nodes("scale")
    wait_for(lambda: set(running_pods(cluster, "web").values()) == set(survivor)
             and len(running_pods(cluster, "web")) == 6, 90, "all web pods back on the remaining node")
    cluster.hosted("delete", "poddisruptionbudget", "web")
    cluster.hosted("delete", "deployment", "web")
    cluster.delete_nodepool("scale")


def test_drain_moves_pods_as_a_budget_allows(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("drain", replicas=2)
    wait_for(lambda: len(cluster.ready_nodes("drain")) == 2, 60, "2 Ready nodes")
    cluster.hosted("apply", "-f", "-", input=deployment("api", 4))
    wait_for(lambda: len(running_pods(cluster, "api")) == 4, 60, "4 api pods Running")
    cluster.hosted("create", "poddisruptionbudget", "api", "--selector=app=api", "--max-unavailable=1")
    cluster.kubectl("scale", "nodepool/drain", "-n", NAMESPACE, "--replicas=1")
    wait_for(lambda: len(cluster.nodes("drain")) == 1, 90, "the drained node to go (no drain timeout set)")
    survivor = cluster.ready_nodes("drain")
    wait_for(lambda: set(running_pods(cluster, "api").values()) == set(survivor)
             and len(running_pods(cluster, "api")) == 4, 60, "all api pods on the remaining node")
    cluster.hosted("delete", "poddisruptionbudget", "api")
    cluster.hosted("delete", "deployment", "api")
    cluster.delete_nodepool("drain")
    assert cluster.nodes("drain") == [], "deleting a NodePool must delete its nodes"


def test_scaling_to_zero_keeps_the_control_plane_available(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("zero", replicas=2, nodeDrainTimeout="30s")
    wait_for(lambda: len(cluster.ready_nodes("zero")) == 2, 60, "2 Ready nodes")
    cluster.kubectl("scale", "nodepool/zero", "-n", NAMESPACE, "--replicas=0")
    wait_for(lambda: cluster.nodes("zero") == [], 60, "every node of the pool gone")
    hc = json.loads(cluster.kubectl("get", "hostedcluster", cluster.name, "-n", NAMESPACE, "-o", "json").stdout)
    assert next(c for c in hc["status"]["conditions"] if c["type"] == "Available")["status"] == "True"
    assert cluster.hosted("get", "--raw", "/readyz").stdout == "ok"
    assert cluster.condition("zero", "Ready")["status"] == "True"
    assert cluster.nodepool("zero")["status"]["replicas"] == 0
    cluster.delete_nodepool("zero")


def test_autoscaling_follows_pending_pods_and_the_documented_patches_switch_it(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("auto", replicas=1, annotations={"hcp.io/scale-down-unneeded-time": "15s"})
    wait_for(lambda: len(cluster.ready_nodes("auto")) == 1, 60, "1 Ready node")
    cluster.kubectl("-n", NAMESPACE, "patch", "nodepool", "auto", "--type=json", "-p",
                    '[{"op": "remove", "path": "/spec/replicas"},'
                    '{"op":"add", "path": "/spec/autoScaling", "value": { "max": 3, "min": 1 }}]')
    wait_for(lambda: cluster.condition("auto", "AutoscalingEnabled").get("status") == "True", 30,
             "AutoscalingEnabled")

    # 5 pods of 1.5 CPU: two fit a 4-CPU node, so three nodes are needed.
    cluster.hosted("apply", "-f", "-", input=deployment("burst", 5, cpu="1500m"))
    wait_for(lambda: len(cluster.ready_nodes("auto")) == 3, 240, "autoscaling up to 3 nodes")
    wait_for(lambda: len(running_pods(cluster, "burst")) == 5, 180, "every burst pod Running")  # scheduler backoff
    assert len(cluster.nodes("auto")) == 3, "autoscaling went past what the pods needed"

    cluster.hosted("delete", "deployment", "burst")
    wait_for(lambda: len(cluster.nodes("auto")) == 1, 120, "autoscaling back down to min 1")

    cluster.kubectl("-n", NAMESPACE, "patch", "nodepool", "auto", "--type=json", "-p",
                    '[{"op":"remove", "path": "/spec/autoScaling"},'
                    '{"op": "add", "path": "/spec/replicas", "value": 2}]')
    wait_for(lambda: len(cluster.ready_nodes("auto")) == 2, 60, "2 nodes once autoscaling is off")
    assert cluster.condition("auto", "AutoscalingEnabled")["status"] == "False"
    cluster.delete_nodepool("auto")


def test_auto_repair_replaces_a_failed_machine_unless_too_many_failed(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("repair", replicas=2, annotations={
        "hypershift.openshift.io/machine-health-check-timeout": "10s",
        "hypershift.openshift.io/machine-health-check-max-unhealthy": "0",
    })
    wait_for(lambda: len(cluster.ready_nodes("repair")) == 2, 60, "2 Ready nodes")
    cluster.kubectl("-n", NAMESPACE, "patch", "nodepool", "repair", "--type=merge",
                    "-p", '{"spec": {"management": {"autoRepair":true}}}')
    wait_for(lambda: cluster.condition("repair", "AutorepairEnabled").get("status") == "True", 30,
             "AutorepairEnabled")
    failed = cluster.ready_nodes("repair")[0]
    fail_node(cluster, failed)

    # maxUnhealthy 0: nothing may be replaced, and the pool says why.
    healthy = wait_for(lambda: cluster.condition("repair", "AllNodesHealthy").get("reason") == "TooManyUnhealthy"
                       and cluster.condition("repair", "AllNodesHealthy"), 60, "repair to be held back")
    assert "none is replaced" in healthy["message"]
    assert cluster.condition("repair", "Ready")["message"] == \
        "Minimum availability requires 2 replicas, current 1 available"
    assert failed in [n["metadata"]["name"] for n in cluster.nodes("repair")]

    cluster.kubectl("-n", NAMESPACE, "annotate", "nodepool", "repair", "--overwrite",
                    "hypershift.openshift.io/machine-health-check-max-unhealthy=2")
    wait_for(lambda: failed not in [n["metadata"]["name"] for n in cluster.nodes("repair")], 60,
             "the failed machine to be removed")
    wait_for(lambda: len(cluster.ready_nodes("repair")) == 2, 60, "a replacement machine")
    wait_for(lambda: cluster.condition("repair", "AllNodesHealthy").get("status") == "True", 30, "AllNodesHealthy")
    cluster.delete_nodepool("repair")


def test_paused_nodepool_is_not_reconciled_until_resumed(hosted_cluster):
    cluster = hosted_cluster
    cluster.create_nodepool("paused", replicas=1, pausedUntil="true")
    wait_for(lambda: cluster.condition("paused", "ReconciliationPaused").get("status") == "True", 30,
             "ReconciliationPaused")
    assert cluster.nodes("paused") == []
    cluster.kubectl("-n", NAMESPACE, "patch", "nodepool", "paused", "--type=json",
                    "-p", '[{"op": "remove", "path": "/spec/pausedUntil"}]')
    wait_for(lambda: len(cluster.ready_nodes("paused")) == 1, 60, "the node once resumed")
    assert cluster.condition("paused", "ReconciliationPaused")["status"] == "False"
    cluster.delete_nodepool("paused")


def test_invalid_nodepools_are_refused_with_a_reason(hosted_cluster):
    cluster = hosted_cluster
    newer = release_image(cluster.management, "kubernetes")
    cluster.create_nodepool("newer", replicas=1, release=newer)
    refused = wait_for(lambda: cluster.condition("newer", "ValidReleaseImage").get("status") == "False"
                       and cluster.condition("newer", "ValidReleaseImage"), 60, "ValidReleaseImage False")
    assert "is newer than the control plane's" in refused["message"]
    assert cluster.nodes("newer") == []

    cluster.create_nodepool("orphan", replicas=1, cluster="no-such-cluster")
    missing = wait_for(lambda: cluster.condition("orphan", "ValidHostedCluster").get("status") == "False"
                       and cluster.condition("orphan", "ValidHostedCluster"), 60, "ValidHostedCluster False")
    assert missing["message"] == f"HostedCluster no-such-cluster not found in namespace {NAMESPACE}"

    cluster.create_nodepool("unknown", replicas=1, release=newer.rsplit(":", 1)[0] + ":v0.0.1")
    unknown = wait_for(lambda: cluster.condition("unknown", "ValidReleaseImage").get("status") == "False"
                       and cluster.condition("unknown", "ValidReleaseImage"), 60, "ValidReleaseImage False")
    assert "not found in the registry" in unknown["message"]

    both = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
            "metadata": {"name": "both", "namespace": NAMESPACE},
            "spec": {"clusterName": cluster.name, "replicas": 1, "autoScaling": {"min": 1, "max": 2},
                     "release": {"image": newer}, "management": {"upgradeType": "Replace"},
                     "platform": {"type": "KWOK"}}}
    rejected = cluster.kubectl("apply", "-f", "-", input=json.dumps(both), check=False)
    assert rejected.returncode != 0
    assert "Both replicas or autoScaling should not be set" in rejected.stderr  # HyperShift's words
    for name in ("newer", "orphan", "unknown"):
        cluster.delete_nodepool(name)


def test_deleting_a_hosted_cluster_deletes_its_nodepools_and_nodes(operator_installed, tmp_path):
    doomed = create_hosted_cluster(operator_installed, "np-doomed", "doomed", tmp_path)
    doomed.create_nodepool("doomed-workers", replicas=2)
    wait_for(lambda: len(doomed.ready_nodes("doomed-workers")) == 2, 60, "2 Ready nodes")
    delete_hosted_cluster(operator_installed, "np-doomed", "doomed")
    left = operator_installed.kubectl("get", "nodepools,hostedclusters", "-n", "np-doomed", "-o", "name").stdout
    assert left.strip() == ""
    assert operator_installed.kubectl("get", "namespace", "np-doomed-doomed", check=False).returncode != 0
