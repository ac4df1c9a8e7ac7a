"""HostedControlPlane: the control plane of one HostedCluster, in its control-plane namespace.

The HostedCluster controller writes its spec from the HostedCluster; the
HostedControlPlane controller runs the components and reports their status here.
"""

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from hcp.api.base import KubeModel, KubeObject, TypeMeta
from hcp.api.markers import immutable, kube_schema
from hcp.api.meta import Condition, LocalObjectReference, Toleration
from hcp.api.resource import ResourceInfo
from hcp.api.types import Time
from hcp.api.v1beta1.clusterconfig import ClusterConfiguration
from hcp.api.v1beta1.clusterversion import ClusterVersionStatus
from hcp.api.v1beta1.common import (
    SECRET_ENCRYPTION_NOT_REMOVABLE,
    APIEndpoint,
    AvailabilityPolicy,
    ControlPlaneLabels,
    DNSSpec,
    KubeconfigSecretRef,
    SecretEncryptionSpec,
)
from hcp.api.v1beta1.etcd import EtcdSpec
from hcp.api.v1beta1.groupversion import API_VERSION
from hcp.api.v1beta1.networking import SERVICES_REQUIRED, ClusterNetworking, ServiceList
from hcp.api.v1beta1.platform import PlatformSpec


class HostedControlPlaneSpec(KubeModel):
    """Desired state of a hosted control plane, as propagated from its HostedCluster."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[SERVICES_REQUIRED, SECRET_ENCRYPTION_NOT_REMOVABLE]))

    release_image: str = Field(max_length=255)
    """Release payload image of the hosted cluster."""
    control_plane_release_image: str | None = Field(default=None, max_length=255)
    """Release payload image of the control plane components; releaseImage when unset."""
    channel: str | None = Field(default=None, max_length=255)
    """Update channel of the hosted cluster."""
    pull_secret: LocalObjectReference
    """Secret with the pull secret of the hosted cluster."""
    issuer_url: str = Field(alias="issuerURL", max_length=255)
    """OIDC issuer of the ServiceAccount tokens the API server signs."""
    networking: ClusterNetworking | None = None
    """Pod, Service and machine networks."""
    ssh_key: LocalObjectReference
    """Secret with the SSH public key authorized on the nodes."""
    cluster_id: str | None = Field(default=None, alias="clusterID", max_length=255)
    """UUID identifying the cluster externally."""
    infra_id: str = Field(alias="infraID", max_length=255)
    """Unique name of the cluster's infrastructure resources."""
    platform: PlatformSpec
    """Infrastructure provider of the cluster's machines."""
    dns: DNSSpec
    """DNS configuration of the hosted cluster's ingress."""
    controller_availability_policy: AvailabilityPolicy = Field(
        default=AvailabilityPolicy.HIGHLY_AVAILABLE,
        json_schema_extra=kube_schema(rules=[immutable("ControllerAvailabilityPolicy")]),
    )
    """Availability of control plane components such as kube-apiserver and etcd."""
    infrastructure_availability_policy: AvailabilityPolicy = AvailabilityPolicy.SINGLE_REPLICA
    """Availability of infrastructure components running on the hosted cluster's nodes."""
    fips: bool | None = None
    """Whether nodes run in FIPS mode."""
    kubeconfig: KubeconfigSecretRef | None = None
    """Name and key of the admin kubeconfig Secret to write in the control-plane namespace."""
    services: ServiceList = Field(max_length=6)
    """How each control plane service is published."""
    etcd: EtcdSpec
    """The control plane's etcd."""
    configuration: ClusterConfiguration | None = None
    """Configuration of the hosted cluster's components."""
    audit_webhook: LocalObjectReference | None = None
    """Secret (key "webhook-kubeconfig", in the control-plane namespace) naming the audit webhook."""
    secret_encryption: SecretEncryptionSpec | None = None
    """Encryption at rest of Secrets; cannot be removed once configured."""
    paused_until: str | None = Field(default=None, max_length=255)
    """Pause reconciliation until an RFC3339 time, or while "true"."""
    node_selector: ControlPlaneLabels | None = None
    """Node labels the control plane pods must be scheduled on."""
    tolerations: list[Toleration] | None = Field(default=None, max_length=25)
    """Tolerations added to the control plane pods."""
    labels: ControlPlaneLabels | None = None
    """Labels added to the control plane pods."""


class HostedControlPlaneStatus(KubeModel):
    """Observed state of a hosted control plane."""

    conditions: list[Condition] | None = Field(
        default=None,
        max_length=100,
        json_schema_extra=kube_schema(list_type="map", list_map_keys=["type"]),
    )
    """Latest observations of the control plane's state (Available, Degraded, ...)."""
    ready: bool = False
    """The API server is ready to receive requests."""
    initialized: bool = False
    """The control plane has come up once; never reset afterwards."""
    external_managed_control_plane: bool = True
    """Tells Cluster API that the control plane is managed externally."""
    control_plane_endpoint: APIEndpoint | None = None
    """Where clients reach the API server; set once the infrastructure is ready."""
    version_status: ClusterVersionStatus | None = None
    """Release applied by the control plane and the history of updates."""
    version: str | None = Field(default=None, max_length=255)
    """Version of the release applied (deprecated in HyperShift: use versionStatus.desired.version)."""
    release_image: str | None = Field(default=None, max_length=255)
    """Release image applied (deprecated in HyperShift: use versionStatus.desired.image)."""
    last_release_image_transition_time: Time | None = None
    """When releaseImage last changed (deprecated in HyperShift: use versionStatus.history[0].startedTime)."""
    kube_config: KubeconfigSecretRef | None = None
    """Secret and key holding the admin kubeconfig of this control plane."""


class HostedControlPlane(KubeObject):
    """The control plane of one HostedCluster, living in that cluster's control-plane namespace."""

    resource: ClassVar[ResourceInfo] = ResourceInfo(
        plural="hostedcontrolplanes",
        singular="hostedcontrolplane",
        short_names=("hcp", "hcps"),
        categories=("cluster-api",),
    )

    api_version: TypeMeta[Literal[API_VERSION]] = API_VERSION
    """Versioned schema of this object: hypershift.openshift.io/v1beta1."""
    kind: TypeMeta[Literal["HostedControlPlane"]] = "HostedControlPlane"
    """Kind of this object: HostedControlPlane."""
    spec: HostedControlPlaneSpec
    """Desired state of the control plane."""
    status: HostedControlPlaneStatus | None = None
    """Observed state of the control plane."""
