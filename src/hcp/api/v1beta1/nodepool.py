"""NodePool: a scalable set of worker nodes attached to a HostedCluster."""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel, KubeObject, TypeMeta
from hcp.api.formats import DNS1123_LABEL, LABEL_VALUE, MAX_LABEL_VALUE_LENGTH, QUALIFIED_NAME, label_map, pattern_check
from hcp.api.markers import Checked, Rule, immutable, kube_schema
from hcp.api.meta import LocalObjectReference, TaintEffect
from hcp.api.resource import PrinterColumn, ResourceInfo, ScaleSubresource
from hcp.api.types import Duration, Int32, Int64, IntOrString, NonNegativeCount, NonNegativeQuantity, Time
from hcp.api.v1beta1.common import PAUSED_UNTIL, KubeconfigSecretRef, Release
from hcp.api.v1beta1.groupversion import API_VERSION
from hcp.api.v1beta1.platform import (
    KWOK_ONLY_WITH_KWOK_TYPE,
    OTHER_PLATFORM_RULES,
    ImmutablePlatformType,
    OtherPlatformSettings,
)

MAX_NODE_POOL_REPLICAS = 1000
"""The largest NodePool hcp supports (spec.replicas, spec.autoScaling.max): the size its benchmarks cover."""

MAX_NODE_LABELS = 100
"""spec.nodeLabels: a bound HyperShift does not have, needed so that the API server can bound the cost
of checking every key; far more labels than a node pool is given in practice."""

NodeLabels = label_map(MAX_NODE_LABELS)
"""spec.nodeLabels, put on the Nodes: labels a Node accepts."""


class Architecture(StrEnum):
    """CPU architecture of a NodePool's machines."""

    ARM64 = "arm64"
    AMD64 = "amd64"
    PPC64LE = "ppc64le"
    S390X = "s390x"


class UpgradeType(StrEnum):
    """How nodes are updated when the release or configuration changes."""

    REPLACE = "Replace"
    IN_PLACE = "InPlace"


class UpgradeStrategy(StrEnum):
    """How Replace upgrades replace nodes."""

    ROLLING_UPDATE = "RollingUpdate"
    ON_DELETE = "OnDelete"


class KWOKNodeCapacity(KubeModel):
    """Resources each simulated node reports in its status.capacity (and status.allocatable).

    Never negative, as Kubernetes requires of a Node's resources; 0 is allowed, as
    Kubernetes allows it: a node with no room for pods is a legitimate thing to simulate.
    """

    cpu: NonNegativeQuantity | None = None
    """CPU of each simulated node, e.g. "4"."""
    memory: NonNegativeQuantity | None = None
    """Memory of each simulated node, e.g. "16Gi"."""
    pods: NonNegativeCount | None = None
    """Maximum number of pods on each simulated node, e.g. "110"."""


class KWOKNodePoolPlatform(KubeModel):
    """Settings of a NodePool of simulated (kwok) nodes; hcp's own platform."""

    capacity: KWOKNodeCapacity | None = None
    """Capacity of each simulated node; kwok's defaults when unset."""


class NodePoolPlatform(OtherPlatformSettings):
    """The infrastructure provider of the NodePool's machines, with that provider's settings."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[KWOK_ONLY_WITH_KWOK_TYPE, *OTHER_PLATFORM_RULES]))

    type: ImmutablePlatformType
    """The infrastructure provider."""
    kwok: KWOKNodePoolPlatform | None = None
    """Settings for type KWOK."""


class RollingUpdate(KubeModel):
    """Replace nodes by creating new ones before deleting old ones."""

    max_unavailable: IntOrString | None = None
    """Nodes (5) or percentage of desired nodes (10%, rounded down) that may be unavailable; 0 by default."""
    max_surge: IntOrString | None = None
    """Nodes (5) or percentage (10%, rounded up) created above the desired count; 1 by default."""


class ReplaceUpgrade(KubeModel):
    """Settings of the Replace upgrade type."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "!has(self.rollingUpdate) || self.strategy == 'RollingUpdate'",
                    "The 'rollingUpdate' field can only be set when 'strategy' is 'RollingUpdate'",
                )
            ]
        )
    )

    strategy: UpgradeStrategy | None = None
    """RollingUpdate honours maxSurge/maxUnavailable; OnDelete replaces a node when the user deletes it."""
    rolling_update: RollingUpdate | None = None
    """Settings of the RollingUpdate strategy."""


class InPlaceUpgrade(KubeModel):
    """Settings of the InPlace upgrade type."""

    max_unavailable: IntOrString | None = None
    """Nodes (5) or percentage of desired nodes (10%, rounded down) updated at once; 1 by default."""


class NodePoolManagement(KubeModel):
    """How the NodePool's nodes are upgraded and repaired."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "!has(self.inPlace) || self.upgradeType == 'InPlace'",
                    "The 'inPlace' field can only be set when 'upgradeType' is 'InPlace'",
                )
            ]
        )
    )

    upgrade_type: UpgradeType = Field(json_schema_extra=kube_schema(rules=[immutable("UpgradeType")]))
    """Replace recreates nodes, InPlace updates the existing ones; fixed at creation."""
    replace: ReplaceUpgrade | None = ReplaceUpgrade(
        strategy=UpgradeStrategy.ROLLING_UPDATE, rolling_update=RollingUpdate(max_surge=1, max_unavailable=0)
    )
    """Settings of Replace upgrades."""
    in_place: InPlaceUpgrade | None = None
    """Settings of InPlace upgrades."""
    auto_repair: bool = False
    """Replace nodes that stay unhealthy; no-op while more than 2 nodes are unhealthy at once."""


MAX_AT_LEAST_MIN = Rule("self.max >= self.min", "max must be equal or greater than min")
TAINT_KEY = pattern_check(
    "key must be a qualified name with an optional subdomain prefix e.g. example.com/MyName", QUALIFIED_NAME
)
TAINT_VALUE = pattern_check(
    "Value must start and end with alphanumeric characters and can only contain '-', '_', '.' in the middle",
    LABEL_VALUE,
)
TAINT_VALUE_LENGTH = Checked(
    Rule(f"self.size() <= {MAX_LABEL_VALUE_LENGTH}",
         f"value must be at most {MAX_LABEL_VALUE_LENGTH} characters, as a Node's taint value"),
    lambda value: len(value) <= MAX_LABEL_VALUE_LENGTH,
)


class NodePoolAutoScaling(KubeModel):
    """Bounds within which the autoscaler sizes the NodePool."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[MAX_AT_LEAST_MIN]))

    min: Int32 = Field(ge=0)
    """Minimum number of nodes."""
    max: Int32 = Field(ge=1, le=MAX_NODE_POOL_REPLICAS)
    """Maximum number of nodes; at most 1000, the largest NodePool hcp supports."""

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if self.max < self.min:
            raise ValueError(MAX_AT_LEAST_MIN.message)
        return self


class Taint(KubeModel):
    """A taint put on the NodePool's nodes when they are created."""

    key: Annotated[str, Field(min_length=1, max_length=253), TAINT_KEY]
    """Taint key."""
    # maxLength as in HyperShift; Kubernetes refuses a Node whose taint value is longer than a label value.
    value: Annotated[str, Field(max_length=253), TAINT_VALUE, TAINT_VALUE_LENGTH] | None = None
    """Taint value."""
    effect: TaintEffect
    """What happens to pods that do not tolerate the taint."""


class NodePoolSpec(KubeModel):
    """Desired state of a NodePool."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule("!has(oldSelf.arch) || has(self.arch)", "Arch is required once set"),
                Rule("!has(self.replicas) || !has(self.autoScaling)", "Both replicas or autoScaling should not be set"),
            ]
        )
    )

    cluster_name: Annotated[
        str,
        Field(min_length=1, max_length=253),
        pattern_check(
            "clusterName must consist of lowercase alphanumeric characters or '-', start and end with an "
            "alphanumeric character, and be between 1 and 253 characters",
            DNS1123_LABEL,
        ),
    ] = Field(json_schema_extra=kube_schema(rules=[immutable("ClusterName")]))
    """Name of the HostedCluster (in the same namespace) the NodePool belongs to."""
    release: Release
    """Release the nodes run; must not be newer than the HostedCluster's. Changing it rolls out the nodes."""
    platform: NodePoolPlatform
    """Infrastructure provider of the machines."""
    replicas: Int32 | None = Field(default=None, ge=0, le=MAX_NODE_POOL_REPLICAS)
    """Desired number of nodes: 0 when unset, at most 1000 (the largest NodePool hcp supports); not with autoScaling."""
    management: NodePoolManagement
    """How nodes are upgraded and repaired."""
    auto_scaling: NodePoolAutoScaling | None = None
    """Let the autoscaler size the pool between min and max; mutually exclusive with replicas."""
    config: list[LocalObjectReference] | None = Field(default=None, max_length=10)
    """ConfigMaps (key "config") with node configuration to apply; changing them rolls out the nodes."""
    node_drain_timeout: Duration | None = None
    """How long to retry draining a node before it is removed anyway; 0 (the default) retries forever."""
    node_volume_detach_timeout: Duration | None = None
    """How long to wait for volumes to detach from a removed node; 0 (the default) waits forever."""
    node_labels: NodeLabels | None = None
    """Labels put on the nodes when they are created."""
    taints: list[Taint] | None = Field(default=None, max_length=50)
    """Taints put on the nodes when they are created."""
    paused_until: Annotated[str, Field(max_length=35), PAUSED_UNTIL] | None = None
    """Pause reconciliation until an RFC3339 time, or while "true"; remove the field to resume."""
    tuning_config: list[LocalObjectReference] | None = Field(default=None, max_length=10)
    """ConfigMaps (key "tuning") with node tuning to apply; changing them rolls out the nodes."""
    arch: Architecture = Field(default=Architecture.AMD64, json_schema_extra=kube_schema(rules=[immutable("Arch")]))
    """CPU architecture of the machines."""


class NodePoolCondition(KubeModel):
    """An observation of the NodePool's state.

    HyperShift's own condition type: like metav1.Condition, but reason is free-form and
    optional, and a severity may accompany status False.
    """

    type: str = Field(max_length=316)
    """Type of condition in CamelCase or in foo.example.com/CamelCase."""
    status: str
    """True, False or Unknown."""
    severity: str | None = Field(default=None, max_length=1024)
    """How serious a False status is; only set when status is False."""
    last_transition_time: Time
    """When the condition last changed status."""
    reason: str | None = Field(default=None, max_length=1024)
    """Programmatic identifier of the last transition, in CamelCase."""
    message: str | None = Field(default=None, max_length=32768)
    """Human readable details of the last transition."""
    observed_generation: Int64 | None = Field(default=None, ge=0)
    """The .metadata.generation the condition was computed from."""


class KubevirtPlatformCredentials(KubeModel):
    """Credentials for placing KubeVirt machines on another cluster."""

    infra_kube_config_secret: KubeconfigSecretRef | None = Field(
        default=None, json_schema_extra=kube_schema(rules=[immutable("infraKubeConfigSecret")])
    )
    """Kubeconfig of the infrastructure cluster."""


class KubeVirtNodePoolStatus(KubeModel):
    """Observed state of a KubeVirt NodePool."""

    cache_name: str | None = Field(default=None, max_length=255)
    """Name of the boot image cache DataVolume, if one exists."""
    credentials: KubevirtPlatformCredentials | None = None
    """Credentials used to create the virtual machines on a separate cluster."""


class NodePoolPlatformStatus(KubeModel):
    """Platform-specific observed state of a NodePool."""

    kube_virt: KubeVirtNodePoolStatus | None = None
    """Observed state on KubeVirt."""


class NodePoolStatus(KubeModel):
    """Observed state of a NodePool."""

    replicas: Int32 | None = None
    """Number of nodes in the pool."""
    version: str | None = Field(default=None, max_length=64)
    """Version of the release the nodes run."""
    platform: NodePoolPlatformStatus | None = None
    """Platform-specific observed state."""
    conditions: list[NodePoolCondition] | None = Field(default=None, max_length=100)
    """Latest observations of the pool's state (Ready, UpdatingVersion, AutoscalingEnabled, ...)."""


class NodePool(KubeObject):
    """A scalable set of worker nodes attached to a HostedCluster.

    All machines of a pool share an architecture, independent of the control plane's.
    """

    resource: ClassVar[ResourceInfo] = ResourceInfo(
        plural="nodepools",
        singular="nodepool",
        short_names=("np", "nps"),
        printer_columns=(
            PrinterColumn("Cluster", "string", ".spec.clusterName", "Cluster"),
            PrinterColumn("Desired Nodes", "integer", ".spec.replicas", "Desired Nodes"),
            PrinterColumn("Current Nodes", "integer", ".status.replicas", "Available Nodes"),
            PrinterColumn(
                "Autoscaling",
                "string",
                '.status.conditions[?(@.type=="AutoscalingEnabled")].status',
                "Autoscaling Enabled",
            ),
            PrinterColumn(
                "Autorepair",
                "string",
                '.status.conditions[?(@.type=="AutorepairEnabled")].status',
                "Node Autorepair Enabled",
            ),
            PrinterColumn("Version", "string", ".status.version", "Current version"),
            PrinterColumn(
                "UpdatingVersion",
                "string",
                '.status.conditions[?(@.type=="UpdatingVersion")].status',
                "UpdatingVersion in progress",
            ),
            PrinterColumn(
                "UpdatingConfig",
                "string",
                '.status.conditions[?(@.type=="UpdatingConfig")].status',
                "UpdatingConfig in progress",
            ),
            PrinterColumn("Message", "string", '.status.conditions[?(@.type=="Ready")].message', "Message"),
        ),
        scale=ScaleSubresource(spec_replicas_path=".spec.replicas", status_replicas_path=".status.replicas"),
    )

    api_version: TypeMeta[Literal[API_VERSION]] = API_VERSION
    """Versioned schema of this object: hypershift.openshift.io/v1beta1."""
    kind: TypeMeta[Literal["NodePool"]] = "NodePool"
    """Kind of this object: NodePool."""
    spec: NodePoolSpec
    """Desired state of the NodePool."""
    status: NodePoolStatus | None = None
    """Observed state of the NodePool."""
