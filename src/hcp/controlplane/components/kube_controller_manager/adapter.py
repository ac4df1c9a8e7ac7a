"""kube-controller-manager: a Deployment of 1 or 2 replicas (leader election when 2).

It reaches the API server through the Service with its kubeconfig Secret,
signs node CSRs (client and kubelet-serving) with the root CA, runs the
bootstrap-token controllers besides the defaults (tokencleaner,
bootstrapsigner), and gets the pod and Service networks of spec.networking
(HyperShift's defaults when unset). Its csrapproving controller approves node
client certificates, for bootstrap tokens and renewals, as the node-bootstrap
RBAC that hcp.dataplane keeps in the hosted cluster allows.
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.networking import AllocateNodeCIDRsMode
from hcp.controlplane.components.component import leader_elected_deployment
from hcp.controlplane.context import RenderContext

NAME = "kube-controller-manager"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    deployment, main = leader_elected_deployment(ctx, __package__, NAME, cpu="50m", memory="100Mi")
    networking = ctx.networking
    main["args"] += [
        f"--cluster-cidr={','.join(ctx.cluster_cidrs)}",
        f"--service-cluster-ip-range={','.join(ctx.service_cidrs)}",
    ]
    if networking.allocate_node_cidrs == AllocateNodeCIDRsMode.ENABLED:
        main["args"].append("--allocate-node-cidrs=true")
        host_prefix = networking.cluster_network[0].host_prefix
        if host_prefix and len(networking.cluster_network) == 1:
            main["args"].append(f"--node-cidr-mask-size={host_prefix}")
    else:
        main["args"].append("--allocate-node-cidrs=false")
    return [deployment]
