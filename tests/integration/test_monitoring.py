"""hcp's Prometheus scrapes the operator and every control plane over TLS, under each cluster's metrics set.

On the embedded management cluster `hcp install` runs Prometheus (namespace
hcp-monitoring, built from its Go module) and the operator writes its
configuration. A KWOK hosted cluster gives it a control plane to scrape. The
questions go to Prometheus's HTTP API through the management API server's
service proxy, as a user's `kubectl get --raw` would. Then: the cluster's metrics
set switched on the HostedCluster changes what is kept; the Prometheus
Operator's real ServiceMonitor CRD installed makes the operator emit
ServiceMonitors into the control-plane namespace; the docs' `set env` switches
(METRICS_SET=SRE with its ConfigMap, MONITORING_DASHBOARDS=1) do what they say.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import yaml

from hcp.monitoring import (
    DASHBOARD_KEY, DASHBOARD_TEMPLATE_CONFIGMAP, METRICS_SET_ENV, MONITORING_DASHBOARDS_ENV, NAMESPACE, PROMETHEUS,
    PROMETHEUS_PORT_NAME, SRE_CONFIG_KEY, SRE_CONFIGMAP,
)
from hcp.monitoring.dashboard import dashboard_name, template_configmap
from hcp.operator.install import NAMESPACE as OPERATOR
from hcp.upstream.binaries import go_module_dir
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for

pytestmark = pytest.mark.integration

CLUSTER_NAMESPACE, NAME = "mon", "watched"
CONTROL_PLANE = f"{CLUSTER_NAMESPACE}-{NAME}"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "konnectivity-server")
PROXY = f"/api/v1/namespaces/{NAMESPACE}/services/https:{PROMETHEUS}:{PROMETHEUS_PORT_NAME}/proxy"
SERVICE_MONITOR_CRD = "servicemonitors.monitoring.coreos.com"


def prometheus(cluster: ManagementCluster, path: str, **params: str) -> dict:
    """An answer of Prometheus's HTTP API (its `data`), through the API server's service proxy."""
    query = f"?{urlencode(params)}" if params else ""
    answer = json.loads(cluster.kubectl("get", "--raw", f"{PROXY}{path}{query}").stdout)
    assert answer["status"] == "success", answer
    return answer["data"]


def series(cluster: ManagementCluster, promql: str) -> list[dict]:
    return prometheus(cluster, "/api/v1/query", query=promql)["result"]


def targets_of(cluster: ManagementCluster, namespace: str) -> dict[str, str]:
    """job -> health of the active targets of one namespace (a job with several pods: the worst)."""
    health: dict[str, str] = {}
    for target in prometheus(cluster, "/api/v1/targets", state="active")["activeTargets"]:
        labels = target["labels"]
        if labels.get("namespace") == namespace:
            job = labels["job"]
            health[job] = target["health"] if health.get(job, "up") == "up" else health[job]
    return health


def kubectl_json(cluster: ManagementCluster, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def cluster(operator_installed: ManagementCluster):
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, NAME, CLUSTER_NAMESPACE))
    try:
        cluster.kubectl("wait", "-n", CLUSTER_NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        cluster.kubectl("rollout", "status", "-n", NAMESPACE, f"deployment/{PROMETHEUS}", "--timeout=300s",
                        timeout=320)
        yield cluster
    finally:
        cluster.kubectl("delete", "crd", SERVICE_MONITOR_CRD, "--ignore-not-found", "--timeout=120s", check=False)
        remove_hosted_cluster(cluster, CLUSTER_NAMESPACE, NAME)


def cluster_id(cluster: ManagementCluster) -> str:
    """The cluster's ID as its HostedControlPlane carries it (the HostedCluster's spec.clusterID, or the one the
    operator derives from its UID): what `_id` says."""
    return kubectl_json(cluster, "hostedcontrolplane", NAME, "-n", CONTROL_PLANE)["spec"]["clusterID"]


def test_every_control_plane_component_and_the_operator_are_scraped_and_up(cluster):
    def all_up() -> dict[str, str] | None:
        health = targets_of(cluster, CONTROL_PLANE)
        return health if set(health) == set(COMPONENTS) and set(health.values()) == {"up"} else None

    health = wait_for(all_up, 240, "Prometheus to scrape every component of the control plane", interval=5.0)
    assert set(health) == set(COMPONENTS)
    operator = wait_for(lambda: targets_of(cluster, "hypershift").get("hcp-operator") == "up" or None, 120,
                        "the operator's target to be up", interval=5.0)
    assert operator
    config = prometheus(cluster, "/api/v1/status/config")["yaml"]
    jobs = {job["job_name"]: job for job in yaml.safe_load(config)["scrape_configs"]}
    for component in COMPONENTS[:4]:  # the konnectivity server serves plain HTTP only (upstream)
        tls = jobs[f"{CONTROL_PLANE}/{component}"]["tls_config"]
        assert tls["server_name"] and tls["ca_file"] and not tls.get("insecure_skip_verify"), component


def test_the_telemetry_set_keeps_what_it_names_labelled_with_the_cluster_id(cluster):
    identity = cluster_id(cluster)
    selector = f'namespace="{CONTROL_PLANE}"'
    found = wait_for(lambda: series(cluster, f"apiserver_request_total{{{selector}}}") or None, 180,
                     "the API server's request counts", interval=5.0)
    assert {s["metric"]["_id"] for s in found} == {identity}
    assert {s["metric"]["job"] for s in found} == {"kube-apiserver"}
    assert wait_for(lambda: series(cluster, f"etcd_mvcc_db_total_size_in_bytes{{{selector}}}") or None, 120,
                    "etcd's database size", interval=5.0)
    # Outside the Telemetry set: scraped, and dropped.
    assert series(cluster, f"apiserver_request_duration_seconds_count{{{selector}}}") == []
    assert series(cluster, f'up{{{selector},job="kube-scheduler"}}')[0]["value"][1] == "1"
    assert series(cluster, f'process_start_time_seconds{{{selector},job="kube-scheduler"}}') == []
    pods = f'{selector},container="",pod!=""'  # cAdvisor's per-pod series (the pod's cgroup)
    cpu = wait_for(lambda: series(cluster, f"container_cpu_usage_seconds_total{{{pods}}}") or None,
                   180, "cAdvisor's CPU series of the control plane's pods", interval=5.0)
    assert {s["metric"]["job"] for s in cpu} == {"cadvisor"}


def test_switching_the_clusters_metrics_set_changes_what_is_kept(cluster):
    selector = f'namespace="{CONTROL_PLANE}"'
    cluster.kubectl("patch", "hostedcluster", NAME, "-n", CLUSTER_NAMESPACE, "--type=merge",
                    "-p", '{"spec":{"monitoring":{"metricsSet":"All"}}}')
    try:
        wait_for(lambda: series(cluster, f"apiserver_request_duration_seconds_count{{{selector}}}") or None, 240,
                 "the All set's API server latency series", interval=5.0)
        wait_for(lambda: series(cluster, f'process_start_time_seconds{{{selector},job="kube-scheduler"}}') or None,
                 120, "the All set's scheduler series", interval=5.0)
        hosted = kubectl_json(cluster, "hostedcluster", NAME, "-n", CLUSTER_NAMESPACE)
        supported = [c for c in hosted["status"]["conditions"] if c["type"] == "SupportedConfiguration"]
        assert all("spec.monitoring" not in c["message"] for c in supported), supported
    finally:
        cluster.kubectl("patch", "hostedcluster", NAME, "-n", CLUSTER_NAMESPACE, "--type=json",
                        "-p", '[{"op":"remove","path":"/spec/monitoring"}]', check=False)


def test_with_the_prometheus_operators_crd_the_operator_emits_service_monitors(cluster):
    crd = go_module_dir("prometheus-operator") / "example" / "prometheus-operator-crd" / \
        "monitoring.coreos.com_servicemonitors.yaml"
    cluster.kubectl("apply", "--server-side", "-f", str(crd))
    # Polled, not `kubectl wait --for=condition=Established`: right after the apply the CRD's status has no
    # conditions list yet, and kubectl wait then fails at once (".status.conditions accessor error: <nil>").
    wait_for(lambda: cluster.kubectl("get", f"crd/{SERVICE_MONITOR_CRD}", "-o",
                                     "jsonpath={.status.conditions[?(@.type=='Established')].status}",
                                     check=False).stdout == "True", 60, "the ServiceMonitor CRD to be Established")

    def emitted() -> dict[str, dict] | None:
        found = cluster.kubectl("get", "servicemonitors", "-n", CONTROL_PLANE, "-o", "json", check=False)
        if found.returncode != 0:
            return None
        monitors = {m["metadata"]["name"]: m for m in json.loads(found.stdout)["items"]}
        return monitors if set(monitors) == set(COMPONENTS) else None

    monitors = wait_for(emitted, 150, "a ServiceMonitor per component in the control-plane namespace", interval=5.0)
    endpoint = monitors["kube-apiserver"]["spec"]["endpoints"][0]
    assert endpoint["tlsConfig"]["cert"]["secret"] == {"name": "metrics-client", "key": "tls.crt"}
    assert endpoint["metricRelabelings"][0]["action"] == "keep"  # the Telemetry set
    assert endpoint["metricRelabelings"][-1]["targetLabel"] == "_id"
    owner = monitors["etcd"]["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "HostedControlPlane"
    # Each selects exactly one Service of the namespace.
    services = kubectl_json(cluster, "services", "-n", CONTROL_PLANE, "-l", "hcp.io/metrics")["items"]
    assert sorted(s["metadata"]["labels"]["hcp.io/metrics"] for s in services) == sorted(COMPONENTS)


def test_the_docs_switches_metrics_set_sre_and_dashboards_on_the_operator(cluster):
    """Docs 11.1 and 11.2 as written: `set env` METRICS_SET=SRE with ConfigMap sre-metric-set, and
    MONITORING_DASHBOARDS=1 with the template ConfigMap; then both unset again."""
    sre = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": SRE_CONFIGMAP, "namespace": OPERATOR},
           "data": {SRE_CONFIG_KEY: yaml.safe_dump({"kubeAPIServer": [
               {"action": "drop", "regex": "apiserver_request_total", "sourceLabels": ["__name__"]}]})}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(sre))
    cluster.kubectl("apply", "-f", "-", input=json.dumps(template_configmap(OPERATOR)))
    dashboard = dashboard_name(CLUSTER_NAMESPACE, NAME)
    try:
        cluster.kubectl("set", "env", "-n", OPERATOR, "deployment/operator", f"{METRICS_SET_ENV}=SRE",
                        f"{MONITORING_DASHBOARDS_ENV}=1")
        cluster.kubectl("rollout", "status", "-n", OPERATOR, "deployment/operator", "--timeout=180s", timeout=200)

        def kas_relabels() -> list[dict] | None:
            jobs = {job["job_name"]: job for job in yaml.safe_load(
                prometheus(cluster, "/api/v1/status/config")["yaml"])["scrape_configs"]}
            relabels = jobs.get(f"{CONTROL_PLANE}/kube-apiserver", {}).get("metric_relabel_configs", [])
            return relabels if any(r.get("regex") == "apiserver_request_total" for r in relabels) else None

        relabels = wait_for(kas_relabels, 240, "Prometheus to load the SRE set's drop rule", interval=5.0)
        assert relabels[0]["action"] == "drop"

        def written() -> dict | None:
            found = cluster.kubectl("get", "configmap", dashboard, "-n", NAMESPACE, "-o", "json", check=False)
            return json.loads(found.stdout) if found.returncode == 0 else None

        made = wait_for(written, 120, f"dashboard ConfigMap {dashboard}", interval=3.0)
        rendered = json.loads(made["data"][DASHBOARD_KEY])
        text = json.dumps(rendered)
        assert f"Hosted cluster {CLUSTER_NAMESPACE}/{NAME}" == rendered["title"]
        assert CONTROL_PLANE in text
        assert not [p for p in ("__NAME__", "__NAMESPACE__", "__CONTROL_PLANE_NAMESPACE__", "__CLUSTER_ID__")
                    if p in text]
        assert made["metadata"]["labels"]["grafana_dashboard"] == "1"
    finally:
        cluster.kubectl("set", "env", "-n", OPERATOR, "deployment/operator", f"{METRICS_SET_ENV}-",
                        f"{MONITORING_DASHBOARDS_ENV}-", check=False)
        cluster.kubectl("rollout", "status", "-n", OPERATOR, "deployment/operator", "--timeout=180s", timeout=200,
                        check=False)
        cluster.kubectl("delete", "configmap", SRE_CONFIGMAP, DASHBOARD_TEMPLATE_CONFIGMAP, "-n", OPERATOR,
                        "--ignore-not-found", check=False)
    wait_for(lambda: cluster.kubectl("get", "configmap", dashboard, "-n", NAMESPACE, check=False).returncode != 0
             or None, 120, "the dashboard to go once MONITORING_DASHBOARDS is unset", interval=3.0)
