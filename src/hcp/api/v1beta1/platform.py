"""The infrastructure a hosted cluster's machines come from."""

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.markers import Checked, Rule, immutable, kube_schema

KWOK_ONLY_WITH_KWOK_TYPE = Rule("self.type == 'KWOK' || !has(self.kwok)", "kwok can only be set when type is KWOK")


class PlatformType(StrEnum):
    """An infrastructure provider.

    All of HyperShift's names are kept (its ungated seven, then OpenStack and GCP, which it gates),
    so that a manifest naming one is refused by the rule below with a message that says which
    platforms hcp has, rather than by the enum with a list that does not. KWOK and Container are
    hcp's own. KWOK: simulated machines, i.e. kwok nodes registered in the hosted cluster.
    Container: hcp's nodes-as-pods platform, whose machines are privileged pods on the management
    cluster that run containerd and the release's kubelet and join like any real machine
    (HyperShift's nearest is KubeVirt, whose machines are VMs in pods).
    """

    AWS = "AWS"
    AZURE = "Azure"
    IBMCLOUD = "IBMCloud"
    KUBEVIRT = "KubeVirt"
    AGENT = "Agent"
    POWERVS = "PowerVS"
    NONE = "None"
    OPENSTACK = "OpenStack"
    GCP = "GCP"
    KWOK = "KWOK"
    CONTAINER = "Container"


SUPPORTED_PLATFORMS = (PlatformType.KWOK, PlatformType.NONE, PlatformType.CONTAINER)
"""The platforms hcp has machines for. The others are HyperShift's names, kept so that their
manifests read as HyperShift's, but an object naming one is refused at admission."""

UNSUPPORTED_PLATFORMS = tuple(p for p in PlatformType if p not in SUPPORTED_PLATFORMS)

PLATFORMS_HCP_HAS = "hcp has the platforms KWOK, None and Container"
"""The clause every platform refusal ends with, so the user learns what to write instead."""

SUPPORTED_PLATFORM_RULE = Rule(
    "self in [" + ", ".join(f"'{p}'" for p in SUPPORTED_PLATFORMS) + "]",
    "platform type must be KWOK, None or Container, the platforms hcp has; "
    + ", ".join(str(p) for p in UNSUPPORTED_PLATFORMS[:-1]) + f" and {UNSUPPORTED_PLATFORMS[-1]} "
    "are HyperShift platforms that hcp does not have",
)

OTHER_PLATFORM_SETTINGS = {
    "aws": PlatformType.AWS,
    "azure": PlatformType.AZURE,
    "ibmcloud": PlatformType.IBMCLOUD,
    "kubevirt": PlatformType.KUBEVIRT,
    "agent": PlatformType.AGENT,
    "powervs": PlatformType.POWERVS,
    "openstack": PlatformType.OPENSTACK,
    "gcp": PlatformType.GCP,
}
"""HyperShift's per-platform settings, by JSON name, for the platforms hcp does not have."""


def _not_our_platform(field: str) -> Rule:
    return Rule(f"!has(self.{field})", f"{field} is the setting of platform {OTHER_PLATFORM_SETTINGS[field]}, "
                f"which hcp does not have; {PLATFORMS_HCP_HAS}")


OTHER_PLATFORM_RULES = [_not_our_platform(field) for field in OTHER_PLATFORM_SETTINGS]

ForeignPlatformSettings = Annotated[
    dict[str, Any],
    Field(json_schema_extra=kube_schema(keywords={"type": "object", "x-kubernetes-preserve-unknown-fields": True})),
]
"""Settings of a platform hcp does not have. Their fields are HyperShift's business: the schema keeps
them (rather than pruning them, which would let a manifest for AWS pass as platform-less) so that the
rule on the platform struct can refuse them by name."""


class OtherPlatformSettings(KubeModel):
    """The per-platform fields of HyperShift's platform structs that hcp refuses.

    Present in the schema only so that an object carrying one is refused with a message naming
    hcp's platforms, instead of the API server pruning the field and admitting the rest.
    """

    aws: ForeignPlatformSettings | None = None
    """HyperShift's AWS settings; refused."""
    azure: ForeignPlatformSettings | None = None
    """HyperShift's Azure settings; refused."""
    ibmcloud: ForeignPlatformSettings | None = None
    """HyperShift's IBMCloud settings; refused."""
    kubevirt: ForeignPlatformSettings | None = None
    """HyperShift's KubeVirt settings; refused."""
    agent: ForeignPlatformSettings | None = None
    """HyperShift's Agent settings; refused."""
    powervs: ForeignPlatformSettings | None = None
    """HyperShift's PowerVS settings; refused."""
    openstack: ForeignPlatformSettings | None = None
    """HyperShift's OpenStack settings; refused."""
    gcp: ForeignPlatformSettings | None = None
    """HyperShift's GCP settings; refused."""

    @model_validator(mode="after")
    def _refuse_other_platforms(self) -> Self:
        for field, rule in zip(OTHER_PLATFORM_SETTINGS, OTHER_PLATFORM_RULES, strict=True):
            if getattr(self, field) is not None:
                raise ValueError(rule.message)
        return self


# maxLength as in HyperShift: it bounds the CEL cost estimate of the immutability rule.
ImmutablePlatformType = Annotated[
    PlatformType,
    Checked(SUPPORTED_PLATFORM_RULE, lambda platform: platform in SUPPORTED_PLATFORMS),
    Field(json_schema_extra=kube_schema(rules=[immutable("Type")], keywords={"maxLength": 100})),
]


class KWOKPlatformSpec(KubeModel):
    """Cluster-wide settings of the KWOK platform (none yet)."""


class PlatformSpec(OtherPlatformSettings):
    """The infrastructure provider of the cluster, with that provider's settings."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[KWOK_ONLY_WITH_KWOK_TYPE, *OTHER_PLATFORM_RULES]))

    type: ImmutablePlatformType
    """The infrastructure provider."""
    kwok: KWOKPlatformSpec | None = None
    """Settings for type KWOK."""


class AWSPlatformStatus(KubeModel):
    """Observed AWS resources of the cluster."""

    default_worker_security_group_id: str | None = Field(
        default=None, alias="defaultWorkerSecurityGroupID", max_length=255
    )
    """Security group created by the control plane and added to every worker machine."""


class PlatformStatus(KubeModel):
    """Platform-specific observed state of the cluster."""

    aws: AWSPlatformStatus | None = None
    """Observed state on AWS."""
