"""Publishing control-plane services per spec.services: the Service rendered, and the endpoint read back."""

from __future__ import annotations

from typing import Any

import pytest

from hcp.api.v1beta1.networking import ServicePublishingStrategy, ServiceType
from hcp.controlplane import Endpoint, RenderError
from hcp.controlplane.publishing import needs_node_addresses, publish, published_endpoint, service_strategy
from tests.unit.controlplane.conftest import SINGLE_REPLICA, make_context, make_hcp

NODES = ["10.0.0.5", "10.0.0.6"]


def strategy(**document: Any) -> ServicePublishingStrategy:
    return ServicePublishingStrategy.model_validate(document)


def node_port_service(node_port: int | None = 31091) -> dict[str, Any]:
    port = {"name": "konnectivity", "port": 8091, "targetPort": "konnectivity"}
    if node_port:
        port["nodePort"] = node_port
    return {"spec": {"type": "NodePort", "ports": [port]}}


def load_balancer_service(*ingress: dict[str, str]) -> dict[str, Any]:
    return {"spec": {"type": "LoadBalancer", "ports": [{"port": 8091, "nodePort": 31091}]},
            "status": {"loadBalancer": {"ingress": list(ingress)} if ingress else {}}}


# Reading the endpoint back.


def test_node_port_with_an_address_is_that_address_at_the_node_port():
    with_address = strategy(type="NodePort", nodePort={"address": "konnectivity.example.com"})
    assert published_endpoint(with_address, node_port_service(), NODES) == Endpoint("konnectivity.example.com", 31091)
    assert not needs_node_addresses(with_address)


def test_node_port_without_an_address_is_the_first_nodes():
    without = strategy(type="NodePort", nodePort={"address": "192.168.126.10"}).model_copy(update={"node_port": None})
    assert needs_node_addresses(without)
    assert published_endpoint(without, node_port_service(), NODES) == Endpoint("10.0.0.5", 31091)
    assert published_endpoint(without, node_port_service(), []) is None, "no node to reach it on yet"


def test_node_port_not_assigned_yet_is_unknown():
    with_address = strategy(type="NodePort", nodePort={"address": "192.168.126.10"})
    assert published_endpoint(with_address, node_port_service(node_port=None), NODES) is None


def test_load_balancer_is_its_ingress_at_the_service_port():
    lb = strategy(type="LoadBalancer")
    assert not needs_node_addresses(lb)
    assert published_endpoint(lb, load_balancer_service({"ip": "203.0.113.7"})) == Endpoint("203.0.113.7", 8091)
    assert published_endpoint(lb, load_balancer_service({"hostname": "lb.example.com"})) == (
        Endpoint("lb.example.com", 8091)
    )


def test_load_balancer_hostname_of_the_strategy_wins_over_the_ingress():
    named = strategy(type="LoadBalancer", loadBalancer={"hostname": "konnectivity.example.com"})
    assert published_endpoint(named, load_balancer_service({"ip": "203.0.113.7"})) == (
        Endpoint("konnectivity.example.com", 8091)
    )


def test_pending_load_balancer_is_unknown_even_with_a_hostname():
    """Known only once the load balancer exists: a name alone would send clients nowhere."""
    named = strategy(type="LoadBalancer", loadBalancer={"hostname": "konnectivity.example.com"})
    assert published_endpoint(named, load_balancer_service()) is None
    assert published_endpoint(strategy(type="LoadBalancer"), {"spec": load_balancer_service()["spec"]}) is None


# Rendering the Service.


def service() -> dict[str, Any]:
    return {"spec": {"type": "ClusterIP", "ports": [{"name": "konnectivity", "port": 8091}]}}


def services_with(service_type: str, publishing: dict[str, Any]) -> list[dict[str, Any]]:
    entries = [entry for entry in SINGLE_REPLICA["spec"]["services"] if entry["service"] != service_type]
    return [*entries, {"service": service_type, "servicePublishingStrategy": publishing}]


def test_publish_sets_the_type_and_the_node_port_of_the_strategy():
    hcp = make_hcp(SINGLE_REPLICA, services=services_with(
        "Konnectivity", {"type": "NodePort", "nodePort": {"address": "192.168.126.10", "port": 30091}}))
    rendered = service()
    publish(make_context(hcp), rendered, ServiceType.KONNECTIVITY)
    assert rendered["spec"]["type"] == "NodePort"
    assert rendered["spec"]["ports"][0]["nodePort"] == 30091

    hcp = make_hcp(SINGLE_REPLICA, services=services_with("Konnectivity", {"type": "LoadBalancer"}))
    rendered = service()
    publish(make_context(hcp), rendered, ServiceType.KONNECTIVITY)
    assert rendered["spec"] == {"type": "LoadBalancer", "ports": [{"name": "konnectivity", "port": 8091}]}


@pytest.mark.parametrize("publishing", [{"type": "Route"}, {"type": "None"}])
def test_strategies_hcp_cannot_serve_are_a_render_error_naming_the_service(publishing):
    hcp = make_hcp(SINGLE_REPLICA, services=services_with("Konnectivity", publishing))
    with pytest.raises(RenderError, match=f"the Konnectivity publishing strategy {publishing['type']} is not "
                                          f"supported; use NodePort or LoadBalancer"):
        publish(make_context(hcp), service(), ServiceType.KONNECTIVITY)


def test_a_service_missing_from_spec_services_is_a_render_error():
    entries = [e for e in SINGLE_REPLICA["spec"]["services"] if e["service"] != "Konnectivity"]
    hcp = make_hcp(SINGLE_REPLICA, services=entries)
    with pytest.raises(RenderError, match="spec.services has no entry for Konnectivity"):
        service_strategy(hcp, ServiceType.KONNECTIVITY)
