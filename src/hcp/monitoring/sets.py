"""Metrics sets (docs 11.1): which of a control-plane component's metrics are kept, as relabel configs.

A metrics set is chosen for the whole management cluster with METRICS_SET on the
operator's Deployment (`hcp install --metrics-set`), and per HostedCluster with
spec.monitoring.metricsSet, which wins (HyperShift's rule):

- `Telemetry` (the default, the smallest): per component a `keep` of the few
  series OpenShift's telemetry reads (the API server's request and object
  counts, etcd's size, fsync and commit latencies); the scheduler's and the
  konnectivity server's are all dropped (they are still scraped, so `up` shows them).
- `SRE`: what the ConfigMap `sre-metric-set` (operator namespace, key `config`)
  says, per component, as the docs' example shows; a component it does not name
  is scraped whole.
- `All`: every series, less the noisy or obsolete ones HyperShift drops.

The sets are HyperShift's (support/metrics/sets.go), for the components
upstream Kubernetes has. Relabel configs are kept in the Prometheus Operator's
form (camelCase keys: `sourceLabels`, `targetLabel`, ...), which is what
ServiceMonitors and the SRE ConfigMap hold; `native` turns one into a
prometheus.yml `metric_relabel_configs` entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from hcp.api.v1beta1.clusteroptions import MetricsSet  # the API's names: spec.monitoring.metricsSet
from hcp.monitoring import SRE_CONFIG_KEY, SRE_CONFIGMAP

RelabelConfig = dict[str, Any]


DEFAULT = MetricsSet.TELEMETRY


class MetricsSetError(ValueError):
    """A metrics set name or an SRE configuration that cannot be used; the message says why."""


def parse_metrics_set(value: str | None) -> MetricsSet:
    """The set a METRICS_SET value names, case-insensitively as HyperShift reads it; empty: the default."""
    if not value:
        return DEFAULT
    for candidate in MetricsSet:
        if candidate.value.lower() == value.strip().lower():
            return candidate
    raise MetricsSetError(f"invalid metrics set: {value} (want one of {', '.join(s.value for s in MetricsSet)})")


def effective(global_set: MetricsSet, cluster_set: str | None) -> MetricsSet:
    """A HostedCluster's spec.monitoring.metricsSet where set (the API admits only the three names), else the
    operator's METRICS_SET."""
    return MetricsSet(cluster_set) if cluster_set else global_set


# The components hcp scrapes, by the key the SRE ConfigMap names them with (HyperShift's keys; konnectivityServer
# is hcp's: HyperShift does not scrape it).
ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER, KONNECTIVITY_SERVER = (
    "etcd", "kubeAPIServer", "kubeControllerManager", "kubeScheduler", "konnectivityServer")
SCRAPED = (ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER, KONNECTIVITY_SERVER)
OPENSHIFT_ONLY = (
    "openshiftAPIServer", "openshiftControllerManager", "openshiftRouteControllerManager", "cvo", "olm",
    "catalogOperator", "registryOperator", "nodeTuningOperator", "controlPlaneOperator",
    "hostedClusterConfigOperator", "kubeSchedulerResourceMetrics",
)
"""Keys the docs' SRE ConfigMap may hold for components OpenShift runs and hcp does not: accepted, and unused."""


def _by_name(action: str, regex: str, *labels: str) -> RelabelConfig:
    return {"action": action, "regex": regex, "sourceLabels": list(labels or ("__name__",))}


_DROP_ALL = [_by_name("drop", ".*")]
_ETCD_NOISE = "etcd_(debugging|disk|server).*"
_TELEMETRY: dict[str, list[RelabelConfig]] = {
    ETCD: [_by_name("keep", "(etcd_disk_wal_fsync_duration_seconds_bucket|etcd_mvcc_db_total_size_in_bytes|"
                            "etcd_network_peer_round_trip_time_seconds_bucket|etcd_mvcc_db_total_size_in_use_in_bytes|"
                            "etcd_disk_backend_commit_duration_seconds_bucket|etcd_server_leader_changes_seen_total)")],
    KUBE_APISERVER: [_by_name("keep", "(apiserver_storage_objects|apiserver_request_total|"
                                      "apiserver_current_inflight_requests)")],
    KUBE_CONTROLLER_MANAGER: [_by_name("keep", "pv_collector_total_pv_count")],
    KUBE_SCHEDULER: _DROP_ALL,
    KONNECTIVITY_SERVER: _DROP_ALL,
}
_ALL: dict[str, list[RelabelConfig]] = {
    ETCD: [],
    KUBE_APISERVER: [
        _by_name("drop", _ETCD_NOISE),
        _by_name("drop", "apiserver_admission_controller_admission_latencies_seconds_.*"),
        _by_name("drop", "apiserver_admission_step_admission_latencies_seconds_.*"),
        _by_name("drop", "scheduler_(e2e_scheduling_latency_microseconds|scheduling_algorithm_predicate_evaluation|"
                         "scheduling_algorithm_priority_evaluation|scheduling_algorithm_preemption_evaluation|"
                         "scheduling_algorithm_latency_microseconds|binding_latency_microseconds|"
                         "scheduling_latency_seconds)"),
        _by_name("drop", "apiserver_(request_count|request_latencies|request_latencies_summary|dropped_requests|"
                         "storage_data_key_generation_latencies_microseconds|storage_transformation_failures_total|"
                         "storage_transformation_latencies_microseconds|proxy_tunnel_sync_latency_secs)"),
        _by_name("drop", "docker_(operations|operations_latency_microseconds|operations_errors|operations_timeout)"),
        _by_name("drop", "reflector_(items_per_list|items_per_watch|list_duration_seconds|lists_total|"
                         "short_watches_total|watch_duration_seconds|watches_total)"),
        _by_name("drop", "etcd_(helper_cache_hit_count|helper_cache_miss_count|helper_cache_entry_count|"
                         "request_cache_get_latencies_summary|request_cache_add_latencies_summary|"
                         "request_latencies_summary)"),
        _by_name("drop", "transformation_(transformation_latencies_microseconds|failures_total)"),
        _by_name("drop", "network_plugin_operations_latency_microseconds|sync_proxy_rules_latency_microseconds|"
                         "rest_client_request_latency_seconds"),
        _by_name("drop", "apiserver_request_duration_seconds_bucket;(0.15|0.25|0.3|0.35|0.4|0.45|0.6|0.7|0.8|0.9|"
                         "1.25|1.5|1.75|2.5|3|3.5|4.5|6|7|8|9|15|25|30|50)(\\.0)?", "__name__", "le"),
    ],
    KUBE_CONTROLLER_MANAGER: [
        _by_name("drop", "etcd_(debugging|disk|request|server).*"),
        _by_name("drop", "rest_client_request_latency_seconds_(bucket|count|sum)"),
        _by_name("drop", "root_ca_cert_publisher_sync_duration_seconds_(bucket|count|sum)"),
    ],
    KUBE_SCHEDULER: [],
    KONNECTIVITY_SERVER: [],
}


def relabel_configs(metrics_set: MetricsSet, component: str, sre: Mapping[str, list[RelabelConfig]] | None = None
                    ) -> list[RelabelConfig]:
    """The metric relabel configs of `component` (an SRE key, e.g. `kubeAPIServer`) under `metrics_set`.

    `sre` is the parsed SRE ConfigMap (`parse_sre_config`); None or a component it does not name keeps every
    series of that component under SRE (HyperShift's nil list)."""
    if component not in SCRAPED:
        raise KeyError(component)
    if metrics_set == MetricsSet.TELEMETRY:
        table = _TELEMETRY
    elif metrics_set == MetricsSet.ALL:
        table = _ALL
    else:
        table = sre or {}
    return [dict(config) for config in table.get(component, [])]


_RELABEL_KEYS = {
    "sourceLabels": "source_labels", "separator": "separator", "targetLabel": "target_label", "regex": "regex",
    "modulus": "modulus", "replacement": "replacement", "action": "action",
}
ACTIONS = ("replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase",
           "keepequal", "dropequal")
"""Prometheus's relabel actions; the Prometheus Operator also accepts them capitalised, as does hcp."""


def parse_sre_config(text: str | None) -> dict[str, list[RelabelConfig]]:
    """The SRE metrics set of ConfigMap sre-metric-set's `config`: component key -> relabel configs, checked.

    Raises MetricsSetError naming the ConfigMap, the component and the entry for anything Prometheus would refuse
    (an unknown key or action, a regex that does not compile, sourceLabels not a list), so that a bad edit is
    reported once instead of breaking every scrape."""
    where = f"ConfigMap {SRE_CONFIGMAP}, key {SRE_CONFIG_KEY}"
    if not text or not text.strip():
        return {}
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise MetricsSetError(f"{where}: not YAML: {error}".replace("\n", " ")) from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise MetricsSetError(f"{where}: want a mapping of component to relabel configs, got {type(parsed).__name__}")
    config: dict[str, list[RelabelConfig]] = {}
    for component, entries in parsed.items():
        if component not in SCRAPED and component not in OPENSHIFT_ONLY:
            raise MetricsSetError(f"{where}: unknown component {component!r} (hcp scrapes {', '.join(SCRAPED)})")
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise MetricsSetError(f"{where}: {component}: want a list of relabel configs")
        checked = []
        for number, entry in enumerate(entries, 1):
            checked.append(_check_relabel(entry, f"{where}: {component}[{number}]"))
        if component in SCRAPED:
            config[component] = checked
    return config


def _check_relabel(entry: Any, where: str) -> RelabelConfig:
    if not isinstance(entry, dict):
        raise MetricsSetError(f"{where}: want a mapping (action, regex, sourceLabels, ...)")
    unknown = sorted(set(entry) - set(_RELABEL_KEYS))
    if unknown:
        raise MetricsSetError(f"{where}: unknown field {unknown[0]!r} (want {', '.join(_RELABEL_KEYS)})")
    action = str(entry.get("action", "replace"))
    if action.lower() not in ACTIONS:
        raise MetricsSetError(f"{where}: unknown action {action!r} (want one of {', '.join(ACTIONS)})")
    labels = entry.get("sourceLabels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise MetricsSetError(f"{where}: sourceLabels must be a list of label names")
    if "regex" in entry:
        try:
            re.compile(str(entry["regex"]))
        except re.error as error:
            raise MetricsSetError(f"{where}: regex {entry['regex']!r} does not compile: {error}") from None
    return dict(entry)


def native(config: RelabelConfig) -> dict[str, Any]:
    """One relabel config as prometheus.yml writes it (snake_case keys, lower-case action)."""
    out = {_RELABEL_KEYS[key]: value for key, value in config.items()}
    if "action" in out:
        out["action"] = str(out["action"]).lower()
    return out
