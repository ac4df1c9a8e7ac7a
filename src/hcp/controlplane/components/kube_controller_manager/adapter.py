"""kube-controller-manager: a Deployment of 1 or 2 replicas (leader election when 2).

It reaches the API server through the Service with its kubeconfig Secret,
signs node CSRs with the root CA, and gets the pod and Service networks of
spec.networking (HyperShift's defaults when unset).
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.networking import AllocateNodeCIDRsMode
from hcp.controlplane.components.component import (
    adapt_pod,
    container,
    feature_gates,
    leader_election,
    load,
    requests,
)
from hcp.controlplane.context import RenderContext

NAME = "kube-controller-manager"
HA_REPLICAS = 2


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    templates = load(__package__, "kube-controller-manager.yaml")
    deployment = templates["Deployment/kube-controller-manager"]
    replicas = ctx.replicas(HA_REPLICAS)
    deployment["spec"]["replicas"] = replicas
    # Without leader election two controller managers must never overlap.
    surge = 1 if replicas > 1 else 0
    rolling_update = {"maxSurge": surge, "maxUnavailable": 1}
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling_update}
    pod = deployment["spec"]["template"]
    # No priorityClassName: HyperShift's hypershift-control-plane PriorityClass does not exist on
    # a generic management cluster.
    adapt_pod(ctx, pod, component=NAME, replicas=replicas)
    main = container(pod["spec"], NAME)
    main["image"] = ctx.image(NAME)
    main["resources"] = requests("50m", "100Mi")

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
    main["args"] += [*leader_election(replicas), *feature_gates(ctx)]
    return [deployment]
