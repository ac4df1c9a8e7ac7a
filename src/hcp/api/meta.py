"""Kubernetes core shapes that the HyperShift API embeds.

metav1.Condition, corev1.LocalObjectReference and corev1.Toleration appear inside
HostedCluster, NodePool and HostedControlPlane with the validation upstream
Kubernetes generates for them.
"""

from enum import StrEnum

from pydantic import ConfigDict, Field

from hcp.api.base import KubeModel
from hcp.api.markers import kube_schema
from hcp.api.types import Int64, Time

CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


class ConditionStatus(StrEnum):
    """Whether a condition holds."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(KubeModel):
    """metav1.Condition: one aspect of an object's observed state."""

    type: str = Field(max_length=316, pattern=CONDITION_TYPE_PATTERN)
    """Type of condition in CamelCase or in foo.example.com/CamelCase."""
    status: ConditionStatus
    """Status of the condition: True, False or Unknown."""
    observed_generation: Int64 | None = Field(default=None, ge=0)
    """The .metadata.generation the condition was computed from."""
    last_transition_time: Time
    """When the condition last changed status."""
    reason: str = Field(min_length=1, max_length=1024, pattern=CONDITION_REASON_PATTERN)
    """Programmatic identifier of the last transition, in CamelCase."""
    message: str = Field(max_length=32768)
    """Human readable details of the last transition; may be empty."""


class LocalObjectReference(KubeModel):
    """corev1.LocalObjectReference: names an object in the same namespace."""

    model_config = ConfigDict(json_schema_extra=kube_schema(map_type="atomic"))

    name: str = ""
    """Name of the referent."""


class TaintEffect(StrEnum):
    """What happens to pods that do not tolerate a taint."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class Toleration(KubeModel):
    """corev1.Toleration: lets a pod schedule onto nodes with a matching taint."""

    key: str | None = None
    """Taint key the toleration applies to; empty matches all keys (with operator Exists)."""
    operator: str | None = None
    """Exists or Equal (the default)."""
    value: str | None = None
    """Taint value the toleration matches."""
    effect: str | None = None
    """Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all."""
    toleration_seconds: Int64 | None = None
    """For NoExecute: how long the pod stays bound after the taint appears."""
