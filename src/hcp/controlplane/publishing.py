"""Publishing control-plane services outside the management cluster, per spec.services.

Every service clients outside the management cluster reach (the API server,
konnectivity for the agents on the nodes, later Ignition) is one Service of
the control-plane namespace whose type spec.services chooses. The same two
steps serve them all, so each service is published and found the same way:

- `publish` (render time) makes the Service a NodePort or LoadBalancer as its
  strategy says; Route and None cannot be served by hcp and are a RenderError.
- `published_endpoint` (observe time) reads where clients reach the applied
  Service: the strategy's address or a node's, at the node port; or the load
  balancer's hostname or ingress, at the Service port. Pure, so it is tested
  without a cluster; None while the endpoint is not known yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hcp.api import HostedControlPlane
from hcp.api.v1beta1.networking import PublishingStrategyType, ServicePublishingStrategy, ServiceType
from hcp.controlplane.context import Endpoint, RenderContext, RenderError

PUBLISHED_TYPES = {
    PublishingStrategyType.NODE_PORT: "NodePort",
    PublishingStrategyType.LOAD_BALANCER: "LoadBalancer",
}
"""The publishing strategies hcp serves, with the Service type each becomes."""


def service_strategy(hcp: HostedControlPlane, service_type: ServiceType) -> ServicePublishingStrategy:
    """spec.services' strategy for one service; a RenderError when spec.services does not list it."""
    for mapping in hcp.spec.services:
        if mapping.service == service_type:
            return mapping.service_publishing_strategy
    raise RenderError(f"spec.services has no entry for {service_type.value}")


def publish(ctx: RenderContext, service: dict[str, Any], service_type: ServiceType) -> None:
    """Give a rendered Service (in place) the type and node port of spec.services[service_type].

    The node port is set only when the strategy names one; otherwise Kubernetes
    assigns it and `published_endpoint` reads it back from the applied Service.
    """
    strategy = service_strategy(ctx.hcp, service_type)
    kind = PUBLISHED_TYPES.get(strategy.type)
    if kind is None:
        raise RenderError(
            f"the {service_type.value} publishing strategy {strategy.type.value} is not supported; "
            f"use {' or '.join(t.value for t in PUBLISHED_TYPES)}"
        )
    service["spec"]["type"] = kind
    if strategy.type == PublishingStrategyType.NODE_PORT and strategy.node_port and strategy.node_port.port:
        service["spec"]["ports"][0]["nodePort"] = strategy.node_port.port


def needs_node_addresses(strategy: ServicePublishingStrategy) -> bool:
    """Whether `published_endpoint` falls back to a node's address (a NodePort without one), so the
    caller lists the management cluster's nodes only when it must."""
    return strategy.type == PublishingStrategyType.NODE_PORT and not (strategy.node_port and strategy.node_port.address)


def published_endpoint(
    strategy: ServicePublishingStrategy, live_service: Mapping[str, Any], node_addresses: Sequence[str] = (),
) -> Endpoint | None:
    """host:port where clients outside reach an applied Service (its first port), or None while unknown.

    `live_service` is the Service as the API server returned it (a dict);
    `node_addresses` are the management nodes' InternalIPs, used when a
    NodePort strategy gives no address. A LoadBalancer is known once its
    status has an ingress; its host is the strategy's hostname when set
    (clients then verify that name), else the ingress IP or hostname.
    """
    spec = live_service.get("spec") or {}
    port = (spec.get("ports") or [{}])[0]
    if spec.get("type") == "LoadBalancer":
        ingress = ((live_service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if not ingress:
            return None
        hostname = strategy.load_balancer.hostname if strategy.load_balancer else None
        host = hostname or ingress[0].get("ip") or ingress[0].get("hostname")
        return Endpoint(host, port["port"]) if host and port.get("port") else None
    node_port = port.get("nodePort")
    address = (strategy.node_port.address if strategy.node_port else None) or next(iter(node_addresses), None)
    return Endpoint(address, node_port) if address and node_port else None
