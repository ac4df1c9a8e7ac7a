"""kube-scheduler: a Deployment of 1 or 2 replicas (leader election when 2), using its kubeconfig Secret."""

from __future__ import annotations

from typing import Any

from hcp.controlplane.components.component import leader_elected_deployment, load
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext

NAME = "kube-scheduler"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    deployment, _ = leader_elected_deployment(ctx, __package__, NAME)
    return [load(__package__, f"{NAME}.yaml")[f"Service/{NAME}"], deployment]


COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("kube-apiserver",))
