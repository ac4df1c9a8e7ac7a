"""kwok: the simulated kubelets of the KWOK platform, one Deployment per hosted control plane.

It runs only when the cluster's platform is KWOK. NodePools of that platform
create Nodes in the hosted cluster (hcp.platforms.kwok); kwok, talking to the
hosted API with its kubeconfig Secret, makes them Ready and keeps them so, and
runs the pods the hosted scheduler binds to them. Pod IPs come from the first
cluster network.
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.platform import PlatformType
from hcp.api.validation import pool_platforms_served
from hcp.controlplane.components.component import (
    adapt_pod,
    container,
    load,
    set_config_hash,
)
from hcp.controlplane.components.sizing import default_requests
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext

NAME = "kwok"


def enabled(ctx: RenderContext) -> bool:
    """Only clusters whose NodePools are KWOK's have simulated kubelets to run."""
    return PlatformType.KWOK in pool_platforms_served(ctx.hcp.spec.platform.type)


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    if not enabled(ctx):
        return []
    templates = load(__package__, "kwok.yaml")
    config = templates["ConfigMap/kwok"]
    deployment = templates["Deployment/kwok"]
    pod = deployment["spec"]["template"]
    adapt_pod(ctx, pod, component=NAME, replicas=1)
    set_config_hash(ctx, pod, config["data"])  # also rolls the pod when a certificate it reads at start is renewed
    main = container(pod["spec"], NAME)
    main["image"] = ctx.image(NAME)
    main["resources"] = default_requests(NAME, NAME)
    main["args"].append(f"--cidr={ctx.cluster_cidrs[0]}")
    return [config, deployment]


COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("kube-apiserver",),
                      starts_after_dependencies=True, enabled=enabled)
