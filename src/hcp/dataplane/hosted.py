"""What the data-plane controller decides about a hosted cluster's own components, without talking to a cluster.

On every pass the controller (hcp.dataplane.controller) reads the world and
calls these pure functions to decide what to do; they are tested without a
cluster:

- `hosted_context`: the HostedContext the components render from, out of the
  HostedControlPlane's spec, ConfigMap hosted-cluster-config
  (hcp.dataplane.components.config) and the control plane's Secrets;
- `render_components`: every component's objects, stamped with
  COMPONENT_LABEL and hcp's managed-by label, Namespaces first; a component
  that cannot be rendered is reported and left as it is in the cluster;
- `apply_due`: whether an object is applied again this pass (it changed,
  disappeared, or was last applied a resync ago), so that an unchanged
  object is not sent on every pass;
- `leftovers`: the labelled objects in the cluster that no component renders
  any more (flannel after networkType changes to Other), in deletion order;
- `rolled_out` / `not_rolled_out`: which rendered DaemonSets and Deployments
  are not rolled out yet;
- `kubernetes_endpoints`: Endpoints and EndpointSlice `default/kubernetes`,
  which the hosted API server does not keep (it runs with
  --endpoint-reconciler-type=none: its pods are not where clients reach it),
  pointing at its published endpoint instead.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any

from hcp.api import HostedControlPlane
from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.context import networking, service_cidrs
from hcp.controlplane.labels import MANAGED_BY, MANAGED_BY_LABEL
from hcp.controlplane.pki import CA_CERT_KEY, KAS_SERVER_CRT, KONNECTIVITY_AGENT, METRICS_SERVER_CRT
from hcp.dataplane.components import COMPONENTS, konnectivity_agent, metrics_server
from hcp.dataplane.components.config import HostedClusterConfig
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext
from hcp.kube.leftovers import LiveObject, ObjectKey, describe, object_key
from hcp.kube.leftovers import leftovers as kube_leftovers

# The hosted context.

SECRETS: Mapping[str, str] = MappingProxyType({
    konnectivity_agent.SECRET: KONNECTIVITY_AGENT,
    metrics_server.SECRET: METRICS_SERVER_CRT,
})
"""HostedContext.secrets name -> the control-plane Secret it is read from."""
KUBELET_SERVING_CA = (KAS_SERVER_CRT, CA_CERT_KEY)
"""Secret and key of the root CA certificate: kube-controller-manager signs kubelet serving certificates with
the root CA (its cluster signer), and the API server's serving certificate carries that CA beside it. Read
from there rather than from Secret root-ca, which holds the CA's key too."""
MANAGEMENT_SECRETS: tuple[str, ...] = tuple(dict.fromkeys([*SECRETS.values(), KUBELET_SERVING_CA[0]]))
"""Every control-plane Secret a pass reads."""

UNSUPPORTED_NETWORK_TYPES = frozenset({NetworkType.OPENSHIFT_SDN, NetworkType.CALICO, NetworkType.OVN_KUBERNETES})
"""HyperShift's CNIs, accepted in the API but not deployable by hcp: such a cluster gets no CNI from hcp."""


def decode_secret(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """A Secret's `data` (base64, as the API returns it) decoded; a value that is not base64 is left out."""
    decoded = {}
    for key, value in (data or {}).items():
        try:
            decoded[key] = base64.b64decode(value or "", validate=True)
        except ValueError:
            continue
    return decoded


def hosted_context(hcp: HostedControlPlane, config: HostedClusterConfig,
                   secrets: Mapping[str, Mapping[str, bytes]]) -> HostedContext:
    """The context the components render from.

    `secrets` holds the control-plane Secrets that exist (name -> decoded data,
    see MANAGEMENT_SECRETS); a missing one is simply absent from the context,
    and the component that needs it says so when rendered, or renders nothing.
    """
    net = networking(hcp)
    kubelet_ca = (secrets.get(KUBELET_SERVING_CA[0]) or {}).get(KUBELET_SERVING_CA[1]) or None
    return HostedContext(
        images=MappingProxyType(dict(config.images)),
        kubernetes_version=config.kubernetes_version,
        cluster_cidrs=tuple(entry.cidr for entry in net.cluster_network),
        service_cidrs=tuple(service_cidrs(hcp)),
        network_type=net.network_type,
        api_server=config.api_server,
        konnectivity=config.konnectivity,
        secrets=MappingProxyType({name: MappingProxyType(dict(secrets[source]))
                                  for name, source in SECRETS.items() if source in secrets}),
        kubelet_serving_ca=kubelet_ca,
    )


def network_type_problem(network_type: NetworkType) -> str | None:
    """What a user should know about a networkType hcp cannot deploy; None for Flannel and Other."""
    if network_type not in UNSUPPORTED_NETWORK_TYPES:
        return None
    return (f"networkType {network_type.value} is HyperShift's; hcp cannot deploy that CNI and deploys none "
            f"(only kube-proxy and CoreDNS): nodes stay NotReady until a CNI is installed in the hosted "
            f"cluster. Use {NetworkType.FLANNEL.value} for hcp's, or {NetworkType.OTHER.value} to bring your own.")


# Objects.

KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Namespace"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("apiregistration.k8s.io/v1", "APIService"),
)
"""(apiVersion, kind) of everything a component may render (a test holds every component to it): the kinds
listed for leftovers. Deleted in reverse order: the APIService before the Service it names, workloads before
their configuration and RBAC, Namespaces last."""
WORKLOAD_KINDS = ("DaemonSet", "Deployment")
"""Kinds whose rollout is waited for."""
RECREATE_KINDS = frozenset({"ClusterRoleBinding", "RoleBinding", "EndpointSlice"})
"""Kinds whose apply the API server refuses (422) when an immutable field changes (roleRef, addressType):
deleted and applied anew, as the RBAC of hcp.dataplane.rbac is. Not workloads: a 422 there may be a spec
the server refuses, and deleting kube-proxy or CoreDNS for it would take the cluster's network down."""
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Never deleted as leftovers, whatever labels they carry."""
LEFTOVER_SELECTOR_LABELS = {MANAGED_BY_LABEL: MANAGED_BY}
"""With COMPONENT_LABEL (any value): what a live object must carry to be looked at as a leftover, so that a
user's object that merely reuses COMPONENT_LABEL is never deleted."""

def stamp(obj: Mapping[str, Any], component: str) -> dict[str, Any]:
    """A copy of `obj` labelled as `component`'s and hcp's (the rendered object is left as it is)."""
    stamped = copy.deepcopy(dict(obj))
    metadata = stamped.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), COMPONENT_LABEL: component,
                          MANAGED_BY_LABEL: MANAGED_BY}
    return stamped


@dataclass(frozen=True)
class Rendered:
    """Every component's objects for one context."""

    objects: tuple[tuple[str, dict[str, Any]], ...] = ()
    """(component NAME, stamped object), in apply order: Namespaces first, then component by component."""
    failed: Mapping[str, str] = field(default_factory=dict)
    """Component NAME -> why it could not be rendered (a Secret or image missing): it is neither applied
    nor cleaned up this pass."""

    @property
    def keys(self) -> frozenset[ObjectKey]:
        return frozenset(object_key(obj) for _, obj in self.objects)

    def by_component(self) -> dict[str, list[dict[str, Any]]]:
        """Component NAME -> its objects in apply order (every rendered component, even with none)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for component, obj in self.objects:
            grouped.setdefault(component, []).append(obj)
        return grouped


def render_components(ctx: HostedContext, components: Sequence[ModuleType] = COMPONENTS) -> Rendered:
    """Render every component; one that raises (KeyError, ValueError: something it needs is missing) fails
    alone."""
    namespaces: list[tuple[str, dict[str, Any]]] = []
    rest: list[tuple[str, dict[str, Any]]] = []
    failed: dict[str, str] = {}
    seen: dict[ObjectKey, str] = {}
    for component in components:
        try:
            objects = [stamp(obj, component.NAME) for obj in component.render(ctx)]
            taken = [key for key in map(object_key, objects) if key in seen]
            if taken:
                raise ValueError(f"{describe(taken[0])} is rendered by {seen[taken[0]]} already")
        except (KeyError, ValueError) as error:
            failed[component.NAME] = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            continue
        for obj in objects:
            seen[object_key(obj)] = component.NAME
            (namespaces if obj["kind"] == "Namespace" else rest).append((component.NAME, obj))
    return Rendered(tuple(namespaces + rest), MappingProxyType(failed))


def digest(obj: Mapping[str, Any]) -> str:
    """A stable hash of a desired object, to tell whether it changed since it was last applied."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    """The last successful apply of one object."""

    digest: str
    at: float
    """time.monotonic() of the apply."""


def apply_due(desired_digest: str, last: Applied | None, now: float, *, present: bool, resync: float) -> bool:
    """Whether to apply an object this pass: never applied (by this process), changed, missing from the
    cluster (`present` False: deleted behind hcp's back), or last applied `resync` seconds ago or more
    (changes the listing cannot see, e.g. a field edited by hand)."""
    return last is None or not present or last.digest != desired_digest or now - last.at >= resync


def leftovers(desired: Collection[ObjectKey], live: Iterable[LiveObject],
              failed: Collection[str] = ()) -> list[LiveObject]:
    """The live objects (carrying COMPONENT_LABEL and hcp's managed-by label) to delete, in deletion order:
    no component renders them any more (hcp.kube.leftovers); protected namespaces are never deleted."""
    return kube_leftovers(desired, live, failed, kinds=[kind for _, kind in KINDS],
                          protected=lambda key: key[0] == "Namespace" and key[2] in PROTECTED_NAMESPACES)


def rolled_out(workload: Mapping[str, Any] | None) -> bool:
    """A DaemonSet or Deployment (a dict as the API returns it) whose every pod runs its latest spec and is
    available; a DaemonSet with no node to run on counts as rolled out (as `kubectl rollout status` says)."""
    if workload is None:
        return False
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    generation = (workload.get("metadata") or {}).get("generation") or 0
    if (status.get("observedGeneration") or 0) < generation:
        return False
    if workload.get("kind") == "DaemonSet":
        desired = status.get("desiredNumberScheduled") or 0
        return ((status.get("updatedNumberScheduled") or 0) >= desired
                and (status.get("numberAvailable") or 0) >= desired)
    wanted = spec["replicas"] if spec.get("replicas") is not None else 1
    return ((status.get("updatedReplicas") or 0) >= wanted and (status.get("availableReplicas") or 0) >= wanted
            and (status.get("replicas") or 0) == wanted)


def not_rolled_out(desired: Iterable[ObjectKey], observed: Mapping[ObjectKey, Mapping[str, Any]]) -> list[str]:
    """The rendered workloads (of `desired`) that are not rolled out, as "Kind namespace/name", sorted."""
    return sorted(describe(key) for key in desired
                  if key[0] in WORKLOAD_KINDS and not rolled_out(observed.get(key)))


# The kubernetes Service's endpoints.

KUBERNETES_SERVICE = "kubernetes"
KUBERNETES_NAMESPACE = "default"
KUBERNETES_PORT_NAME = "https"
"""The port name of the `kubernetes` Service, which its endpoints must match."""
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
ENDPOINT_SLICE_MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"


class EndpointError(ValueError):
    """The published API endpoint gives no address the `kubernetes` Service can point at."""


def service_addresses(host: str, resolved: Iterable[str], cidrs: Sequence[str]) -> list[str]:
    """The addresses of `host` for the `kubernetes` Service: those of the family of its ClusterIP (the first
    service network's, as the API server gives it), deduplicated and sorted so a DNS answer in another order
    changes nothing. `resolved` is what `host` resolves to (itself if it is an IP). Loopback, link-local,
    multicast and unspecified addresses are left out: the API refuses them in endpoints, and from a pod
    they would not reach the API server anyway."""
    family = ipaddress.ip_network(cidrs[0], strict=False).version if cidrs else 4
    addresses, others = set(), set()
    for value in resolved:
        try:
            address = ipaddress.ip_address(value.partition("%")[0])  # an IPv6 scope is not an endpoint's
        except ValueError:
            continue
        unusable = address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified
        (others if unusable or address.version != family else addresses).add(address)
    if not addresses:
        found = f"it resolves to {', '.join(map(str, sorted(others, key=lambda a: (a.version, a))))} only" \
            if others else "it has no address"
        raise EndpointError(f"the published API endpoint {host} has no IPv{family} address pods can reach for the "
                            f"kubernetes Service (whose service network is IPv{family}): {found}")
    return [str(address) for address in sorted(addresses)]


def kubernetes_endpoints(addresses: Sequence[str], port: int) -> list[dict[str, Any]]:
    """Endpoints and EndpointSlice `default/kubernetes` at `addresses` (one family) and `port`.

    As the API server's own endpoint reconciler writes them: the Endpoints
    marked skip-mirror (the EndpointSliceMirroring controller leaves it alone),
    and the EndpointSlice written directly, named like the Service with only
    the service-name label, of addressType IPv6 when every address is. Both
    also say hcp manages them (the slice with hcp as its managed-by, so no
    EndpointSlice controller takes it for its own).
    """
    if not addresses:
        raise EndpointError("the kubernetes Service needs at least one address")
    ipv6 = all(ipaddress.ip_address(address).version == 6 for address in addresses)
    ports = [{"name": KUBERNETES_PORT_NAME, "port": port, "protocol": "TCP"}]
    metadata = {"name": KUBERNETES_SERVICE, "namespace": KUBERNETES_NAMESPACE}
    return [
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {**metadata, "labels": {SKIP_MIRROR_LABEL: "true", MANAGED_BY_LABEL: MANAGED_BY}},
            "subsets": [{"addresses": [{"ip": address} for address in addresses], "ports": ports}],
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {**metadata, "labels": {SERVICE_NAME_LABEL: KUBERNETES_SERVICE,
                                                ENDPOINT_SLICE_MANAGED_BY_LABEL: MANAGED_BY,
                                                MANAGED_BY_LABEL: MANAGED_BY}},
            "addressType": "IPv6" if ipv6 else "IPv4",
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}} for address in addresses],
            "ports": ports,
        },
    ]


# What the controller remembers between passes.

BACKOFF_BASE = 5.0
BACKOFF_MAX = 300.0


def backoff(failures: int) -> float:
    """Seconds before the next pass after `failures` passes in a row that failed somewhere (at least 1)."""
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, failures - 1))


@dataclass
class ClusterState:
    """What the data-plane controller keeps in memory about one hosted cluster's components.

    Only to save work and noise (re-applies, repeated events); losing it (a
    restart, a new leader) costs one apply of every object and one event each.
    """

    uid: str | None
    """The HostedControlPlane's uid: a recreated one starts afresh."""
    access: object | None = None
    """The DataPlaneAccess the hashes were applied through: a new one (a new kubeconfig) starts afresh."""
    applied: dict[ObjectKey, Applied] = field(default_factory=dict)
    network_type: NetworkType | None = None
    """The networkType last reported about."""
    unavailable: tuple[str, ...] | None = None
    """The workloads last reported as not rolled out (() once all were); None before the first report."""
    failures: int = 0
    """Passes in a row that failed somewhere, for the backoff."""
