"""The desired state of one hosted control plane: every component's objects for its namespace.

Pure: the same context renders the same list, which the HostedControlPlane
controller applies with server-side apply. The PKI Secrets the components
mount are rendered separately (`hcp.controlplane.pki.pki_secrets`), since
they depend on what already exists.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.context import RenderContext
from hcp.controlplane.labels import stamp


def render_component(ctx: RenderContext, component: ModuleType) -> list[dict[str, Any]]:
    """One component's objects, in `ctx.namespace` and carrying the common labels."""
    return [stamp(obj, ctx.namespace) for obj in component.render(ctx)]


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    """All components' objects, component by component in COMPONENTS order."""
    return [obj for component in COMPONENTS for obj in render_component(ctx, component)]
