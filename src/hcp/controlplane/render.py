"""The desired state of one hosted control plane: every component's objects for its namespace.

Pure: the same context renders the same list, which the HostedControlPlane
controller applies with server-side apply. The PKI Secrets the components
mount are rendered separately (`hcp.controlplane.pki.pki_secrets`), since
they depend on what already exists.

Every rendered object carries RENDERED_BY_LABEL (its component's name), so
that what a component rendered before and renders no more (the
EncryptionConfiguration Secret once spec.secretEncryption is gone, a
PodDisruptionBudget once the control plane is not HighlyAvailable, all of a
component that is not enabled) is found and deleted: `leftovers`, the same
decision the data-plane controller makes for the hosted cluster's components
(hcp.kube.leftovers).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from hcp.controlplane.components import COMPONENTS, Component
from hcp.controlplane.context import RenderContext
from hcp.controlplane.labels import stamp
from hcp.controlplane.overrides import apply_overrides, resource_overrides
from hcp.kube.leftovers import LiveObject, ObjectKey
from hcp.kube.leftovers import leftovers as kube_leftovers

KINDS: tuple[tuple[str, str], ...] = (
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("policy/v1", "PodDisruptionBudget"),
)
"""(apiVersion, kind) of everything a component may render (a test holds every component to it): the kinds
listed for leftovers. Deleted in reverse order: disruption budgets and workloads before their configuration,
NetworkPolicies last."""


def render_component(ctx: RenderContext, component: Component) -> list[dict[str, Any]]:
    """One component's objects, in `ctx.namespace` and carrying the common labels, with the requests the
    HostedControlPlane's resource-request-override annotations set (hcp.controlplane.overrides); none when
    it is not enabled for this HostedControlPlane, so that what it rendered before becomes a leftover."""
    if not component.enabled(ctx):
        return []
    objects = [stamp(obj, ctx.namespace, component.name) for obj in component.render(ctx)]
    apply_overrides(objects, resource_overrides(ctx.hcp.metadata.annotations))
    return objects


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    """All components' objects, component by component in COMPONENTS order."""
    return [obj for component in COMPONENTS for obj in render_component(ctx, component)]


def leftovers(desired: Collection[ObjectKey], live: Iterable[LiveObject]) -> list[LiveObject]:
    """The live objects carrying RENDERED_BY_LABEL that the current render (`desired`) no longer has, in
    deletion order. A render either succeeds whole or raises, so no component's objects are ever kept for
    having failed."""
    return kube_leftovers(desired, live, kinds=[kind for _, kind in KINDS])
