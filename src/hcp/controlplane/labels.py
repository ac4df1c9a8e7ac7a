"""The labels and namespace every rendered object carries."""

from __future__ import annotations

from typing import Any

from hcp.api.names import HOSTED_CONTROL_PLANE_LABEL

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "hcp"
RENDERED_BY_LABEL = "hcp.io/control-plane-component"
"""On every object a control-plane component renders (value: the component's NAME): how the HostedControlPlane
controller finds what a component no longer renders. PKI Secrets, copies of the user's Secrets and what other
controllers make in the namespace do not carry it."""


def common_labels(namespace: str) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY, HOSTED_CONTROL_PLANE_LABEL: namespace}


def stamp(obj: dict[str, Any], namespace: str, component: str | None = None) -> dict[str, Any]:
    """Put `obj` in `namespace` and give it the common labels, and RENDERED_BY_LABEL when a `component`
    rendered it (in place; returns it)."""
    metadata = obj.setdefault("metadata", {})
    metadata["namespace"] = namespace
    metadata["labels"] = {**metadata.get("labels", {}), **common_labels(namespace)}
    if component is not None:
        metadata["labels"][RENDERED_BY_LABEL] = component
    return obj


METRICS_SERVICE_LABEL = "hcp.io/metrics"
"""On the one Service of a component whose /metrics Prometheus scrapes (value: the component, the `job` of its
series): what a ServiceMonitor selects (hcp.monitoring.targets)."""
