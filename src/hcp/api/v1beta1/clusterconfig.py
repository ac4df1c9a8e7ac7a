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


class AuditProfileType(StrEnum):
    """An audit policy profile, as OpenShift's API servers define them (config/v1 AuditProfileType)."""

    DEFAULT = "Default"
    """Metadata for every request (never a body), plus request and response bodies of writes to OAuth tokens and
    identities, which exist in OpenShift only."""
    WRITE_REQUEST_BODIES = "WriteRequestBodies"
    """Like Default, plus request and response bodies of writes (create, update, patch, delete, deletecollection),
    except for security-sensitive resources (Secrets, token requests and reviews), which stay at Metadata."""
    ALL_REQUEST_BODIES = "AllRequestBodies"
    """Like WriteRequestBodies, plus the bodies of reads (get, list, watch), sensitive resources still excepted."""
    NONE = "None"
    """No audit events at all."""


class AuditCustomRule(KubeModel):
    """A profile for the requests of one user group, taking precedence over the top-level profile."""

    group: str = Field(min_length=1)
    """Group a request's user must be a member of for this profile to apply."""
    profile: AuditProfileType
    """Profile applied to that group's requests."""


class Audit(KubeModel):
    """What the hosted kube-apiserver records in its audit log (and sends to spec.auditWebhook)."""

    profile: AuditProfileType = AuditProfileType.DEFAULT
    """Profile applied to every request no customRules entry matches; Default when unset."""
    custom_rules: list[AuditCustomRule] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="map", list_map_keys=["group"])
    )
    """Profiles per user group, evaluated top to bottom: the first whose group the user belongs to applies."""


class APIServerSpec(KubeModel):
    """Configuration of the hosted kube-apiserver (the part of OpenShift's config/v1 APIServerSpec hcp honours).

    Only `audit` is modelled: the other fields of OpenShift's APIServerSpec are
    refused by the schema rather than accepted and ignored.
    """

    audit: Audit = Audit()
    """Audit policy of the API server; the Default profile when unset."""


class ClusterConfiguration(KubeModel):
    """Cluster-wide configuration of the hosted cluster's components."""

    api_server: APIServerSpec | None = None
    """Configuration of the hosted kube-apiserver (audit profile)."""
    feature_gate: FeatureGateSpec | None = None
    """Feature gates of the control plane components."""
