"""Networking of a hosted cluster and how its control-plane services are published."""

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from hcp.api.base import KubeModel
from hcp.api.markers import Rule, immutable, kube_schema
from hcp.api.types import Int32

_CIDR_RULE = Rule(
    r"self.matches('^((\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2})$') || "
    r"self.matches('^([0-9a-fA-F]{0,4}:){2,7}([0-9a-fA-F]{0,4})?/[0-9]{1,3}$')",
    "cidr must be a valid IPv4 or IPv6 CIDR notation (e.g., 192.168.1.0/24 or 2001:db8::/64)",
)
_HOSTNAME_RULE = Rule(
    r"self.matches('^(?:[a-zA-Z0-9-]+\\.)+[a-zA-Z]{2,}$')",
    "hostname must be a valid domain name (e.g., example.com)",
)
_ADDRESS_RULE = Rule(
    r"self.matches('^(([a-zA-Z0-9][-a-zA-Z0-9]*\\.)+[a-zA-Z]{2,}|localhost)$') || "
    r"self.matches('^((\\d{1,3}\\.){3}\\d{1,3})$') || "
    r"self.matches('^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|"
    r"([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|"
    r"([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|"
    r"([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|"
    r":((:[0-9a-fA-F]{1,4}){1,7}|:))$')",
    "address must be a valid hostname, IPv4, or IPv6 address",
)
SERVICES_REQUIRED = Rule(
    "size(self.services) >= 4",
    "services must publish at least 4 services: APIServer, OAuthServer, Konnectivity and Ignition",
)


def _check_cidr(value: str) -> str:
    ipaddress.ip_network(value, strict=False)
    return value


CIDR = Annotated[
    str, AfterValidator(_check_cidr), Field(max_length=43, json_schema_extra=kube_schema(rules=[_CIDR_RULE]))
]
"""An IPv4 or IPv6 network in CIDR notation."""


class NetworkType(StrEnum):
    """The pod network (CNI) provider of the hosted cluster."""

    OPENSHIFT_SDN = "OpenShiftSDN"
    CALICO = "Calico"
    OVN_KUBERNETES = "OVNKubernetes"
    OTHER = "Other"


class AllocateNodeCIDRsMode(StrEnum):
    """Whether kube-controller-manager allocates a pod CIDR to every node."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"


class ClusterNetworkEntry(KubeModel):
    """A pod network; each node gets a /hostPrefix slice of it."""

    cidr: CIDR
    """Address pool of the pod network."""
    host_prefix: Int32 | None = None
    """Prefix length of the block given to each node (24 gives each node 256 addresses)."""


class ServiceNetworkEntry(KubeModel):
    """A Service (ClusterIP) network."""

    cidr: CIDR
    """Address pool for Service cluster IPs."""


class MachineNetworkEntry(KubeModel):
    """A network the cluster's machines have addresses in."""

    cidr: CIDR
    """Address pool of the machines."""


class ClusterNetworking(KubeModel):
    """Pod, Service and machine networks of the hosted cluster; immutable once set."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "(!has(self.machineNetwork) && self.clusterNetwork.all(c, self.serviceNetwork.all(s, "
                    "c.cidr != s.cidr)) || (has(self.machineNetwork) && (self.machineNetwork.all(m, "
                    "self.clusterNetwork.all(c, m.cidr != c.cidr)) && self.machineNetwork.all(m, "
                    "self.serviceNetwork.all(s, m.cidr != s.cidr)) && self.clusterNetwork.all(c, "
                    "self.serviceNetwork.all(s, c.cidr != s.cidr)))))",
                    "CIDR ranges in machineNetwork, clusterNetwork, and serviceNetwork must be unique "
                    "and non-overlapping",
                ),
                Rule(
                    "has(self.allocateNodeCIDRs) && self.allocateNodeCIDRs == 'Enabled' ? "
                    "self.networkType == 'Other' : true",
                    "allocateNodeCIDRs can only be set to Enabled when networkType is 'Other'",
                ),
            ]
        )
    )

    machine_network: list[MachineNetworkEntry] | None = Field(
        default=None,
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(list_type="atomic", rules=[immutable("machineNetwork")]),
    )
    """Networks of the machines (one, or two for dual stack)."""
    cluster_network: list[ClusterNetworkEntry] = Field(
        default=[ClusterNetworkEntry(cidr="10.132.0.0/14")],
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(rules=[immutable("clusterNetwork")]),
    )
    """Pod networks (one, or two for dual stack)."""
    service_network: list[ServiceNetworkEntry] = Field(
        default=[ServiceNetworkEntry(cidr="172.31.0.0/16")],
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(rules=[immutable("serviceNetwork")]),
    )
    """Service networks (one, or two for dual stack)."""
    network_type: NetworkType = NetworkType.OVN_KUBERNETES
    """The pod network provider."""
    allocate_node_cidrs: AllocateNodeCIDRsMode | None = Field(
        default=None,
        alias="allocateNodeCIDRs",
        json_schema_extra=kube_schema(rules=[immutable("allocateNodeCIDRs")]),
    )
    """Enabled makes kube-controller-manager allocate node pod CIDRs (needed by e.g. flannel); only with Other."""


class ServiceType(StrEnum):
    """A control-plane service that is published outside the management cluster."""

    API_SERVER = "APIServer"
    OAUTH_SERVER = "OAuthServer"
    OIDC = "OIDC"
    KONNECTIVITY = "Konnectivity"
    IGNITION = "Ignition"
    OVN_SB_DB = "OVNSbDb"


class PublishingStrategyType(StrEnum):
    """How a control-plane service is made reachable."""

    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"
    ROUTE = "Route"
    NONE = "None"
    S3 = "S3"


class NodePortPublishingStrategy(KubeModel):
    """Publish a service as a NodePort Service of the management cluster."""

    address: str = Field(min_length=1, max_length=253, json_schema_extra=kube_schema(rules=[_ADDRESS_RULE]))
    """Host or IP clients use to reach the node port."""
    port: Int32 | None = None
    """Node port to use; assigned by Kubernetes when unset."""


class LoadBalancerPublishingStrategy(KubeModel):
    """Publish a service as a LoadBalancer Service."""

    hostname: str | None = Field(
        default=None, min_length=1, max_length=253, json_schema_extra=kube_schema(rules=[_HOSTNAME_RULE])
    )
    """DNS name clients use; taken from the load balancer's status when unset."""


class RoutePublishingStrategy(KubeModel):
    """Publish a service through an ingress route."""

    hostname: str | None = Field(
        default=None, min_length=1, max_length=253, json_schema_extra=kube_schema(rules=[_HOSTNAME_RULE])
    )
    """DNS name of the route."""


class ServicePublishingStrategy(KubeModel):
    """The publishing strategy of one service, with the settings of that strategy only."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "self.type == 'NodePort' ? has(self.nodePort) : !has(self.nodePort)",
                    "nodePort is required when type is NodePort, and forbidden otherwise",
                ),
                Rule(
                    "self.type == 'Route' ? !has(self.nodePort) && !has(self.loadBalancer) : !has(self.route)",
                    "only route is allowed when type is Route, and forbidden otherwise",
                ),
                Rule(
                    "self.type == 'LoadBalancer' ? !has(self.nodePort) && !has(self.route) : !has(self.loadBalancer)",
                    "only loadBalancer is allowed when type is LoadBalancer, and forbidden otherwise",
                ),
                Rule(
                    "self.type == 'None' ? !has(self.nodePort) && !has(self.route) && !has(self.loadBalancer) : true",
                    "type None does not allow loadBalancer, nodePort or route settings",
                ),
                Rule(
                    "self.type == 'S3' ? !has(self.nodePort) && !has(self.route) && !has(self.loadBalancer) : true",
                    "type S3 does not allow loadBalancer, nodePort or route settings",
                ),
            ]
        )
    )

    type: PublishingStrategyType
    """The publishing strategy."""
    node_port: NodePortPublishingStrategy | None = None
    """Settings for type NodePort."""
    load_balancer: LoadBalancerPublishingStrategy | None = None
    """Settings for type LoadBalancer."""
    route: RoutePublishingStrategy | None = None
    """Settings for type Route."""


class ServicePublishingStrategyMapping(KubeModel):
    """How one control-plane service is published."""

    service: ServiceType
    """The service being published."""
    service_publishing_strategy: ServicePublishingStrategy
    """How it is published."""
