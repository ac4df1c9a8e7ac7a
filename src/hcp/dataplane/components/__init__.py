"""The hosted cluster's own components, in the order they are applied.

Each module has `NAME` and `render(ctx: HostedContext) -> list[dict]` (see
context.py). The data-plane controller applies every component's objects
inside the hosted cluster, stamped with COMPONENT_LABEL, and removes what a
component applied before but renders no more.
"""

from __future__ import annotations

from types import ModuleType

from hcp.dataplane.components import konnectivity_agent
from hcp.dataplane.components import coredns, flannel, kube_proxy, metrics_server

COMPONENTS: tuple[ModuleType, ...] = (
    konnectivity_agent,
    flannel,
    kube_proxy,
    coredns,
    metrics_server,
)
"""Append one module per component (import it above)."""
