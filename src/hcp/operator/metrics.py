"""The operator's hosted-cluster metrics, computed at scrape time from the informers' caches.

Nothing here calls the API server: a scrape reads the objects the controllers
already watch, so scraping often costs the management cluster nothing, and
the numbers are what the controllers themselves see. Where HyperShift's
operator exports a metric of the same meaning, hcp uses its name and labels
(`hypershift_*`, with `_id` the HostedCluster's spec.clusterID); metrics of
hcp's own are `hcp_*`. docs/operations.md lists them all.

The computation is a pure function of plain object dicts and a clock (`families`),
so it is tested without informers; `CacheCollector` only feeds it the caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from hcp.api.names import CLUSTER_ANNOTATION
from hcp.api.v1beta1.etcdbackup import BACKUP_COMPLETED
from hcp.api.v1beta1.platform import PlatformType
from hcp.kube.objects import as_dict

CLUSTER_LABELS = ["namespace", "name", "_id"]
NODE_POOL_LABELS = ["namespace", "name", "_id", "cluster_name", "platform"]
CONDITION_STATUSES = ("True", "False", "Unknown")


class Cache(Protocol):
    def list(self, namespace: str | None = None) -> list[Any]: ...


def families(*, clusters: Iterable[Mapping], node_pools: Iterable[Mapping], control_planes: Iterable[Mapping],
             backups: Iterable[Mapping], now: float) -> list[GaugeMetricFamily]:
    """Every hosted-cluster metric family, from the objects as plain dicts and `now` (Unix seconds)."""
    clusters, node_pools = list(clusters), list(node_pools)
    by_platform = GaugeMetricFamily("hypershift_hostedclusters", "Number of HostedClusters for a given platform.",
                                    labels=["platform"])
    condition = GaugeMetricFamily(
        "hcp_hostedcluster_condition",
        "1 for the status a HostedCluster's condition has, 0 for the two it has not (True, False, Unknown).",
        labels=["namespace", "name", "type", "status"])
    available = GaugeMetricFamily(
        "hypershift_cluster_available_duration_seconds",
        "Time in seconds from the HostedCluster's creation to its Available condition becoming True "
        "(the last time it did); absent while it is not Available.",
        labels=CLUSTER_LABELS)
    deleting = GaugeMetricFamily(
        "hypershift_cluster_deleting_duration_seconds",
        "Time in seconds the HostedCluster has been deleting; absent unless it is being deleted.",
        labels=CLUSTER_LABELS)
    pools_per_cluster = GaugeMetricFamily("hypershift_hostedcluster_nodepools",
                                          "Number of NodePools for a given HostedCluster.",
                                          labels=[*CLUSTER_LABELS, "platform"])
    pools_by_platform = GaugeMetricFamily("hypershift_nodepools", "Number of NodePools for a given platform.",
                                          labels=["platform"])
    pool_condition = GaugeMetricFamily(
        "hcp_nodepool_condition",
        "1 for the status a NodePool's condition has, 0 for the two it has not (True, False, Unknown).",
        labels=["namespace", "name", "type", "status"])
    size = GaugeMetricFamily(
        "hypershift_nodepools_size",
        "Number of desired replicas of a NodePool (spec.replicas); absent for an autoscaled NodePool.",
        labels=NODE_POOL_LABELS)
    ready = GaugeMetricFamily("hypershift_nodepools_available_replicas",
                              "Number of available replicas of a NodePool (status.replicas: machines whose node "
                              "is Ready).", labels=NODE_POOL_LABELS)
    backup_age = GaugeMetricFamily(
        "hcp_etcd_backup_last_success_age_seconds",
        "Seconds since the HostedCluster's last successful HCPEtcdBackup completed; absent if it has none.",
        labels=CLUSTER_LABELS)

    platforms = {p.value: 0 for p in PlatformType}
    known: dict[tuple[str, str], dict] = {}
    for cluster in clusters:
        meta, spec, status = _parts(cluster)
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        platform = (spec.get("platform") or {}).get("type") or ""
        cluster_id = spec.get("clusterID") or ""
        known[(namespace, name)] = {"id": cluster_id, "platform": platform, "pools": 0}
        platforms[platform] = platforms.get(platform, 0) + 1
        labels = [namespace, name, cluster_id]
        conditions = status.get("conditions") or []
        _conditions(condition, namespace, name, conditions)
        created = _seconds(meta.get("creationTimestamp"))
        became = _true_since(conditions, "Available")
        if created is not None and became is not None:
            available.add_metric(labels, max(0.0, became - created))
        deleted = _seconds(meta.get("deletionTimestamp"))
        if deleted is not None:
            deleting.add_metric(labels, max(0.0, now - deleted))
    for platform, count in sorted(platforms.items()):
        by_platform.add_metric([platform], count)

    pool_platforms = {p.value: 0 for p in PlatformType}
    for pool in node_pools:
        meta, spec, status = _parts(pool)
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        platform = (spec.get("platform") or {}).get("type") or ""
        cluster_name = spec.get("clusterName") or ""
        pool_platforms[platform] = pool_platforms.get(platform, 0) + 1
        owner = known.get((namespace, cluster_name))
        if owner is not None:
            owner["pools"] += 1
        labels = [namespace, name, owner["id"] if owner else "", cluster_name, platform]
        _conditions(pool_condition, namespace, name, status.get("conditions") or [])
        if spec.get("replicas") is not None:
            size.add_metric(labels, spec["replicas"])
        ready.add_metric(labels, status.get("replicas") or 0)
    for platform, count in sorted(pool_platforms.items()):
        pools_by_platform.add_metric([platform], count)
    for (namespace, name), data in sorted(known.items()):
        pools_per_cluster.add_metric([namespace, name, data["id"], data["platform"]], data["pools"])

    for (namespace, name), completed in sorted(_last_backups(backups, control_planes).items()):
        data = known.get((namespace, name))
        if data is not None:
            backup_age.add_metric([namespace, name, data["id"]], max(0.0, now - completed))

    return [by_platform, condition, available, deleting, pools_per_cluster, pools_by_platform, pool_condition,
            size, ready, backup_age]


def _parts(obj: Mapping) -> tuple[dict, dict, dict]:
    return obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}


def _conditions(family: GaugeMetricFamily, namespace: str, name: str, conditions: list[dict]) -> None:
    for found in conditions:
        type_, status = found.get("type"), found.get("status")
        if not type_:
            continue
        for candidate in CONDITION_STATUSES:
            family.add_metric([namespace, name, type_, candidate], 1 if status == candidate else 0)


def _true_since(conditions: list[dict], type_: str) -> float | None:
    """When the condition last became True, if it is True now."""
    found = next((c for c in conditions if c.get("type") == type_), None)
    if found is None or found.get("status") != "True":
        return None
    return _seconds(found.get("lastTransitionTime"))


def _last_backups(backups: Iterable[Mapping], control_planes: Iterable[Mapping]) -> dict[tuple[str, str], float]:
    """(namespace, name) of each HostedCluster with a successful backup -> when its latest one completed.

    An HCPEtcdBackup lives in the control-plane namespace; the HostedControlPlane there
    names its HostedCluster in the hypershift.openshift.io/cluster annotation (as a
    scheduled backup does on itself).
    """
    owner_of_namespace = {}
    for plane in control_planes:
        meta = plane.get("metadata") or {}
        owner = (meta.get("annotations") or {}).get(CLUSTER_ANNOTATION)
        if owner:
            owner_of_namespace[meta.get("namespace")] = owner
    latest: dict[tuple[str, str], float] = {}
    for backup in backups:
        meta, _, status = _parts(backup)
        completed = _true_since(status.get("conditions") or [], BACKUP_COMPLETED)
        owner = (meta.get("annotations") or {}).get(CLUSTER_ANNOTATION) or owner_of_namespace.get(meta.get("namespace"))
        if completed is None or not owner or "/" not in owner:
            continue
        namespace, _, name = owner.partition("/")
        latest[(namespace, name)] = max(completed, latest.get((namespace, name), completed))
    return latest


def _seconds(value: Any) -> float | None:
    """Unix seconds of an RFC 3339 time as the API serves it (or a datetime); None if absent or unreadable."""
    if isinstance(value, datetime):
        return value.timestamp()
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class CacheCollector:
    """A prometheus_client collector over the operator's informer caches (no API calls at scrape time)."""

    def __init__(self, *, clusters: Cache, node_pools: Cache, control_planes: Cache, backups: Cache,
                 clock: Callable[[], float] = time.time) -> None:
        self._caches = {"clusters": clusters, "node_pools": node_pools, "control_planes": control_planes,
                        "backups": backups}
        self._clock = clock

    def describe(self) -> list[Metric]:
        """The families without samples: registering the collector reads no cache."""
        return families(clusters=(), node_pools=(), control_planes=(), backups=(), now=0.0)

    def collect(self) -> list[Metric]:
        return families(**{name: [as_dict(obj) for obj in cache.list()] for name, cache in self._caches.items()},
                        now=self._clock())


def capacity_families(*, nodes: Iterable[Mapping], control_planes: Iterable[Mapping],
                      baselines: Mapping[str, Any]) -> list[GaugeMetricFamily]:
    """How many hosted control planes fit on the management cluster, per estimate and availability policy
    (the docs' capacity gauges, 2.2 table 2.6; formulas in hcp.capacity), and how many more fit now."""
    from hcp.capacity.formulas import POLICIES
    from hcp.capacity.report import report
    total = GaugeMetricFamily(
        "hcp_capacity_control_planes",
        "Estimated number of hosted control planes of an availability policy the management cluster's nodes "
        "can host (docs 2.2): estimate=request, pod-limit, low/medium/high (QPS load), minimum (of all, at "
        "medium QPS).", labels=["estimate", "availability_policy"])
    more = GaugeMetricFamily(
        "hcp_capacity_control_planes_available",
        "Estimated number of hosted control planes of an availability policy that fit beside the existing ones.",
        labels=["estimate", "availability_policy"])
    nodes, control_planes = list(nodes), list(control_planes)
    if nodes:
        for policy in POLICIES:
            for estimate in report(nodes, control_planes, baselines, policy)["estimates"]:
                total.add_metric([estimate["estimate"], policy], estimate["controlPlanes"])
                more.add_metric([estimate["estimate"], policy], estimate["more"])
    return [total, more]


class CapacityCollector:
    """The capacity gauges over the operator's Node and HostedControlPlane caches (no API calls at scrape
    time); the baseline is read once, at the operator's start, as the docs' add-on reads its ConfigMap."""

    def __init__(self, *, nodes: Cache, control_planes: Cache, baselines: Mapping[str, Any]) -> None:
        self._nodes, self._control_planes, self._baselines = nodes, control_planes, baselines

    def describe(self) -> list[Metric]:
        return capacity_families(nodes=(), control_planes=(), baselines=self._baselines)

    def collect(self) -> list[Metric]:
        return capacity_families(nodes=[as_dict(n) for n in self._nodes.list()],
                                 control_planes=[as_dict(p) for p in self._control_planes.list()],
                                 baselines=self._baselines)
