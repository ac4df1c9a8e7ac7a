"""The infrastructure a hosted cluster's machines come from."""

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from hcp.api.base import KubeModel
from hcp.api.markers import Checked, Rule, immutable, kube_schema

KWOK_ONLY_WITH_KWOK_TYPE = Rule("self.type == 'KWOK' || !has(self.kwok)", "kwok can only be set when type is KWOK")


class PlatformType(StrEnum):
    """An infrastructure provider.

    The first four are HyperShift's; KWOK and Container are hcp's own. KWOK: simulated
    machines, i.e. kwok nodes registered in the hosted cluster. Container: hcp's
    nodes-as-pods platform, whose machines are privileged pods on the management
    cluster that run containerd and the release's kubelet and join like any real machine
    (HyperShift's nearest is KubeVirt, whose machines are VMs in pods).
    """

    AWS = "AWS"
    KUBEVIRT = "KubeVirt"
    AGENT = "Agent"
    NONE = "None"
    KWOK = "KWOK"
    CONTAINER = "Container"


SUPPORTED_PLATFORMS = (PlatformType.KWOK, PlatformType.NONE, PlatformType.CONTAINER)
"""The platforms hcp has machines for. The others are HyperShift's names, kept so that their
manifests read as HyperShift's, but an object naming one is refused at admission."""

SUPPORTED_PLATFORM_RULE = Rule(
    "self in [" + ", ".join(f"'{p}'" for p in SUPPORTED_PLATFORMS) + "]",
    "platform type must be KWOK, None or Container, the platforms hcp has; AWS, KubeVirt and Agent are "
    "HyperShift platforms that hcp does not have",
)

# maxLength as in HyperShift: it bounds the CEL cost estimate of the immutability rule.
ImmutablePlatformType = Annotated[
    PlatformType,
    Checked(SUPPORTED_PLATFORM_RULE, lambda platform: platform in SUPPORTED_PLATFORMS),
    Field(json_schema_extra=kube_schema(rules=[immutable("platform type")], keywords={"maxLength": 100})),
]


class KWOKPlatformSpec(KubeModel):
    """Cluster-wide settings of the KWOK platform (none yet)."""


class PlatformSpec(KubeModel):
    """The infrastructure provider of the cluster, with that provider's settings."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[KWOK_ONLY_WITH_KWOK_TYPE]))

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
