"""kube-controller-manager: a Deployment of 1 or 2 replicas (leader election when 2).

It reaches the API server through the Service with its kubeconfig Secret,
signs node CSRs (client and kubelet-serving) with the root CA, runs the
bootstrap-token controllers besides the defaults (tokencleaner,
bootstrapsigner), and gets the pod and Service networks of spec.networking
(HyperShift's defaults when unset). It allocates every node a pod CIDR (a
/hostPrefix slice of the pod network; /24 or /64 when unset) when
allocateNodeCIDRs is Enabled, and always with networkType Flannel, whose
subnet manager takes each node's subnet from its spec.podCIDR. Its
csrapproving controller approves node client certificates, for bootstrap
tokens and renewals, as the node-bootstrap RBAC that hcp.dataplane keeps in
the hosted cluster allows. Its serving port (metrics, health) takes
spec.configuration.apiServer.tlsSecurityProfile as --tls-min-version and
--tls-cipher-suites, as the API server does (hcp.controlplane.tls_flags; neither
flag when unset).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hcp.api.v1beta1.networking import AllocateNodeCIDRsMode, ClusterNetworking, NetworkType
from hcp.controlplane.components.component import leader_elected_deployment, load
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext
from hcp.controlplane.tls_flags import kubernetes_tls_args, tls_security_profile

NAME = "kube-controller-manager"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    deployment, main = leader_elected_deployment(ctx, __package__, NAME)
    networking = ctx.networking
    main["args"] += [
        f"--cluster-cidr={','.join(ctx.cluster_cidrs)}",
        f"--service-cluster-ip-range={','.join(ctx.service_cidrs)}",
    ]
    if allocates_node_cidrs(networking):
        main["args"].append("--allocate-node-cidrs=true")
        main["args"] += _node_cidr_mask_flags(networking)
    else:
        main["args"].append("--allocate-node-cidrs=false")
    main["args"] += kubernetes_tls_args(tls_security_profile(ctx))
    return [load(__package__, f"{NAME}.yaml")[f"Service/{NAME}"], deployment]


def allocates_node_cidrs(networking: ClusterNetworking) -> bool:
    """Whether nodes get spec.podCIDRs: asked for (allocateNodeCIDRs), or needed by the CNI hcp deploys."""
    return (networking.allocate_node_cidrs == AllocateNodeCIDRsMode.ENABLED
            or networking.network_type == NetworkType.FLANNEL)


def _node_cidr_mask_flags(networking: ClusterNetworking) -> list[str]:
    """The per-node block size from hostPrefix: one flag for one network, one per family for dual stack."""
    entries = networking.cluster_network
    if len(entries) == 1:
        return [f"--node-cidr-mask-size={entries[0].host_prefix}"] if entries[0].host_prefix else []
    return [
        f"--node-cidr-mask-size-ipv{ipaddress.ip_network(entry.cidr, strict=False).version}={entry.host_prefix}"
        for entry in entries if entry.host_prefix
    ]


COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("kube-apiserver",))
