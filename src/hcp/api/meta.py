"""Kubernetes core shapes that the HyperShift API embeds.

metav1.Condition, corev1.LocalObjectReference and corev1.Toleration appear inside
HostedCluster, NodePool and HostedControlPlane with the validation upstream
Kubernetes generates for them.
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.formats import (
    MAX_QUALIFIED_NAME_LENGTH,
    KEY_MESSAGE,
    LabelValue,
    is_qualified_name,
    qualified_name_cel,
)
from hcp.api.markers import Checked, Rule, kube_schema
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


class TolerationOperator(StrEnum):
    """How a toleration's value is compared with a taint's; "" means Equal, as in Kubernetes."""

    EXISTS = "Exists"
    EQUAL = "Equal"
    DEFAULT = ""


class TolerationEffect(StrEnum):
    """The taint effect a toleration matches; "" matches every effect."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"
    ALL = ""


TOLERATION_KEY_RULE = Rule(f"self == '' || ({qualified_name_cel('self')})", KEY_MESSAGE)
EMPTY_KEY_NEEDS_EXISTS = Rule(
    "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
)
EXISTS_HAS_NO_VALUE = Rule(
    "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
    "value must be empty when `operator` is 'Exists'",
)
SECONDS_ONLY_FOR_NO_EXECUTE = Rule(
    "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
    "effect must be 'NoExecute' when `tolerationSeconds` is set",
)


class Toleration(KubeModel):
    """corev1.Toleration: lets a pod schedule onto nodes with a matching taint."""

    # Checked as Kubernetes checks a pod's tolerations (the messages are its own), since hcp copies
    # them into the control-plane pods: a toleration admitted here is one their Deployments accept.
    model_config = ConfigDict(
        json_schema_extra=kube_schema(rules=[EMPTY_KEY_NEEDS_EXISTS, EXISTS_HAS_NO_VALUE, SECONDS_ONLY_FOR_NO_EXECUTE])
    )

    key: (
        Annotated[
            str,
            Field(max_length=MAX_QUALIFIED_NAME_LENGTH),
            Checked(TOLERATION_KEY_RULE, lambda key: key == "" or is_qualified_name(key)),
        ]
        | None
    ) = None
    """Taint key the toleration applies to; empty matches all keys (with operator Exists)."""
    operator: TolerationOperator | None = None
    """Exists or Equal (the default)."""
    value: LabelValue | None = None
    """Taint value the toleration matches."""
    effect: TolerationEffect | None = None
    """Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all."""
    toleration_seconds: Int64 | None = None
    """For NoExecute: how long the pod stays bound after the taint appears."""

    @model_validator(mode="after")
    def _check_like_kubernetes(self) -> Self:
        if not self.key and self.operator != TolerationOperator.EXISTS:
            raise ValueError(EMPTY_KEY_NEEDS_EXISTS.message)
        if self.operator == TolerationOperator.EXISTS and self.value:
            raise ValueError(EXISTS_HAS_NO_VALUE.message)
        if self.toleration_seconds is not None and self.effect != TolerationEffect.NO_EXECUTE:
            raise ValueError(SECONDS_ONLY_FOR_NO_EXECUTE.message)
        return self
