"""Hosted-cluster metrics from cached objects: plain dicts, as the informers' generic resources render."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from hcp.api.names import CLUSTER_ANNOTATION
from hcp.operator.metrics import CacheCollector

CREATED = "2030-01-01T00:00:00Z"
T0 = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
CLUSTER_ID = "6f1c3a52-2d5e-4b7a-9c4e-1f2a3b4c5d6e"


def condition(type_: str, status: str, at: str) -> dict:
    return {"type": type_, "status": status, "reason": "AsExpected", "message": "", "lastTransitionTime": at}


def hosted_cluster(name: str, *, conditions: list[dict], platform: str = "KWOK", deleted: str | None = None) -> dict:
    metadata = {"name": name, "namespace": "clusters", "creationTimestamp": CREATED}
    if deleted:
        metadata["deletionTimestamp"] = deleted
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster", "metadata": metadata,
            "spec": {"clusterID": CLUSTER_ID if name == "demo" else None, "platform": {"type": platform}},
            "status": {"conditions": conditions}}


def node_pool(name: str, cluster: str, *, replicas: int | None, ready: int | None) -> dict:
    spec = {"clusterName": cluster, "platform": {"type": "KWOK"}}
    if replicas is None:
        spec["autoScaling"] = {"min": 1, "max": 3}
    else:
        spec["replicas"] = replicas
    status = {"conditions": [condition("Ready", "True", "2030-01-01T00:05:00Z")]}
    if ready is not None:
        status["replicas"] = ready
    return {"metadata": {"name": name, "namespace": "clusters", "creationTimestamp": CREATED}, "spec": spec,
            "status": status}


def control_plane(cluster: str) -> dict:
    return {"metadata": {"name": cluster, "namespace": f"clusters-{cluster}",
                         "annotations": {CLUSTER_ANNOTATION: f"clusters/{cluster}"}}}


def backup(name: str, namespace: str, status: str, at: str, annotations: dict | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
            "status": {"conditions": [condition("BackupCompleted", status, at)]}}


class Cache:
    def __init__(self, *objects) -> None:
        self.objects = list(objects)

    def list(self, namespace=None):
        return self.objects


def scrape(now: float, **caches) -> CollectorRegistry:
    registry = CollectorRegistry()
    defaults = {"clusters": Cache(), "node_pools": Cache(), "control_planes": Cache(), "backups": Cache()}
    registry.register(CacheCollector(**{**defaults, **caches}, clock=lambda: now))
    return registry


def test_hosted_clusters_by_condition_and_time_to_available():
    clusters = Cache(
        hosted_cluster("demo", conditions=[condition("Available", "True", "2030-01-01T00:04:10Z"),
                                           condition("Degraded", "False", "2030-01-01T00:04:10Z")]),
        hosted_cluster("slow", conditions=[condition("Available", "False", CREATED)]),
    )
    registry = scrape(T0 + 3600, clusters=clusters)
    get = registry.get_sample_value
    available = {"namespace": "clusters", "name": "demo", "type": "Available"}
    assert get("hcp_hostedcluster_condition", {**available, "status": "True"}) == 1
    assert get("hcp_hostedcluster_condition", {**available, "status": "False"}) == 0
    assert get("hcp_hostedcluster_condition", {**available, "status": "Unknown"}) == 0
    assert get("hcp_hostedcluster_condition",
               {"namespace": "clusters", "name": "slow", "type": "Available", "status": "False"}) == 1
    assert get("hcp_hostedcluster_condition",
               {"namespace": "clusters", "name": "demo", "type": "Degraded", "status": "False"}) == 1
    assert get("hypershift_cluster_available_duration_seconds",
               {"namespace": "clusters", "name": "demo", "_id": CLUSTER_ID}) == 250
    assert get("hypershift_cluster_available_duration_seconds",
               {"namespace": "clusters", "name": "slow", "_id": ""}) is None, "not Available: no duration yet"
    assert get("hypershift_hostedclusters", {"platform": "KWOK"}) == 2
    assert get("hypershift_hostedclusters", {"platform": "AWS"}) == 0, "every known platform has a series"


def test_a_deleting_cluster_reports_how_long_it_has_been_deleting():
    clusters = Cache(hosted_cluster("demo", conditions=[], deleted="2030-01-01T01:00:00Z"))
    registry = scrape(T0 + 3600 + 42, clusters=clusters)
    assert registry.get_sample_value("hypershift_cluster_deleting_duration_seconds",
                                     {"namespace": "clusters", "name": "demo", "_id": CLUSTER_ID}) == 42


def test_node_pools_desired_and_available_replicas_and_count_per_cluster():
    clusters = Cache(hosted_cluster("demo", conditions=[]))
    pools = Cache(node_pool("demo-workers", "demo", replicas=3, ready=2),
                  node_pool("demo-auto", "demo", replicas=None, ready=None),
                  node_pool("orphan", "gone", replicas=1, ready=1))
    registry = scrape(T0, clusters=clusters, node_pools=pools)
    get = registry.get_sample_value
    workers = {"namespace": "clusters", "name": "demo-workers", "_id": CLUSTER_ID, "cluster_name": "demo",
               "platform": "KWOK"}
    auto = {**workers, "name": "demo-auto"}
    assert get("hypershift_nodepools_size", workers) == 3
    assert get("hypershift_nodepools_available_replicas", workers) == 2
    assert get("hypershift_nodepools_size", auto) is None, "an autoscaled pool has no fixed desired size"
    assert get("hypershift_nodepools_available_replicas", auto) == 0
    assert get("hypershift_nodepools_size", {**workers, "name": "orphan", "_id": "", "cluster_name": "gone"}) == 1
    assert get("hypershift_hostedcluster_nodepools",
               {"namespace": "clusters", "name": "demo", "_id": CLUSTER_ID, "platform": "KWOK"}) == 2
    assert get("hypershift_nodepools", {"platform": "KWOK"}) == 3
    assert get("hcp_nodepool_condition",
               {"namespace": "clusters", "name": "demo-workers", "type": "Ready", "status": "True"}) == 1


def test_backup_age_is_from_the_latest_successful_backup_of_each_cluster():
    clusters = Cache(hosted_cluster("demo", conditions=[]), hosted_cluster("other", conditions=[]),
                     hosted_cluster("never", conditions=[]))
    planes = Cache(control_plane("demo"), control_plane("never"))
    backups = Cache(
        backup("first", "clusters-demo", "True", "2030-01-01T01:00:00Z"),
        backup("second", "clusters-demo", "True", "2030-01-01T02:00:00Z"),
        backup("failed-later", "clusters-demo", "False", "2030-01-01T03:00:00Z"),
        # A scheduled backup names its cluster itself.
        backup("scheduled", "clusters-other", "True", "2030-01-01T00:30:00Z",
               annotations={CLUSTER_ANNOTATION: "clusters/other"}),
        backup("running", "clusters-never", "False", "2030-01-01T00:30:00Z"),
    )
    registry = scrape(T0 + 4 * 3600, clusters=clusters, control_planes=planes, backups=backups)
    get = registry.get_sample_value
    assert get("hcp_etcd_backup_last_success_age_seconds",
               {"namespace": "clusters", "name": "demo", "_id": CLUSTER_ID}) == 2 * 3600
    assert get("hcp_etcd_backup_last_success_age_seconds",
               {"namespace": "clusters", "name": "other", "_id": ""}) == 3.5 * 3600
    assert get("hcp_etcd_backup_last_success_age_seconds",
               {"namespace": "clusters", "name": "never", "_id": ""}) is None, "no successful backup: no series"


def test_unreadable_or_missing_fields_do_not_break_a_scrape():
    odd = {"metadata": {"name": "odd", "namespace": "clusters", "creationTimestamp": "yesterday"},
           "status": {"conditions": [{"type": "Available", "status": "True", "lastTransitionTime": None},
                                     {"status": "True"}]}}
    registry = scrape(T0, clusters=Cache(odd), node_pools=Cache({"metadata": {"name": "p", "namespace": "x"}}))
    text = generate_latest(registry).decode()
    assert 'hcp_hostedcluster_condition{name="odd",namespace="clusters",status="True",type="Available"} 1.0' in text
    assert "hypershift_cluster_available_duration_seconds{" not in text


def test_every_family_is_described_without_reading_a_cache():
    class Unread:
        def list(self, namespace=None):
            raise AssertionError("read at registration")

    registry = CollectorRegistry()
    registry.register(CacheCollector(clusters=Unread(), node_pools=Unread(), control_planes=Unread(),
                                     backups=Unread()))
    assert {"hypershift_hostedclusters", "hcp_hostedcluster_condition", "hypershift_cluster_available_duration_seconds",
            "hypershift_nodepools_size", "hypershift_nodepools_available_replicas",
            "hcp_etcd_backup_last_success_age_seconds"} <= set(registry._names_to_collectors)


def test_capacity_gauges_follow_the_formulas_per_policy():
    from hcp.capacity.baseline import baselines_from_configmap
    from hcp.operator.metrics import CapacityCollector

    class Listed:
        def __init__(self, items):
            self.items = items

        def list(self, namespace=None):
            return self.items

    node = {"metadata": {"name": "n"}, "spec": {},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"}}}
    plane = {"metadata": {"name": "a", "namespace": "clusters-a"},
             "spec": {"controllerAvailabilityPolicy": "SingleReplica"}}
    baselines = baselines_from_configmap({"highlyAvailable.cpuRequestPerHCP": "5", "highlyAvailable.podsPerHCP": "75"})
    registry = CollectorRegistry()
    registry.register(CapacityCollector(nodes=Listed([node]), control_planes=Listed([plane]), baselines=baselines))
    ha = {"estimate": "request", "availability_policy": "HighlyAvailable"}
    assert registry.get_sample_value("hcp_capacity_control_planes", ha) == 12  # 64 vCPU / 5
    assert registry.get_sample_value("hcp_capacity_control_planes", {**ha, "estimate": "pod-limit"}) == 6
    sr = {"estimate": "pod-limit", "availability_policy": "SingleReplica"}
    pods = baselines["SingleReplica"].pods
    assert registry.get_sample_value("hcp_capacity_control_planes", sr) == 500 // pods
    assert registry.get_sample_value("hcp_capacity_control_planes_available", sr) == 500 // pods - 1
    for estimate in ("low", "medium", "high", "minimum"):
        assert registry.get_sample_value("hcp_capacity_control_planes", {**ha, "estimate": estimate}) is not None
    # No node cached yet: no samples rather than zeros.
    empty = CollectorRegistry()
    empty.register(CapacityCollector(nodes=Listed([]), control_planes=Listed([]), baselines=baselines))
    assert empty.get_sample_value("hcp_capacity_control_planes", ha) is None
