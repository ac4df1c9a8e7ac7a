"""Everything the control-plane renderers read: one HostedControlPlane and the facts observed around it.

A `RenderContext` is built by the HostedControlPlane controller on every pass
(release images resolved from the payload, the published API endpoint, the
encryption keys read from their Secrets) and handed to pure render functions.
Nothing here talks to a cluster.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hcp.api import HostedControlPlane
from hcp.api.names import RESTART_DATE_ANNOTATION
from hcp.api.v1beta1.common import AvailabilityPolicy
from hcp.api.v1beta1.networking import ClusterNetworking
from hcp.ignition.join import RegistryMirror


DEFAULT_ISSUER_URL = "https://kubernetes.default.svc"
"""Service-account token issuer when spec.issuerURL is empty (HyperShift's default)."""

HOSTED_COMPONENT_IMAGES = ("coredns", "kube-proxy", "flannel", "metrics-server", "konnectivity-agent")
"""Images of the components that run inside the hosted cluster (hcp.dataplane.components)."""
COMPONENT_IMAGES = (
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "konnectivity-server",
    "kubelet", "pause", *HOSTED_COMPONENT_IMAGES,
)
"""The keys of `RenderContext.images`: one pull spec per component the control plane renders or names."""


class RenderError(ValueError):
    """The HostedControlPlane asks for something that cannot be rendered (the message says what)."""


@dataclass(frozen=True)
class Endpoint:
    """Where clients outside the management cluster reach a published service (the API server, konnectivity)."""

    host: str
    port: int

    @property
    def host_is_ip(self) -> bool:
        return is_ip(self.host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and self.host_is_ip else self.host
        return f"https://{host}:{self.port}"


@dataclass(frozen=True)
class RenderContext:
    """The desired state of one hosted control plane, with what the renderers need to know about its world."""

    namespace: str
    """The control-plane namespace every object is rendered into."""
    hcp: HostedControlPlane
    """The HostedControlPlane being rendered."""
    images: Mapping[str, str]
    """Component name (see COMPONENT_IMAGES) -> image pull spec, from the release payload."""
    kubernetes_version: str
    """Kubernetes version of the release, e.g. "1.37.1" (for version-dependent settings)."""
    api_endpoint: Endpoint
    """The API server's published endpoint (host, port)."""
    konnectivity_endpoint: Endpoint | None = None
    """Where agents on the nodes reach the konnectivity server (spec.services Konnectivity); None until
    published (a LoadBalancer without ingress yet). Nothing on the control-plane side needs it to run:
    it is for what tells nodes where to dial."""
    ignition_endpoint: Endpoint | None = None
    """Where machines reach the ignition server (spec.services Ignition); None until published."""
    operator_image: str = ""
    """hcp's own image (the operator's), which runs hcp's control-plane services such as the ignition
    server; empty when the operator does not know it (run outside its Deployment)."""
    registry_mirrors: tuple[RegistryMirror, ...] = ()
    """How nodes pull the release's images: registry names in pull specs -> where nodes reach them."""
    image_pull_secret: str = ""
    """The Secret (in the control-plane namespace) every control-plane pod pulls its images with; empty:
    the registry needs no login."""
    restart_date: str | None = None
    """Value of the hypershift.openshift.io/restart-date annotation, if any."""
    encryption_keys: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))
    """Secret name -> the bytes under its data key `key`, for the aescbc keys spec.secretEncryption names."""
    audit_webhook_kubeconfig: bytes | None = None
    """The kubeconfig (key webhook-kubeconfig) of the Secret spec.auditWebhook names, as copied into the
    control-plane namespace; None when unset or not found."""
    oidc_ca_bundles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """ConfigMap name -> its ca-bundle.crt, for the issuer CAs spec.configuration.authentication's OIDC providers
    name, as copied into the control-plane namespace; a name missing: not found there."""
    certificates: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    """PKI Secret name -> data key -> digest of the value (hcp.controlplane.pki.fingerprints): a pod's
    config hash covers what it mounts of them, so a renewed certificate rolls the pods that read it
    once. Empty: not known (the hash is then that of the configuration alone)."""
    client_ca_bundle: str = ""
    """The API server's client CA bundle (hcp.controlplane.pki.client_ca_bundle); empty when not known (a render
    without the PKI, e.g. `--render`)."""

    @classmethod
    def for_hcp(
        cls,
        hcp: HostedControlPlane,
        *,
        images: Mapping[str, str],
        kubernetes_version: str,
        api_endpoint: Endpoint | tuple[str, int],
        encryption_keys: Mapping[str, bytes] | None = None,
        konnectivity_endpoint: Endpoint | None = None,
        ignition_endpoint: Endpoint | None = None,
        operator_image: str = "",
        registry_mirrors: tuple[RegistryMirror, ...] = (),
        image_pull_secret: str = "",
        certificates: Mapping[str, Mapping[str, str]] | None = None,
        audit_webhook_kubeconfig: bytes | None = None,
        client_ca_bundle: str = "",
        oidc_ca_bundles: Mapping[str, str] | None = None,
    ) -> RenderContext:
        """A context whose namespace and restart date are read from the HostedControlPlane itself."""
        if not hcp.metadata.namespace:
            raise RenderError("the HostedControlPlane has no namespace")
        endpoint = api_endpoint if isinstance(api_endpoint, Endpoint) else Endpoint(*api_endpoint)
        return cls(
            namespace=hcp.metadata.namespace,
            hcp=hcp,
            images=images,
            kubernetes_version=kubernetes_version,
            api_endpoint=endpoint,
            konnectivity_endpoint=konnectivity_endpoint,
            ignition_endpoint=ignition_endpoint,
            operator_image=operator_image,
            registry_mirrors=registry_mirrors,
            image_pull_secret=image_pull_secret,
            restart_date=(hcp.metadata.annotations or {}).get(RESTART_DATE_ANNOTATION),
            encryption_keys=encryption_keys or {},
            certificates=certificates or {},
            audit_webhook_kubeconfig=audit_webhook_kubeconfig,
            client_ca_bundle=client_ca_bundle,
            oidc_ca_bundles=oidc_ca_bundles or {},
        )

    def image(self, component: str) -> str:
        try:
            return self.images[component]
        except KeyError:
            raise RenderError(
                f"the release has no image for {component} (it has: {', '.join(sorted(self.images)) or 'none'})"
            ) from None

    @property
    def highly_available(self) -> bool:
        return self.hcp.spec.controller_availability_policy == AvailabilityPolicy.HIGHLY_AVAILABLE

    def replicas(self, highly_available: int) -> int:
        """1 for SingleReplica, `highly_available` for HighlyAvailable."""
        return highly_available if self.highly_available else 1

    @property
    def networking(self) -> ClusterNetworking:
        return networking(self.hcp)

    @property
    def service_cidrs(self) -> list[str]:
        return service_cidrs(self.hcp)

    @property
    def cluster_cidrs(self) -> list[str]:
        return [entry.cidr for entry in self.networking.cluster_network]

    @property
    def issuer_url(self) -> str:
        return self.hcp.spec.issuer_url or DEFAULT_ISSUER_URL


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def networking(hcp: HostedControlPlane) -> ClusterNetworking:
    """spec.networking, or HyperShift's defaults (10.132.0.0/14 pods, 172.31.0.0/16 services) when unset."""
    return hcp.spec.networking or ClusterNetworking()


def service_cidrs(hcp: HostedControlPlane) -> list[str]:
    return [entry.cidr for entry in networking(hcp).service_network]


def first_service_ips(hcp: HostedControlPlane) -> list[str]:
    """The `kubernetes` Service's ClusterIP in each service network: its first usable address."""
    return [str(ipaddress.ip_network(cidr, strict=False).network_address + 1) for cidr in service_cidrs(hcp)]


def cluster_dns_ip(service_cidr: str) -> str:
    """The cluster DNS Service's ClusterIP in a service network: its tenth address (kubeadm's)."""
    return str(ipaddress.ip_network(service_cidr, strict=False).network_address + 10)


def dns_service_ip(hcp: HostedControlPlane) -> str:
    """The cluster DNS Service's ClusterIP: in the first service network."""
    return cluster_dns_ip(service_cidrs(hcp)[0])
