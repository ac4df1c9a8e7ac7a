"""hosted-cluster-config: what the hosted cluster's own components need to know from the control plane.

The data-plane controller applies CoreDNS, kube-proxy, the CNI, the
konnectivity agent and metrics-server inside the hosted cluster (hcp.dataplane).
Some of what they are rendered from is only known here: the published API
and konnectivity endpoints and the release's images. This component writes
them into one ConfigMap of the control-plane namespace, in the format that
hcp.dataplane.components.config defines once for both sides. Not for KWOK
clusters, whose simulated nodes run nothing.
"""

from __future__ import annotations

from typing import Any

from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import HOSTED_COMPONENT_IMAGES, RenderContext
from hcp.dataplane.components import config

NAME = config.NAME


def enabled(ctx: RenderContext) -> bool:
    return config.published_for(ctx.hcp.spec.platform.type)


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    if not enabled(ctx):
        return []
    images = {component: ctx.image(component) for component in HOSTED_COMPONENT_IMAGES}
    return [{
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME},
        "data": config.data(ctx.api_endpoint, ctx.konnectivity_endpoint, ctx.kubernetes_version, images),
    }]


# Configuration only: no workload to wait for, and nothing to wait for before applying it.
COMPONENT = Component(NAME, render, enabled=enabled,
                      # The components inside the hosted cluster follow a new release after the control plane
                      # (docs 6.7): their settings change only once the controllers run it.
                      depends_on=("kube-apiserver", "kube-controller-manager", "kube-scheduler"),
                      gates=(("ConfigMap", NAME),))
