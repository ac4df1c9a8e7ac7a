"""Metrics sets (docs 11.1): the names METRICS_SET takes, what each set keeps, the SRE ConfigMap's checks."""

import pytest

from hcp.monitoring.sets import (
    KUBE_APISERVER, KUBE_SCHEDULER, SCRAPED, MetricsSet, MetricsSetError, effective, native, parse_metrics_set,
    parse_sre_config, relabel_configs,
)

DOCS_EXAMPLE = """
kubeAPIServer:
  - action:       "drop"
    regex:        "etcd_(debugging|disk|server).*"
    sourceLabels: ["__name__"]
  - action:       "drop"
    regex:        "apiserver_request_duration_seconds_bucket;(0.15|0.25|0.3|0.35|0.4|0.45|0.6|0.7|0.8|0.9|1.25|1.5|1.75|2.5|3|3.5|4.5|6|7|8|9|15|25|30|50)"
    sourceLabels: ["__name__", "le"]
kubeControllerManager:
  - action:       "drop"
    regex:        "etcd_(debugging|disk|request|server).*"
    sourceLabels: ["__name__"]
openshiftAPIServer:
  - action:       "drop"
    regex:        "etcd_(debugging|disk|server).*"
    sourceLabels: ["__name__"]
cvo:
  - action: drop
    regex: "etcd_(debugging|disk|server).*"
    sourceLabels: ["__name__"]
"""


@pytest.mark.parametrize("value, expected", [
    (None, MetricsSet.TELEMETRY), ("", MetricsSet.TELEMETRY), ("All", MetricsSet.ALL), ("all", MetricsSet.ALL),
    ("sre", MetricsSet.SRE), ("Telemetry", MetricsSet.TELEMETRY),
])
def test_metrics_set_names_are_read_as_hypershift_reads_them(value, expected):
    assert parse_metrics_set(value) == expected


def test_an_unknown_metrics_set_is_refused_naming_the_three():
    with pytest.raises(MetricsSetError, match="invalid metrics set: Everything .want one of Telemetry, SRE, All"):
        parse_metrics_set("Everything")


def test_a_hosted_clusters_own_metrics_set_wins():
    assert effective(MetricsSet.TELEMETRY, "All") == MetricsSet.ALL
    assert effective(MetricsSet.SRE, None) == MetricsSet.SRE


def test_telemetry_keeps_what_the_console_plots_and_drops_the_scheduler():
    kept = relabel_configs(MetricsSet.TELEMETRY, KUBE_APISERVER)
    assert kept == [{"action": "keep", "sourceLabels": ["__name__"],
                     "regex": "(apiserver_storage_objects|apiserver_request_total|apiserver_current_inflight_requests)"}]
    assert relabel_configs(MetricsSet.TELEMETRY, KUBE_SCHEDULER) == [
        {"action": "drop", "regex": ".*", "sourceLabels": ["__name__"]}]
    assert "etcd_mvcc_db_total_size_in_bytes" in relabel_configs(MetricsSet.TELEMETRY, "etcd")[0]["regex"]


def test_all_keeps_everything_but_hypersifts_noise():
    assert relabel_configs(MetricsSet.ALL, "etcd") == []
    assert relabel_configs(MetricsSet.ALL, KUBE_SCHEDULER) == []
    assert all(config["action"] == "drop" for config in relabel_configs(MetricsSet.ALL, KUBE_APISERVER))


def test_sre_is_what_the_configmap_says_and_everything_where_it_says_nothing():
    sre = parse_sre_config(DOCS_EXAMPLE)
    assert set(sre) == {"kubeAPIServer", "kubeControllerManager"}  # OpenShift's components: accepted, unused
    assert relabel_configs(MetricsSet.SRE, KUBE_APISERVER, sre)[0]["regex"] == "etcd_(debugging|disk|server).*"
    assert relabel_configs(MetricsSet.SRE, "etcd", sre) == []
    assert relabel_configs(MetricsSet.SRE, "etcd", None) == []


def test_relabel_configs_are_copies():
    relabel_configs(MetricsSet.TELEMETRY, KUBE_APISERVER)[0]["regex"] = "changed"
    assert relabel_configs(MetricsSet.TELEMETRY, KUBE_APISERVER)[0]["regex"] != "changed"


@pytest.mark.parametrize("text, message", [
    ("kubeAPIServer: [", "not YAML"),
    ("- a", "want a mapping of component to relabel configs"),
    ("apiServer: []", "unknown component 'apiServer'"),
    ("etcd: {action: drop}", "etcd: want a list of relabel configs"),
    ("etcd: [{action: explode}]", r"etcd\[1\]: unknown action 'explode'"),
    ("etcd: [{action: drop, regex: '('}]", r"etcd\[1\]: regex '\(' does not compile"),
    ("etcd: [{action: drop, source_labels: [a]}]", r"etcd\[1\]: unknown field 'source_labels'"),
    ("etcd: [{action: drop, sourceLabels: a}]", "sourceLabels must be a list"),
])
def test_a_bad_sre_configuration_is_refused_saying_where(text, message):
    with pytest.raises(MetricsSetError, match=message) as raised:
        parse_sre_config(text)
    assert "ConfigMap sre-metric-set, key config" in str(raised.value)


def test_relabel_configs_become_prometheus_yml_entries():
    assert native({"action": "Drop", "sourceLabels": ["__name__", "le"], "regex": "x", "targetLabel": "t"}) == {
        "action": "drop", "source_labels": ["__name__", "le"], "regex": "x", "target_label": "t"}


def test_every_scraped_component_has_a_telemetry_and_an_all_entry():
    for component in SCRAPED:
        relabel_configs(MetricsSet.TELEMETRY, component)
        relabel_configs(MetricsSet.ALL, component)
    with pytest.raises(KeyError):
        relabel_configs(MetricsSet.ALL, "cvo")
