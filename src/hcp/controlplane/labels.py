"""The labels and namespace every rendered object carries."""

from __future__ import annotations

from typing import Any

from hcp.api.names import HOSTED_CONTROL_PLANE_LABEL

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "hcp"


def common_labels(namespace: str) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY, HOSTED_CONTROL_PLANE_LABEL: namespace}


def stamp(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """Put `obj` in `namespace` and give it the common labels (in place; returns it)."""
    metadata = obj.setdefault("metadata", {})
    metadata["namespace"] = namespace
    metadata["labels"] = {**metadata.get("labels", {}), **common_labels(namespace)}
    return obj
