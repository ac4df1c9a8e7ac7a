"""Networking of a hosted cluster and how its control-plane services are published."""

import ipaddress
import itertools
import re
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Address, IPv6Network
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.formats import pattern_check
from hcp.api.markers import Checked, Rule, immutable, kube_schema
from hcp.api.types import Int32


def IMMUTABLE_ONCE_SET(field: str) -> Rule:  # noqa: N802 - reads as the marker it stands for
    """HyperShift's wording for the networks that cannot change after creation (word for word, with its period)."""
    return Rule("self == oldSelf", f"{field} is immutable and cannot be modified once set.")

# HyperShift checks the shape with regular expressions (which admit 999.1.1.1/99); the CIDR library of
# Kubernetes' CEL parses the network, as the components that are given it do. Its message is HyperShift's.
_CIDR_RULE = Rule(
    "isCIDR(self)",
    "cidr must be a valid IPv4 or IPv6 CIDR notation (e.g., 192.168.1.0/24 or 2001:db8::/64)",
)
_CIDR_SYNTAX = re.compile(r"[0-9A-Fa-f.:]+/(0|[1-9][0-9]{0,2})")
_HOSTNAME = pattern_check(
    "hostname must be a valid domain name (e.g., example.com)", r"^(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$"
)
_ADDRESS = pattern_check(
    "address must be a valid hostname, IPv4, or IPv6 address",
    r"^(([a-zA-Z0-9][-a-zA-Z0-9]*\.)+[a-zA-Z]{2,}|localhost)$",
    r"^((\d{1,3}\.){3}\d{1,3})$",
    r"^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|"
    r"([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|"
    r"([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|"
    r"([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|"
    r":((:[0-9a-fA-F]{1,4}){1,7}|:))$",
)
SERVICES_REQUIRED = Rule(
    "size(self.services) >= 4",
    "spec.services in body should have at least 4 items or 3 for IBMCloud",
)
"""HyperShift's rule without its IBMCloud branch (hcp has no IBMCloud platform: the type is refused), and its
message word for word, so that a refusal reads the same on both."""


def parse_cidr(value: str) -> IPv4Network | IPv6Network:
    """The network of a CIDR the way CEL's cidr() reads it: address/bits, host bits allowed (10.0.0.1/8).

    Like Go's netip.ParsePrefix (which CEL uses) and unlike ipaddress alone, it refuses
    a bare address, a netmask, a zone and an IPv4-mapped IPv6 address.
    """
    if not _CIDR_SYNTAX.fullmatch(value):
        raise ValueError(f"{value!r} is not address/prefix-length")
    address = ipaddress.ip_address(value.partition("/")[0])
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address {value!r} is not allowed")
    return ipaddress.ip_network(value, strict=False)


def is_cidr(value: str) -> bool:
    """CEL's isCIDR."""
    try:
        parse_cidr(value)
    except ValueError:
        return False
    return True


CIDR = Annotated[str, Field(max_length=43), Checked(_CIDR_RULE, is_cidr)]
"""An IPv4 or IPv6 network in CIDR notation."""


def _disjoint_cel(a: str, b: str) -> str:
    """CEL: CIDRs a and b share no address. Two networks overlap exactly when one contains the other.
    An invalid CIDR is left to its own field's rule, so that it is reported once."""
    return (
        f"!isCIDR({a}) || !isCIDR({b}) || "
        f"(!cidr({a}).containsCIDR(cidr({b})) && !cidr({b}).containsCIDR(cidr({a})))"
    )


NETWORKS_DISJOINT = Rule(
    "self.clusterNetwork.all(c, self.serviceNetwork.all(s, " + _disjoint_cel("c.cidr", "s.cidr") + ")) && "
    "(!has(self.machineNetwork) || self.machineNetwork.all(m, "
    "self.clusterNetwork.all(c, " + _disjoint_cel("m.cidr", "c.cidr") + ") && "
    "self.serviceNetwork.all(s, " + _disjoint_cel("m.cidr", "s.cidr") + ")))",
    "CIDR ranges in machineNetwork, clusterNetwork, and serviceNetwork must be unique and non-overlapping",
)


class NetworkType(StrEnum):
    """The pod network (CNI) provider of the hosted cluster.

    The first four are HyperShift's; Flannel is hcp's own (as platform KWOK is). What hcp
    keeps in the hosted cluster for each (hcp.dataplane.components):

    - Flannel: flannel with the vxlan backend as the CNI, on the node pod CIDRs that
      kube-controller-manager allocates (always, whatever allocateNodeCIDRs says), plus
      kube-proxy and CoreDNS;
    - Other: the user brings the CNI; hcp keeps kube-proxy and CoreDNS;
    - OpenShiftSDN, Calico, OVNKubernetes: HyperShift's names, kept so that HyperShift's
      manifests are accepted; hcp cannot deploy these CNIs and deploys none (kube-proxy and
      CoreDNS only), which the hosted cluster's status reports.
    """

    OPENSHIFT_SDN = "OpenShiftSDN"
    CALICO = "Calico"
    OVN_KUBERNETES = "OVNKubernetes"
    OTHER = "Other"
    FLANNEL = "Flannel"


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


DEFAULT_API_SERVER_PORT = 6443
"""HyperShift's port of the API server inside a node when spec.networking.apiServer.port is unset, and the port
hcp's kube-apiserver listens on."""


class APIServerNetworking(KubeModel):
    """How the API server is exposed inside the hosted cluster's nodes, and who may reach it.

    In HyperShift, advertiseAddress and port are where a proxy on every node's loopback forwards to the API
    server; hcp runs no such proxy (nodes reach the published endpoint), so a set advertiseAddress and a
    port other than 6443 are reported, not honoured. allowedCIDRBlocks is reported too: HyperShift makes them
    the loadBalancerSourceRanges of a LoadBalancer publishing the API server, but hcp's operator reaches the
    hosted API server through that published endpoint (the admin kubeconfig), from the management cluster's
    pod network, which such ranges would shut out unless they name it.
    """

    advertise_address: str | None = Field(
        default=None, max_length=255, json_schema_extra=kube_schema(rules=[immutable("advertiseAddress")]))
    """Address on each node's loopback that pods use to reach the API server (HyperShift's 172.20.0.1 or fd00::1
    when unset); not honoured."""
    port: Int32 | None = Field(default=None, json_schema_extra=kube_schema(rules=[immutable("port")]))
    """Port of the API server inside a node (6443 when unset); hcp's API server listens on 6443, and another
    port is reported."""
    allowed_cidr_blocks: list[CIDR] | None = Field(
        default=None, alias="allowedCIDRBlocks", max_length=500, json_schema_extra=kube_schema(list_type="set"))
    """Networks allowed to reach the API server (all when unset); not honoured."""


ALLOCATE_NODE_CIDRS_ONLY_WITH_OTHER = Rule(
    "has(self.allocateNodeCIDRs) && self.allocateNodeCIDRs == 'Enabled' ? self.networkType == 'Other' : true",
    "allocateNodeCIDRs can only be set to Enabled when networkType is 'Other'",
)


class ClusterNetworking(KubeModel):
    """Pod, Service and machine networks of the hosted cluster; immutable once set."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                NETWORKS_DISJOINT,
                ALLOCATE_NODE_CIDRS_ONLY_WITH_OTHER,
            ]
        )
    )

    @model_validator(mode="after")
    def _check_networks(self) -> Self:
        lists = {
            "clusterNetwork": self.cluster_network,
            "serviceNetwork": self.service_network,
            "machineNetwork": self.machine_network or [],
        }
        for (name, entries), (other_name, others) in itertools.combinations(lists.items(), 2):
            for entry, other in itertools.product(entries, others):
                a, b = parse_cidr(entry.cidr), parse_cidr(other.cidr)
                if a.version == b.version and a.overlaps(b):
                    raise ValueError(f"{NETWORKS_DISJOINT.message}: {name} {entry.cidr} overlaps {other_name} "
                                     f"{other.cidr}")
        if self.allocate_node_cidrs == AllocateNodeCIDRsMode.ENABLED and self.network_type != NetworkType.OTHER:
            raise ValueError(ALLOCATE_NODE_CIDRS_ONLY_WITH_OTHER.message)
        return self

    machine_network: list[MachineNetworkEntry] | None = Field(
        default=None,
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(list_type="atomic", rules=[IMMUTABLE_ONCE_SET("machineNetwork")]),
    )
    """Networks of the machines (one, or two for dual stack)."""
    cluster_network: list[ClusterNetworkEntry] = Field(
        default=[ClusterNetworkEntry(cidr="10.132.0.0/14")],
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(rules=[IMMUTABLE_ONCE_SET("clusterNetwork")]),
    )
    """Pod networks (one, or two for dual stack)."""
    service_network: list[ServiceNetworkEntry] = Field(
        default=[ServiceNetworkEntry(cidr="172.31.0.0/16")],
        min_length=1,
        max_length=2,
        json_schema_extra=kube_schema(rules=[IMMUTABLE_ONCE_SET("serviceNetwork")]),
    )
    """Service networks (one, or two for dual stack)."""
    network_type: NetworkType = NetworkType.OVN_KUBERNETES
    """The pod network provider; hcp deploys Flannel (with node pod CIDRs allocated), with Other the user brings one."""
    api_server: APIServerNetworking | None = None
    """How the API server is exposed inside the nodes, and the networks allowed to reach it."""
    allocate_node_cidrs: AllocateNodeCIDRsMode | None = Field(
        default=None,
        alias="allocateNodeCIDRs",
        json_schema_extra=kube_schema(rules=[IMMUTABLE_ONCE_SET("allocateNodeCIDRs")]),
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

    address: Annotated[str, Field(min_length=1, max_length=253), _ADDRESS]
    """Host or IP clients use to reach the node port."""
    port: Int32 | None = Field(default=None, ge=1, le=65535)
    """Node port to use (a TCP port, 1-65535); assigned by Kubernetes when unset."""


class LoadBalancerPublishingStrategy(KubeModel):
    """Publish a service as a LoadBalancer Service."""

    hostname: Annotated[str, Field(min_length=1, max_length=253), _HOSTNAME] | None = None
    """DNS name clients use; taken from the load balancer's status when unset."""


class RoutePublishingStrategy(KubeModel):
    """Publish a service through an ingress route."""

    hostname: Annotated[str, Field(min_length=1, max_length=253), _HOSTNAME] | None = None
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
                    "only loadBalancer is required when type is LoadBalancer, and forbidden otherwise",
                ),
                Rule(
                    "self.type == 'None' ? !has(self.nodePort) && !has(self.route) && !has(self.loadBalancer) : true",
                    "None does not allowed any configuration for loadBalancer, nodePort, or route",
                ),
                Rule(
                    "self.type == 'S3' ? !has(self.nodePort) && !has(self.route) && !has(self.loadBalancer) : true",
                    "S3 does not allowed any configuration for loadBalancer, nodePort, or route",
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


SERVICES_UNIQUE = Rule(
    "self.all(s, self.exists_one(o, o.service == s.service))",
    "each service may appear in services only once",
)


def _services_unique(services: list[ServicePublishingStrategyMapping]) -> bool:
    names = [mapping.service for mapping in services]
    return len(names) == len(set(names))


# A CEL rule rather than a list-type map keyed by service: the list stays atomic, as HyperShift's is,
# so server-side apply treats it as HyperShift's clients expect, and a duplicate gets a message.
ServiceList = Annotated[list[ServicePublishingStrategyMapping], Checked(SERVICES_UNIQUE, _services_unique)]
"""How each control-plane service is published; each service at most once."""
