"""The monitoring-dashboards controller against the fake API of the HCPEtcdBackup controller's tests: what it
writes and deletes, that it writes nothing twice, and that it never touches a ConfigMap that is not hcp's."""

from __future__ import annotations

import asyncio
import copy
import json
import logging

from lightkube.codecs import from_dict

from hcp.monitoring import DASHBOARD_KEY, NAMESPACE
from hcp.monitoring.dashboard import MANAGED_BY, template_configmap
from hcp.operator.dashboards import KEY, MISSING_NAMESPACE_RETRY, DashboardController, dashboards_enabled
from tests.unit.nodepool.test_batches import api_error
from tests.unit.operator.etcdbackup.test_controller import FakeClient, FakeInformer, World, hosted_cluster_body


class Cache(FakeInformer):
    """The fake informer, with a label selector (as the informer of hcp's dashboards lists) and handlers."""

    def __init__(self, world: World, kind: str, labels: dict[str, str] | None = None) -> None:
        super().__init__(world, kind)
        self.labels = labels or {}
        self.handlers = []

    def add_handler(self, handler) -> None:
        self.handlers.append(handler)

    def list(self, namespace=None):
        return [o for o in super().list(namespace) if self.labels.items() <= (o.metadata.labels or {}).items()]


def harness(*, enabled: bool = True, template: bool = True, clusters=("demo",)):
    world = World()
    for name in clusters:
        body = hosted_cluster_body()
        body["metadata"].update(name=name, uid=f"uid-{name}")
        world.put(body)
    if template:
        world.put(template_configmap("hypershift"))
    return world, controller_for(world, enabled)


def controller_for(world: World, enabled: bool = True) -> DashboardController:
    """The controller as the operator wires it, on the fake: a restart with another MONITORING_DASHBOARDS is
    a new controller on the same world."""
    return DashboardController(
        FakeClient(world), clusters=Cache(world, "HostedCluster"), templates=Cache(world, "ConfigMap"),
        dashboards=Cache(world, "ConfigMap", MANAGED_BY), operator_namespace="hypershift",
        enabled=enabled)


def run(controller):
    return asyncio.run(controller.reconcile(KEY))


def dashboards(world) -> dict[str, dict]:
    return {b["metadata"]["name"]: b for b in world.of_kind("ConfigMap") if b["metadata"]["namespace"] == NAMESPACE}


def test_the_environment_switch_is_hypershifts():
    assert dashboards_enabled({"MONITORING_DASHBOARDS": "1"})
    for value in ("", "0", "true", "yes"):
        assert not dashboards_enabled({"MONITORING_DASHBOARDS": value})
    assert not dashboards_enabled({})


def test_enabled_it_writes_one_dashboard_per_cluster_and_then_nothing():
    world, controller = harness(clusters=("demo", "other"))
    assert run(controller) is None
    made = dashboards(world)
    assert sorted(made) == ["cp-clusters-demo", "cp-clusters-other"]
    board = json.loads(made["cp-clusters-demo"]["data"][DASHBOARD_KEY])
    assert board["title"] == "Hosted cluster clusters/demo"
    assert [w[0] for w in world.writes] == ["create", "create"]
    writes = len(world.writes)
    run(controller)
    assert len(world.writes) == writes, "an unchanged dashboard is not written again"


def test_a_changed_template_is_applied_to_every_dashboard():
    world, controller = harness()
    run(controller)
    custom = template_configmap("hypershift")
    custom["data"]["template"] = '{"title": "custom __NAME__"}'
    world.put(custom)
    run(controller)
    assert dashboards(world)["cp-clusters-demo"]["data"][DASHBOARD_KEY] == '{"title": "custom demo"}'
    assert world.writes[-1][:2] == ("apply", "ConfigMap")


def test_a_deleted_clusters_dashboard_goes_and_a_foreign_configmap_stays():
    world, controller = harness(clusters=("demo", "gone"))
    run(controller)
    world.put({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "cp-clusters-users", "namespace": NAMESPACE, "labels": {"grafana_dashboard": "1"}}})
    del world.objects[("HostedCluster", "clusters", "gone")]
    run(controller)
    assert sorted(dashboards(world)) == ["cp-clusters-demo", "cp-clusters-users"]
    assert ("delete", "ConfigMap", NAMESPACE, "cp-clusters-gone", "None") in world.writes


def test_turned_off_it_deletes_every_dashboard_it_made_and_nothing_else():
    world, controller = harness()
    run(controller)
    world.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": NAMESPACE}})
    run(controller_for(world, enabled=False))
    assert sorted(dashboards(world)) == ["mine"]


def test_without_the_template_it_writes_nothing_and_warns_once(caplog):
    world, controller = harness(template=False)
    with caplog.at_level(logging.WARNING, logger="hcp.operator.dashboards"):
        run(controller)
        run(controller)
    assert world.writes == [] and dashboards(world) == {}
    [warning] = caplog.records
    assert "ConfigMap hypershift/monitoring-dashboard-template" in warning.getMessage()
    world.put(template_configmap("hypershift"))
    run(controller)
    assert list(dashboards(world)) == ["cp-clusters-demo"]


def test_a_configmap_of_the_dashboards_name_that_is_not_hcps_is_left_alone(caplog):
    world, controller = harness()
    theirs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cp-clusters-demo", "namespace": NAMESPACE},
              "data": {"x": "y"}}
    world.put(theirs)
    with caplog.at_level(logging.WARNING, logger="hcp.operator.dashboards"):
        run(controller)
    assert dashboards(world)["cp-clusters-demo"]["data"] == {"x": "y"}
    assert [w[0] for w in world.writes] == []
    assert "is not hcp's" in caplog.text and "clusters/demo" in caplog.text


def test_its_own_dashboard_the_cache_has_not_seen_yet_is_applied():
    world, controller = harness()
    run(controller)
    stale = copy.deepcopy(dashboards(world)["cp-clusters-demo"])
    controller.dashboards = Cache(World(), "ConfigMap", MANAGED_BY)  # an empty cache
    world.put({**stale, "data": {DASHBOARD_KEY: "{}"}})
    run(controller)
    assert dashboards(world)["cp-clusters-demo"]["data"] == stale["data"]


def test_without_the_monitoring_namespace_it_waits_and_says_so_once(caplog):
    world, controller = harness()
    world.refuse_create = api_error(404, f'namespaces "{NAMESPACE}" not found')
    with caplog.at_level(logging.WARNING, logger="hcp.operator.dashboards"):
        assert run(controller).requeue_after == MISSING_NAMESPACE_RETRY
        assert run(controller).requeue_after == MISSING_NAMESPACE_RETRY
    [warning] = caplog.records
    assert f"namespace {NAMESPACE} does not exist" in warning.getMessage()
    world.refuse_create = None
    assert run(controller) is None and list(dashboards(world)) == ["cp-clusters-demo"]


def test_every_watched_change_queues_the_one_key_but_other_configmaps_of_the_operator_namespace():
    world, controller = harness()
    queue = controller.controller.queue
    template = FakeInformer(world, "ConfigMap").get("hypershift", "monitoring-dashboard-template")
    other = from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "supported-versions", "namespace": "hypershift"}})
    [on_template] = controller.templates.handlers
    on_template("MODIFIED", other)
    assert len(queue) == 0
    on_template("MODIFIED", template)
    [on_cluster] = controller.clusters.handlers
    on_cluster("ADDED", FakeInformer(world, "HostedCluster").get("clusters", "demo"))
    assert len(queue) == 1
