"""The dashboard template, its rendering per HostedCluster, the set of dashboards that should exist, and the
console's plots read from the same template."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from hcp.api.names import cluster_id
from hcp.monitoring import DASHBOARD_KEY, DASHBOARD_TEMPLATE_CONFIGMAP, DASHBOARD_TEMPLATE_KEY, NAMESPACE
from hcp.monitoring import dashboard
from hcp.monitoring.dashboard import (
    NAMESPACE_TOKEN, changes, console_plots, dashboard_configmap, dashboard_name, default_template,
    desired_dashboards, plots, render, template_configmap,
)

ROOT = Path(__file__).resolve().parents[3]
ID = "2f3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
ALWAYS_SCRAPED = {
    # What the default (Telemetry) metrics set keeps of the control plane, and cAdvisor's container series.
    "apiserver_request_total", "apiserver_current_inflight_requests", "apiserver_storage_objects",
    "etcd_mvcc_db_total_size_in_bytes", "etcd_mvcc_db_total_size_in_use_in_bytes",
    "etcd_disk_wal_fsync_duration_seconds_bucket", "etcd_disk_backend_commit_duration_seconds_bucket",
    "etcd_server_leader_changes_seen_total", "container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
}
PROMQL_WORDS = {"sum", "by", "rate", "max", "topk", "histogram_quantile", "code", "request_kind", "pod", "le",
                "resource", "namespace", "job", "container"}


def cluster(name="demo", namespace="clusters", *, uid="uid-1", created="2030-01-01T00:00:00Z", deleting=False,
            spec_id: str | None = ID) -> dict:
    metadata = {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": created}
    if deleting:
        metadata["deletionTimestamp"] = "2030-01-02T00:00:00Z"
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster", "metadata": metadata,
            "spec": {"clusterID": spec_id} if spec_id else {}}


# -- the template ------------------------------------------------------------------------------------------


def test_the_default_template_is_a_current_grafana_dashboard_with_a_prometheus_datasource_variable():
    board = json.loads(default_template())
    assert board["title"] == "Hosted cluster __NAMESPACE__/__NAME__"
    assert board["uid"] == "hcp-__CLUSTER_ID__" and len(board["uid"].replace("__CLUSTER_ID__", ID)) <= 40
    assert board["schemaVersion"] >= 39
    [variable] = board["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == ("datasource", "datasource", "prometheus")
    panels = board["panels"]
    assert [p["title"] for p in panels] == [
        "API request rate by code", "API requests in flight", "etcd database size", "etcd WAL fsync p99",
        "Control-plane CPU by pod", "Control-plane memory by pod", "Stored objects (top 10 resources)"]
    cells = set()
    for panel in panels:
        assert panel["type"] == "timeseries"
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
    assert len({p["id"] for p in panels}) == len(panels)


def test_every_query_is_of_the_control_plane_namespace_and_of_series_that_are_always_scraped():
    for panel in json.loads(default_template())["panels"]:
        [target] = panel["targets"]
        expr = target["expr"]
        assert 'namespace="__CONTROL_PLANE_NAMESPACE__"' in expr, panel["title"]
        names = {w for w in re.findall(r"[a-z_][a-z0-9_]*", re.sub(r'"[^"]*"|\[\w+\]', "", expr))} - PROMQL_WORDS
        assert names <= ALWAYS_SCRAPED, (panel["title"], names - ALWAYS_SCRAPED)
        if names & {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}:
            assert 'job="cadvisor"' in expr and 'container="", pod!=""' in expr


def test_the_template_is_package_data():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "*.json" in package_data["*"]
    assert (ROOT / "src/hcp/monitoring" / dashboard.TEMPLATE_FILE).read_text() == default_template()


def test_render_replaces_the_four_placeholders_as_text():
    text = render(default_template(), name="demo", namespace="clusters", control_plane_namespace="clusters-demo",
                  cluster_id=ID)
    assert "__" not in text.replace("__name__", "")
    board = json.loads(text)
    assert board["title"] == "Hosted cluster clusters/demo" and board["uid"] == f"hcp-{ID}"
    assert board["panels"][0]["targets"][0]["expr"] == \
        'sum by (code) (rate(apiserver_request_total{namespace="clusters-demo"}[5m]))'
    assert render("__NAME__ __NAMESPACE__ __CONTROL_PLANE_NAMESPACE__ __CLUSTER_ID__", name="n", namespace="ns",
                  control_plane_namespace="ns-n", cluster_id="id") == "n ns ns-n id"


def test_the_template_configmap_is_the_one_the_operator_reads():
    configmap = template_configmap("hypershift")
    assert configmap["metadata"]["name"] == DASHBOARD_TEMPLATE_CONFIGMAP == "monitoring-dashboard-template"
    assert configmap["metadata"]["namespace"] == "hypershift"
    assert configmap["data"] == {DASHBOARD_TEMPLATE_KEY: default_template()}
    assert dashboard.template_from(configmap) == default_template()
    assert dashboard.template_from({"data": {}}) is None and dashboard.template_from(None) is None


# -- the dashboards ----------------------------------------------------------------------------------------


def test_the_dashboard_name_is_hypershifts_and_an_invalid_one_is_refused():
    assert dashboard_name("clusters", "demo") == "cp-clusters-demo"
    assert dashboard_name("team-a", "web.prod") == "cp-team-a-web.prod"
    with pytest.raises(ValueError, match="not a valid ConfigMap name"):
        dashboard_name("clusters", "x" * 250)
    with pytest.raises(ValueError, match="not a valid ConfigMap name"):
        dashboard_name("clusters", "Demo")


def test_a_dashboard_configmap_is_labelled_for_consoles_grafana_and_hcp():
    configmap = dashboard_configmap(default_template(), namespace="clusters", name="demo", cluster_id=ID, uid="u1")
    metadata = configmap["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("cp-clusters-demo", NAMESPACE)
    assert metadata["labels"] == {"console.openshift.io/dashboard": "true", "grafana_dashboard": "1",
                                  "app.kubernetes.io/managed-by": "hcp", "hcp.io/hosted-cluster-uid": "u1"}
    assert metadata["annotations"] == {"hypershift.openshift.io/cluster": "clusters/demo"}
    assert list(configmap["data"]) == [DASHBOARD_KEY]
    assert json.loads(configmap["data"][DASHBOARD_KEY])["uid"] == f"hcp-{ID}"


def test_the_cluster_id_is_the_one_the_control_plane_gets():
    [made] = desired_dashboards([cluster(spec_id=None)], default_template(), True)
    assert json.loads(made["data"][DASHBOARD_KEY])["uid"] == f"hcp-{cluster_id(None, 'uid-1')}"


def test_desired_dashboards_one_per_live_cluster_when_enabled_with_a_template():
    clusters = [cluster("b"), cluster("a"), cluster("gone", deleting=True), cluster("x" * 250)]
    made = desired_dashboards(clusters, default_template(), True)
    assert [d["metadata"]["name"] for d in made] == ["cp-clusters-a", "cp-clusters-b"]
    assert desired_dashboards(clusters, default_template(), False) == []
    assert desired_dashboards(clusters, None, True) == []
    assert dashboard.invalid_names(clusters) == [
        f"HostedCluster clusters/{'x' * 250} gets no dashboard: 'cp-clusters-{'x' * 250}' is not a valid ConfigMap "
        f"name (a DNS subdomain of at most 253 characters)"]


def test_two_clusters_of_one_dashboard_name_the_older_keeps_it():
    older = cluster("b-c", "a", uid="old", created="2030-01-01T00:00:00Z")
    newer = cluster("c", "a-b", uid="new", created="2030-02-01T00:00:00Z")
    for order in ([older, newer], [newer, older]):
        [made] = desired_dashboards(order, default_template(), True)
        assert made["metadata"]["labels"]["hcp.io/hosted-cluster-uid"] == "old"


def live(configmap: dict, **labels) -> dict:
    """A ConfigMap as the API serves it back: with server fields and maybe labels someone added."""
    body = json.loads(json.dumps(configmap))
    body["metadata"].update(resourceVersion="7", uid="cm-uid")
    body["metadata"]["labels"].update(labels)
    return body


def test_changes_create_update_and_delete_only_what_differs():
    template = default_template()
    [a] = desired_dashboards([cluster("a")], template, True)
    assert changes([cluster("a")], template, True, []).apply == [a]
    assert changes([cluster("a")], template, True, [live(a, team="x")]) == dashboard.Changes([], [])
    edited = live(a)
    edited["data"][DASHBOARD_KEY] = "{}"
    assert changes([cluster("a")], template, True, [edited]).apply == [a]
    stale = live(dashboard_configmap(template, namespace="clusters", name="gone", cluster_id=ID))
    foreign = {"metadata": {"name": "cp-clusters-mine", "namespace": NAMESPACE, "labels": {"grafana_dashboard": "1"}}}
    plan = changes([cluster("a"), cluster("dying", deleting=True)], template, True, [live(a), stale, foreign])
    assert plan == dashboard.Changes([], ["cp-clusters-gone"])


def test_turned_off_every_dashboard_of_hcps_goes_and_no_other():
    template = default_template()
    [a] = desired_dashboards([cluster("a")], template, True)
    foreign = {"metadata": {"name": "cp-clusters-b", "namespace": NAMESPACE, "labels": {}}}
    assert changes([cluster("a")], template, False, [live(a), foreign]) == dashboard.Changes([], ["cp-clusters-a"])
    assert changes([cluster("a")], None, False, [live(a)]).delete == ["cp-clusters-a"]


def test_without_a_template_nothing_is_written_and_only_gone_clusters_lose_theirs():
    template = default_template()
    a, gone, dying = (live(dashboard_configmap(template, namespace="clusters", name=n, cluster_id=ID))
                      for n in ("a", "gone", "dying"))
    plan = changes([cluster("a"), cluster("dying", deleting=True)], None, True, [a, gone, dying])
    assert plan == dashboard.Changes([], ["cp-clusters-dying", "cp-clusters-gone"])


# -- the console's plots -----------------------------------------------------------------------------------


def test_the_console_plots_are_panels_of_the_template():
    assert [(p.title, p.unit) for p in console_plots()] == [
        ("API request rate by code", "reqps"), ("etcd database size", "bytes"),
        ("Control-plane CPU by pod", "suffix: cores"), ("Control-plane memory by pod", "bytes")]
    assert len(dashboard.PLOTS) == len(json.loads(default_template())["panels"])
    rate = console_plots()[0]
    assert rate.query == 'sum by (code) (rate(apiserver_request_total{namespace="' + NAMESPACE_TOKEN + '"}[5m]))'
    assert rate.promql("team-a-demo") == \
        'sum by (code) (rate(apiserver_request_total{namespace="team-a-demo"}[5m]))'
    assert rate.legend == "{{code}}"


def test_plots_of_a_customized_template_skip_what_the_console_cannot_fill():
    board = {"panels": [
        {"type": "row", "title": "Row", "panels": [
            {"type": "timeseries", "title": "In a row",
             "targets": [{"expr": 'up{namespace="__CONTROL_PLANE_NAMESPACE__"}'}]}]},
        {"type": "timeseries", "title": "By ID", "targets": [{"expr": 'up{_id="__CLUSTER_ID__"}'}]},
        {"type": "stat", "title": "A stat", "targets": [{"expr": "up"}]},
        {"type": "timeseries", "title": "No query", "targets": []},
    ]}
    assert [(p.title, p.query, p.unit) for p in plots(json.dumps(board))] == [
        ("In a row", 'up{namespace="{namespace}"}', "short")]
