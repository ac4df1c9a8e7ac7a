"""Keys and plain-dict views of Kubernetes objects, whatever form they arrive in.

Controllers meet objects as lightkube typed models (built-in kinds), lightkube
generic resources (dicts, for CRDs), plain dicts (rendered manifests) and hcp's
pydantic models. Work-queue keys are "namespace/name" strings ("name" for
cluster-scoped objects), as in client-go, so they read well in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hcp.api.base import KubeModel, to_dict


def as_dict(obj: Any) -> dict[str, Any]:
    """The object as the JSON-compatible dict the API server reads.

    pydantic models keep only the fields that were set, so a server-side apply
    owns exactly what the caller chose to set.
    """
    if isinstance(obj, KubeModel):
        return to_dict(obj, exclude_unset=True)
    if hasattr(obj, "to_dict"):  # lightkube models and generic resources
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"not a Kubernetes object: {type(obj).__name__}")


def make_key(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def object_key(obj: Any) -> str:
    """The work-queue key of a lightkube object (typed or generic)."""
    return make_key(obj.metadata.namespace, obj.metadata.name)


def split_key(key: str) -> tuple[str | None, str]:
    """(namespace, name) of a key; namespace is None for cluster-scoped objects."""
    namespace, _, name = key.rpartition("/")
    return namespace or None, name
