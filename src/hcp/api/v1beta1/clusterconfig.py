"""Configuration of the hosted cluster's components (a subset of OpenShift's config/v1 specs)."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from hcp.api.base import KubeModel
from hcp.api.markers import Rule, kube_schema

_FEATURE_GATE_NAME = Annotated[str, Field(pattern=r"^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$")]


class FeatureSet(StrEnum):
    """A named set of feature gates; "" is the default set."""

    CUSTOM_NO_UPGRADE = "CustomNoUpgrade"
    DEV_PREVIEW_NO_UPGRADE = "DevPreviewNoUpgrade"
    TECH_PREVIEW_NO_UPGRADE = "TechPreviewNoUpgrade"
    OKD = "OKD"
    DEFAULT = ""


class CustomFeatureGates(KubeModel):
    """Feature gates switched individually (featureSet CustomNoUpgrade)."""

    enabled: list[_FEATURE_GATE_NAME] | None = None
    """Feature gates to enable."""
    disabled: list[_FEATURE_GATE_NAME] | None = None
    """Feature gates to disable."""


class FeatureGateSpec(KubeModel):
    """Which feature gates the control plane components run with."""

    feature_set: FeatureSet | None = Field(
        default=None,
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "oldSelf == 'CustomNoUpgrade' ? self == 'CustomNoUpgrade' : true",
                    "CustomNoUpgrade may not be changed",
                ),
                Rule(
                    "oldSelf == 'TechPreviewNoUpgrade' ? self == 'TechPreviewNoUpgrade' : true",
                    "TechPreviewNoUpgrade may not be changed",
                ),
                Rule(
                    "oldSelf == 'DevPreviewNoUpgrade' ? self == 'DevPreviewNoUpgrade' : true",
                    "DevPreviewNoUpgrade may not be changed",
                ),
                Rule("oldSelf == 'OKD' ? self != '' : true", "OKD cannot transition to Default"),
            ]
        ),
    )
    """The set of feature gates; the *NoUpgrade sets cannot be undone and block updates."""
    custom_no_upgrade: CustomFeatureGates | None = Field(default=None, json_schema_extra=kube_schema(nullable=True))
    """Individual gates, used only with featureSet CustomNoUpgrade."""


class ClusterConfiguration(KubeModel):
    """Cluster-wide configuration of the hosted cluster's components."""

    feature_gate: FeatureGateSpec | None = None
    """Feature gates of the control plane components."""
