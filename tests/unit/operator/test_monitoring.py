"""The monitoring controller against the fake API of the operator's unit tests: the Prometheus configuration it
writes (once), the ServiceMonitors where their CRD exists, each cluster's metrics set, a bad SRE edit."""

from __future__ import annotations

import asyncio
import base64
import copy
import logging

import httpx2
import yaml

from hcp.monitoring import CONFIG_KEY, CONFIG_SECRET, NAMESPACE
from hcp.monitoring.sets import MetricsSet
from hcp.operator.monitoring import CRD_KEY, CRD_RECHECK, KEY, RECHECK, MonitoringController
from hcp.operator.serving import mint
from tests.unit.nodepool.test_batches import api_error
from tests.unit.operator.etcdbackup.objects import NAMESPACE as CONTROL_PLANE, control_plane_body
from tests.unit.operator.etcdbackup.test_controller import FakeClient, FakeInformer, World, hosted_cluster_body, \
    kind_of


class NoServiceMonitors(FakeClient):
    """A management cluster without the Prometheus Operator: listing ServiceMonitors is a 404."""

    async def list(self, resource, *, namespace=None, labels=None):
        if kind_of(resource) == "ServiceMonitor":
            raise api_error(404, "the server could not find the requested resource")
        async for obj in super().list(resource, namespace=namespace, labels=labels):
            yield obj


def secret(namespace: str, name: str, data: dict[str, bytes]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def world_with_a_control_plane(metrics_set: str | None = None) -> World:
    world = World()
    plane = control_plane_body()
    plane["spec"]["clusterID"] = "id-demo"
    world.put(plane)
    cluster = hosted_cluster_body()
    if metrics_set:
        cluster["spec"]["monitoring"] = {"metricsSet": metrics_set}
    world.put(cluster)
    world.put(secret(CONTROL_PLANE, "metrics-client", {"tls.crt": b"C", "tls.key": b"K", "ca.crt": b"A"}))
    world.put(secret(CONTROL_PLANE, "etcd-metrics-client-tls",
                     {"etcd-client.crt": b"EC", "etcd-client.key": b"EK", "etcd-client-ca.crt": b"EA"}))
    return world


def controller(world: World, client_class=NoServiceMonitors, **kwargs) -> MonitoringController:
    return MonitoringController(client_class(world), control_planes=FakeInformer(world, "HostedControlPlane"),
                                clusters=FakeInformer(world, "HostedCluster"), secrets=FakeInformer(world, "Secret"),
                                operator_namespace="hypershift",
                                metrics_set=kwargs.pop("metrics_set", MetricsSet.TELEMETRY), **kwargs)


def prometheus_yml(world: World) -> dict:
    stored = world.get("Secret", NAMESPACE, CONFIG_SECRET)
    return yaml.safe_load(base64.b64decode(stored["data"][CONFIG_KEY]))


def jobs(world: World) -> dict[str, dict]:
    return {job["job_name"]: job for job in prometheus_yml(world)["scrape_configs"]}


def test_the_configuration_names_every_component_and_is_written_once():
    world = world_with_a_control_plane()
    monitoring = controller(world)
    result = asyncio.run(monitoring.reconcile(KEY))
    assert result.requeue_after == RECHECK
    assert f"{CONTROL_PLANE}/kube-apiserver" in jobs(world)
    writes = list(world.writes)
    asyncio.run(monitoring.reconcile(KEY))
    assert world.writes == writes, "an unchanged configuration (serving certificate kept) is not written again"
    assert not world.of_kind("ServiceMonitor")


def test_a_clusters_metrics_set_wins_over_the_operators():
    world = world_with_a_control_plane(metrics_set="All")
    asyncio.run(controller(world, metrics_set=MetricsSet.TELEMETRY).reconcile(KEY))
    etcd = jobs(world)[f"{CONTROL_PLANE}/etcd"]
    assert [c["action"] for c in etcd["metric_relabel_configs"]] == ["replace"]  # All: only the _id label


def test_without_prometheus_nothing_is_written_there():
    world = world_with_a_control_plane()
    asyncio.run(controller(world, prometheus_namespace=None).reconcile(KEY))
    assert world.get("Secret", NAMESPACE, CONFIG_SECRET) is None


def test_where_the_crd_exists_each_component_gets_a_service_monitor_owned_by_the_control_plane():
    world = world_with_a_control_plane()
    asyncio.run(controller(world, client_class=FakeClient).reconcile(KEY))
    monitors = {m["metadata"]["name"]: m for m in world.of_kind("ServiceMonitor")}
    assert set(monitors) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                             "konnectivity-server"}
    assert all(m["metadata"]["namespace"] == CONTROL_PLANE for m in monitors.values())
    assert monitors["etcd"]["metadata"]["ownerReferences"][0]["kind"] == "HostedControlPlane"


def test_a_bad_sre_edit_is_logged_and_the_last_good_set_kept(caplog):
    world = world_with_a_control_plane(metrics_set="SRE")
    good = "kubeAPIServer: [{action: drop, regex: 'apiserver_request_total', sourceLabels: [__name__]}]"
    world.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sre-metric-set",
                                                                     "namespace": "hypershift"},
               "data": {"config": good}})
    monitoring = controller(world)
    asyncio.run(monitoring.reconcile(KEY))
    kas = jobs(world)[f"{CONTROL_PLANE}/kube-apiserver"]
    assert kas["metric_relabel_configs"][0]["regex"] == "apiserver_request_total"
    bad = copy.deepcopy(world.get("ConfigMap", "hypershift", "sre-metric-set"))
    bad["data"]["config"] = "kubeAPIServer: [{action: explode}]"
    world.put(bad)
    with caplog.at_level(logging.ERROR):
        asyncio.run(monitoring.reconcile(KEY))
    assert "unknown action 'explode'" in caplog.text and "keeping the SRE metrics set as it was" in caplog.text
    assert jobs(world)[f"{CONTROL_PLANE}/kube-apiserver"]["metric_relabel_configs"][0]["regex"] == \
        "apiserver_request_total"


def test_the_operator_is_verified_with_its_serving_ca():
    world = world_with_a_control_plane()
    serving = mint("hypershift")
    world.put(secret("hypershift", "operator-serving-cert", {"tls.crt": serving.cert_pem, "tls.key": serving.key_pem,
                                                             "ca.crt": serving.ca_pem}))
    asyncio.run(controller(world, operator_serving_secret="operator-serving-cert").reconcile(KEY))
    assert jobs(world)["hcp-operator"]["scheme"] == "https"
    stored = world.get("Secret", NAMESPACE, CONFIG_SECRET)
    assert base64.b64decode(stored["data"]["operator.ca.crt"]) == serving.ca_pem


class GroupNotServed(FakeClient):
    """An API group the server does not serve: a bare 404 (no Status body), which lightkube leaves as httpx's."""

    async def list(self, resource, *, namespace=None, labels=None):
        if kind_of(resource) == "ServiceMonitor":
            request = httpx2.Request("GET", "https://api/apis/monitoring.coreos.com/v1/servicemonitors")
            raise httpx2.HTTPStatusError("404", request=request, response=httpx2.Response(404, request=request))
        async for obj in super().list(resource, namespace=namespace, labels=labels):
            yield obj


def test_an_api_group_not_served_means_no_service_monitors():
    world = world_with_a_control_plane()
    asyncio.run(controller(world, client_class=GroupNotServed).reconcile(KEY))
    assert not world.of_kind("ServiceMonitor") and world.get("Secret", NAMESPACE, CONFIG_SECRET)


def test_unchanged_service_monitors_are_not_applied_again():
    world = world_with_a_control_plane()
    monitoring = controller(world, client_class=FakeClient)
    asyncio.run(monitoring.reconcile(KEY))
    applied = [w for w in world.writes if w[1] == "ServiceMonitor"]
    assert len(applied) == 5
    asyncio.run(monitoring.reconcile(KEY))
    assert [w for w in world.writes if w[1] == "ServiceMonitor"] == applied
    cluster = world.get("HostedCluster", "clusters", "demo")
    cluster["spec"]["monitoring"] = {"metricsSet": "All"}  # a change: applied again
    asyncio.run(monitoring.reconcile(KEY))
    assert len([w for w in world.writes if w[1] == "ServiceMonitor"]) == 10


class CrdAppears(FakeClient):
    """A management cluster where the Prometheus Operator's CRD is installed once `served` is set."""

    served = False

    async def list(self, resource, *, namespace=None, labels=None):
        if kind_of(resource) == "ServiceMonitor" and not self.served:
            raise api_error(404, "the server could not find the requested resource")
        async for obj in super().list(resource, namespace=namespace, labels=labels):
            yield obj


def test_the_crd_check_is_cheap_until_the_crd_appears_then_it_makes_the_whole_pass():
    world = world_with_a_control_plane()
    monitoring = controller(world, client_class=CrdAppears)
    assert asyncio.run(monitoring.reconcile(KEY)).requeue_after == RECHECK
    writes = list(world.writes)
    result = asyncio.run(monitoring.reconcile(CRD_KEY))
    assert result.requeue_after == CRD_RECHECK < RECHECK
    assert world.writes == writes and not world.of_kind("ServiceMonitor"), "nothing changed: nothing done"
    monitoring.client.served = True
    asyncio.run(monitoring.reconcile(CRD_KEY))
    assert {m["metadata"]["name"] for m in world.of_kind("ServiceMonitor")} >= {"kube-apiserver", "etcd"}


def test_before_any_pass_the_crd_check_makes_one():
    world = world_with_a_control_plane()
    asyncio.run(controller(world).reconcile(CRD_KEY))
    assert world.get("Secret", NAMESPACE, CONFIG_SECRET)
