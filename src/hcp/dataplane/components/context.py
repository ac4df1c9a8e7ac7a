"""What the hosted cluster's own components are rendered from: one hosted control plane and its published endpoints.

The data-plane controller keeps a set of components inside every hosted
cluster (HyperShift's hosted-cluster-config-operator role): the CNI,
kube-proxy, CoreDNS, the konnectivity agent, metrics-server. Each is a module
of this package with `NAME` and `render(ctx) -> list[dict]`: the objects to
apply in the hosted cluster, computed from a `HostedContext` alone, so every
component is rendered and tested without a cluster. A component that renders
nothing for a context (e.g. the CNI with networkType Other) has whatever it
applied before removed by the controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.context import Endpoint, cluster_dns_ip

CLUSTER_DOMAIN = "cluster.local"
COMPONENT_LABEL = "hcp.io/hosted-component"
"""On every object a hosted component applies (value: the component's NAME); how its leftovers are found."""


@dataclass(frozen=True)
class HostedContext:
    """The desired state of a hosted cluster's own components."""

    images: Mapping[str, str]
    """Release component name -> image pull spec, from the release payload (e.g. "coredns", "kube-proxy")."""
    kubernetes_version: str
    """Kubernetes version of the control plane's release, e.g. "1.37.1"."""
    cluster_cidrs: tuple[str, ...]
    """Pod networks (spec.networking.clusterNetwork)."""
    service_cidrs: tuple[str, ...]
    """Service networks (spec.networking.serviceNetwork)."""
    network_type: NetworkType
    """spec.networking.networkType: which CNI hcp deploys, if any."""
    api_server: Endpoint
    """The hosted API server as nodes reach it (its published endpoint)."""
    konnectivity: Endpoint | None = None
    """The konnectivity server as agents on nodes reach it (spec.services Konnectivity), once published."""
    secrets: Mapping[str, Mapping[str, bytes]] = field(default_factory=lambda: MappingProxyType({}))
    """Management-side material a component copies into the hosted cluster, by name (e.g. the
    konnectivity agent's client certificate): name -> data key -> bytes."""
    cluster_domain: str = CLUSTER_DOMAIN
    kubelet_serving_ca: bytes | None = None
    """PEM bundle that verifies the kubelets' serving certificates (those kube-controller-manager signs
    with its --cluster-signing-* CA), for metrics-server to scrape kubelets with verified TLS; unset, no
    metrics-server is rendered."""

    @property
    def dns_service_ip(self) -> str:
        """The cluster DNS Service's ClusterIP: in the first service network."""
        return cluster_dns_ip(self.service_cidrs[0])

    def image(self, component: str) -> str:
        try:
            return self.images[component]
        except KeyError:
            raise KeyError(f"the release has no image for {component} "
                           f"(it has: {', '.join(sorted(self.images)) or 'none'})") from None
