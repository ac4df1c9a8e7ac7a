"""kube-scheduler: a Deployment of 1 or 2 replicas (leader election when 2), using its kubeconfig Secret.

Its serving port (metrics, health) takes spec.configuration.apiServer.tlsSecurityProfile as
--tls-min-version and --tls-cipher-suites, as the API server does (hcp.controlplane.tls_flags;
neither flag when unset).
"""

from __future__ import annotations

from typing import Any

from hcp.controlplane.components.component import leader_elected_deployment, load
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext
from hcp.controlplane.tls_flags import kubernetes_tls_args, tls_security_profile

NAME = "kube-scheduler"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    deployment, main = leader_elected_deployment(ctx, __package__, NAME)
    main["args"] += kubernetes_tls_args(tls_security_profile(ctx))
    return [load(__package__, f"{NAME}.yaml")[f"Service/{NAME}"], deployment]


COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("kube-apiserver",))
