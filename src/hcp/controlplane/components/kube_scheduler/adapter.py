"""kube-scheduler: a Deployment of 1 or 2 replicas (leader election when 2), using its kubeconfig Secret."""

from __future__ import annotations

from typing import Any

from hcp.controlplane.components.component import (
    adapt_pod,
    container,
    feature_gates,
    leader_election,
    load,
    requests,
)
from hcp.controlplane.context import RenderContext

NAME = "kube-scheduler"
HA_REPLICAS = 2


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    templates = load(__package__, "kube-scheduler.yaml")
    deployment = templates["Deployment/kube-scheduler"]
    replicas = ctx.replicas(HA_REPLICAS)
    deployment["spec"]["replicas"] = replicas
    # Without leader election two schedulers must never overlap.
    surge = 1 if replicas > 1 else 0
    rolling_update = {"maxSurge": surge, "maxUnavailable": 1}
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling_update}
    pod = deployment["spec"]["template"]
    # No priorityClassName: HyperShift's hypershift-control-plane PriorityClass does not exist on
    # a generic management cluster.
    adapt_pod(ctx, pod, component=NAME, replicas=replicas)
    main = container(pod["spec"], NAME)
    main["image"] = ctx.image(NAME)
    main["resources"] = requests("20m", "50Mi")
    main["args"] += [*leader_election(replicas), *feature_gates(ctx)]
    return [deployment]
