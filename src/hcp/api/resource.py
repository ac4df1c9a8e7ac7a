"""CRD-level facts a kind declares next to its schema.

The counterpart of kubebuilder's `+kubebuilder:resource`, `+kubebuilder:printcolumn`
and `+kubebuilder:subresource` markers: each top-level model carries one
`ResourceInfo`, and the CRD generator reads it together with the model's schema.
"""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PrinterColumn:
    """A column of `kubectl get` output."""

    name: str
    type: Literal["string", "integer", "number", "boolean", "date"]
    json_path: str
    description: str
    """Shown by `kubectl explain`-like tools; empty leaves it out (HyperShift's Age column has none)."""
    priority: int = 0


@dataclass(frozen=True)
class ScaleSubresource:
    """Enables `kubectl scale` (and autoscalers) on the resource."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


@dataclass(frozen=True)
class ResourceInfo:
    """Names, printer columns and subresources of a custom resource."""

    plural: str
    singular: str
    scope: Literal["Namespaced", "Cluster"] = "Namespaced"
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    scale: ScaleSubresource | None = None
