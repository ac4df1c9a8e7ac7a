"""The installed operator serves its metrics and health endpoints, and the numbers describe what it did.

Scrapes go through the management cluster's API server proxy, as an admin's
`kubectl get --raw` would: to the leader's pod (the Lease names it; only the
leader's caches are filled) and once through the `operator` Service, which is
how a Prometheus on the management cluster finds it. A hosted cluster with a
KWOK NodePool gives the hcp series something to say.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hcp.operator.install import METRICS_PORT, NAMESPACE, SERVICE
from tests.integration.conftest import (
    ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for,
)

pytestmark = pytest.mark.integration

CLUSTER_NAMESPACE, NAME, POOL = "mtr", "scraped", "scraped-workers"
LEASE = "hypershift-operator"

Samples = list[tuple[str, dict[str, str], float]]


def kubectl_json(cluster: ManagementCluster, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def leader_pod(cluster: ManagementCluster) -> str:
    """The operator pod holding the Lease (its identity is its POD_NAME), once that pod exists."""
    def holder() -> str | None:
        result = cluster.kubectl("get", "lease", LEASE, "-n", NAMESPACE, "-o", "jsonpath={.spec.holderIdentity}",
                                 check=False)
        name = result.stdout.strip()
        if result.returncode != 0 or not name:
            return None
        found = cluster.kubectl("get", "pod", name, "-n", NAMESPACE, "-o", "name", check=False)
        return name if found.returncode == 0 else None

    return wait_for(holder, 120, "an operator pod to hold the leader Lease")


def raw(cluster: ManagementCluster, path: str) -> str:
    return cluster.kubectl("get", "--raw", path).stdout


def pod_path(pod: str, endpoint: str) -> str:
    return f"/api/v1/namespaces/{NAMESPACE}/pods/https:{pod}:{METRICS_PORT}/proxy{endpoint}"  # TLS only


def service_path(endpoint: str) -> str:
    return f"/api/v1/namespaces/{NAMESPACE}/services/https:{SERVICE}:metrics/proxy{endpoint}"


def parse(text: str) -> Samples:
    return [(s.name, dict(s.labels), s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def find(samples: Samples, metric: str, /, **labels: str) -> list[float]:
    """Values of the samples named `metric` whose labels include `labels` (which may have a label `name`)."""
    return [value for sample, have, value in samples
            if sample == metric and all(have.get(k) == v for k, v in labels.items())]


def scrape(cluster: ManagementCluster) -> Samples:
    return parse(raw(cluster, pod_path(leader_pod(cluster), "/metrics")))


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def cluster(operator_installed: ManagementCluster):
    """The operator installed, with a hosted cluster Available and a one-node KWOK NodePool ready."""
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, NAME, CLUSTER_NAMESPACE))
    try:
        cluster.kubectl("wait", "-n", CLUSTER_NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        release = kubectl_json(cluster, "hostedcluster", NAME, "-n", CLUSTER_NAMESPACE)["spec"]["release"]["image"]
        cluster.kubectl("apply", "-f", "-", input=f"""
apiVersion: hypershift.openshift.io/v1beta1
kind: NodePool
metadata: {{name: {POOL}, namespace: {CLUSTER_NAMESPACE}}}
spec:
  clusterName: {NAME}
  replicas: 1
  release: {{image: {release}}}
  platform: {{type: KWOK}}
  management: {{upgradeType: Replace}}
""")
        wait_for(lambda: (kubectl_json(cluster, "nodepool", POOL, "-n", CLUSTER_NAMESPACE).get("status") or {})
                 .get("replicas") == 1, 300, "the NodePool's one node to be ready")
        yield cluster
    finally:
        remove_hosted_cluster(cluster, CLUSTER_NAMESPACE, NAME)


def test_health_endpoints_answer_and_the_pod_is_ready(cluster):
    pod = leader_pod(cluster)
    assert raw(cluster, pod_path(pod, "/healthz")).strip() == "ok"
    assert raw(cluster, pod_path(pod, "/readyz")).strip() == "ok"
    state = kubectl_json(cluster, "pod", pod, "-n", NAMESPACE)
    [ready] = [c for c in state["status"]["conditions"] if c["type"] == "Ready"]
    assert ready["status"] == "True", "the readiness probe on /readyz passes"
    container = state["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_service_reaches_the_metrics(cluster):
    samples = parse(raw(cluster, service_path("/metrics")))
    assert find(samples, "controller_runtime_reconcile_total", controller="hostedcluster", result="success")
    endpoints = kubectl_json(cluster, "endpoints", SERVICE, "-n", NAMESPACE)
    ports = [p for subset in endpoints.get("subsets") or [] for p in subset.get("ports") or []]
    assert {"name": "metrics", "port": METRICS_PORT} in [{"name": p.get("name"), "port": p["port"]} for p in ports]


def test_controllers_count_their_reconciles(cluster):
    samples = scrape(cluster)
    for controller in ("hostedcluster", "nodepool", "hostedcontrolplane"):
        [successes] = find(samples, "controller_runtime_reconcile_total", controller=controller, result="success")
        [requeued] = find(samples, "controller_runtime_reconcile_total", controller=controller,
                          result="requeue_after")
        assert successes + requeued > 0, controller  # a pass that comes back later is not an error
        [count] = find(samples, "controller_runtime_reconcile_time_seconds_count", controller=controller)
        [errors] = find(samples, "controller_runtime_reconcile_errors_total", controller=controller)
        [failed] = find(samples, "controller_runtime_reconcile_total", controller=controller, result="error")
        assert errors == failed
        assert count >= successes + requeued + failed, controller
        [depth] = find(samples, "workqueue_depth", name=controller, controller=controller)
        assert depth >= 0
    for controller in ("dataplane", "hcpetcdbackup", "etcdbackupschedule"):
        assert find(samples, "controller_runtime_reconcile_total", controller=controller, result="success"), controller
    assert find(samples, "leader_election_master_status", name=LEASE) == [1.0]
    [memory] = find(samples, "process_resident_memory_bytes")
    assert memory > 0


def test_the_hosted_cluster_and_its_node_pool_are_described(cluster):
    hosted = kubectl_json(cluster, "hostedcluster", NAME, "-n", CLUSTER_NAMESPACE)
    available = next(c for c in hosted["status"]["conditions"] if c["type"] == "Available")
    assert available["status"] == "True"
    who = {"namespace": CLUSTER_NAMESPACE, "name": NAME}

    def described() -> Samples | None:
        samples = scrape(cluster)
        pool = find(samples, "hypershift_nodepools_available_replicas", namespace=CLUSTER_NAMESPACE, name=POOL)
        return samples if pool == [1.0] else None

    samples = wait_for(described, 60, "the scraped NodePool to show its ready replica", interval=2.0)
    assert find(samples, "hcp_hostedcluster_condition", **who, type="Available", status="True") == [1.0]
    assert find(samples, "hcp_hostedcluster_condition", **who, type="Available", status="False") == [0.0]
    [took] = find(samples, "hypershift_cluster_available_duration_seconds", **who)
    expected = seconds(available["lastTransitionTime"]) - seconds(hosted["metadata"]["creationTimestamp"])
    assert took == pytest.approx(expected, abs=1.0)
    assert 0 < took < time.time() - seconds(hosted["metadata"]["creationTimestamp"]) + 1
    [hosted_clusters] = find(samples, "hypershift_hostedclusters", platform="KWOK")
    assert hosted_clusters >= 1
    assert find(samples, "hypershift_hostedcluster_nodepools", **who) == [1.0]
    pool = {"namespace": CLUSTER_NAMESPACE, "name": POOL, "cluster_name": NAME, "platform": "KWOK"}
    assert find(samples, "hypershift_nodepools_size", **pool) == [1.0]
    assert find(samples, "hypershift_nodepools_available_replicas", **pool) == [1.0]
    assert find(samples, "hcp_nodepool_condition", namespace=CLUSTER_NAMESPACE, name=POOL, type="Ready",
                status="True") == [1.0]
    # No HCPEtcdBackup was taken of this cluster: no backup age (tests/integration/test_etcd_backup.py backs up).
    assert find(samples, "hcp_etcd_backup_last_success_age_seconds", **who) == []
