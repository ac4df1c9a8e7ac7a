"""HostedCluster: a control plane plus the configuration shared by its NodePools."""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel, KubeObject, TypeMeta
from hcp.api.formats import DNS1123_LABEL, matches, pattern_check
from hcp.api.markers import Checked, Rule, cel_string, immutable, immutable_once_set, kube_schema
from hcp.api.meta import Condition, LocalObjectReference, Toleration
from hcp.api.names import MAX_CONTROL_PLANE_NAMESPACE
from hcp.api.resource import PrinterColumn, ResourceInfo
from hcp.api.v1beta1.clusterconfig import ClusterConfiguration
from hcp.api.v1beta1.clusteroptions import (
    CAPABILITIES_IMMUTABLE,
    DISABLE_MULTI_NETWORK_ONLY_WITH_OTHER,
    OVN_CONFIG_ONLY_WITH_OVN,
    AutoNode,
    Capabilities,
    ClusterAutoscaling,
    ImageContentSource,
    MonitoringSpec,
    OLMCatalogPlacement,
    OperatorConfiguration,
)
from hcp.api.v1beta1.clusterversion import ClusterVersionStatus
from hcp.api.v1beta1.common import (
    PAUSED_UNTIL,
    SECRET_ENCRYPTION_NOT_REMOVABLE,
    APIEndpoint,
    AvailabilityPolicy,
    ControlPlaneLabels,
    DNSSpec,
    Release,
    SecretEncryptionSpec,
)
from hcp.api.v1beta1.etcd import EtcdSpec, default_etcd
from hcp.api.v1beta1.etcdbackup import SNAPSHOT_URL_PATTERN
from hcp.api.v1beta1.groupversion import API_VERSION
from hcp.api.v1beta1.networking import SERVICES_REQUIRED, ClusterNetworking, ServiceList
from hcp.api.v1beta1.platform import PlatformSpec, PlatformStatus

DEFAULT_ISSUER_URL = "https://kubernetes.default.svc"
AUDIT_WEBHOOK_KUBECONFIG_KEY = "webhook-kubeconfig"
"""Data key of the spec.auditWebhook Secret that holds the webhook's kubeconfig (HyperShift's name)."""

MAX_NAME_LENGTH = MAX_CONTROL_PLANE_NAMESPACE - len("x-")
"""The longest HostedCluster name: its control-plane namespace `<namespace>-<name>` is a namespace name,
a DNS label of at most 63 characters, and the shortest namespace has one character. Whether a given
namespace leaves room for the name is for the operator to report; a CRD rule cannot see the namespace."""

NAME_IS_DNS_LABEL = Rule(
    f"self.metadata.name.matches({cel_string(DNS1123_LABEL)})",
    "HostedCluster name failed RFC1123 validation: a lowercase RFC 1123 label must consist of lower case "
    "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or "
    "'123-abc')",
)
NAME_LENGTH = Rule(
    f"self.metadata.name.size() <= {MAX_NAME_LENGTH}",
    f"HostedCluster name must be at most {MAX_NAME_LENGTH} characters, so that the control-plane namespace "
    "<namespace>-<name> can be a namespace name (at most 63 characters)",
)


SIGNING_KEY_NEEDS_ISSUER = Rule("has(self.issuerURL) || !has(self.serviceAccountSigningKey)",
                                "If serviceAccountSigningKey is set, issuerURL must be set")
KUBE_API_SERVER_DNS_NAME = r"^(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}|[a-zA-Z0-9-]+)$"


class PayloadArchType(StrEnum):
    """CPU architecture(s) of a release payload."""

    MULTI = "Multi"
    ARM64 = "ARM64"
    AMD64 = "AMD64"
    PPC64LE = "PPC64LE"
    S390X = "S390X"


class HostedClusterSpec(KubeModel):
    """Desired state of a HostedCluster."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                SERVICES_REQUIRED,
                Rule(
                    "self.services == oldSelf.services",
                    "Services is immutable. Changes might result in unpredictable and disruptive behavior.",
                ),
                SECRET_ENCRYPTION_NOT_REMOVABLE,
                SIGNING_KEY_NEEDS_ISSUER,
                DISABLE_MULTI_NETWORK_ONLY_WITH_OTHER,
                OVN_CONFIG_ONLY_WITH_OVN,
            ]
        )
    )

    release: Release
    """Release payload of all hosted cluster components; changing it rolls out the control plane."""
    control_plane_release: Release | None = None
    """Release of the components running on the management cluster only; spec.release when unset."""
    cluster_id: (
        Annotated[
            str,
            Field(min_length=36, max_length=36),
            pattern_check(
                "clusterID must be an RFC4122 UUID value (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hexadecimal digits)",
                "[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}",
            ),
        ]
        | None
    ) = Field(default=None, alias="clusterID", json_schema_extra=kube_schema(rules=[immutable_once_set("clusterID")]))
    """UUID identifying the cluster (e.g. in metrics); generated when unset, immutable once set."""
    infra_id: (
        Annotated[
            str,
            Field(min_length=1, max_length=253),
            pattern_check(
                "infraID must consist of lowercase alphanumeric characters or '-', start and end with an "
                "alphanumeric character, and be between 1 and 253 characters",
                DNS1123_LABEL,
            ),
        ]
        | None
    ) = Field(default=None, alias="infraID", json_schema_extra=kube_schema(rules=[immutable_once_set("infraID")]))
    """Unique name of the cluster's infrastructure resources; generated when unset, immutable once set."""
    channel: str | None = Field(default=None, min_length=1, max_length=100)
    """Update channel whose releases are offered in status.version.availableUpdates."""
    platform: PlatformSpec
    """Infrastructure provider of the cluster's machines."""
    controller_availability_policy: AvailabilityPolicy = Field(
        default=AvailabilityPolicy.HIGHLY_AVAILABLE,
        json_schema_extra=kube_schema(rules=[immutable("ControllerAvailabilityPolicy")]),
    )
    """Availability of control plane components such as kube-apiserver and etcd (3 replicas when HighlyAvailable)."""
    infrastructure_availability_policy: AvailabilityPolicy = AvailabilityPolicy.SINGLE_REPLICA
    """Availability of infrastructure components running on the hosted cluster's nodes."""
    dns: DNSSpec | None = None
    """DNS configuration of the hosted cluster's ingress."""
    networking: ClusterNetworking = ClusterNetworking()
    """Pod, Service and machine networks."""
    etcd: EtcdSpec = default_etcd()
    """The control plane's etcd; the management type cannot change once set."""
    services: ServiceList = Field(max_length=6, json_schema_extra=kube_schema(list_type="atomic"))
    """How each control plane service (APIServer, OAuthServer, Konnectivity, Ignition) is published."""
    pull_secret: LocalObjectReference
    """Secret with a .dockerconfigjson used by nodes to pull images; changing it rolls out all NodePools."""
    ssh_key: LocalObjectReference | None = None
    """Secret whose id_rsa.pub is authorized on every node; changing it rolls out all NodePools."""
    issuer_url: str = Field(
        default=DEFAULT_ISSUER_URL,
        alias="issuerURL",
        max_length=255,
        json_schema_extra=kube_schema(
            rules=[immutable("issuerURL"), Rule("isURL(self)", "issuerURL must be a valid absolute URL")]
        ),
    )
    """OIDC issuer of the ServiceAccount tokens the API server signs (--service-account-issuer)."""
    configuration: ClusterConfiguration | None = None
    """Configuration of the hosted cluster's components."""
    audit_webhook: LocalObjectReference | None = None
    """Secret (key "webhook-kubeconfig") with the kubeconfig of a webhook the API server sends audit events to."""
    secret_encryption: SecretEncryptionSpec | None = None
    """Encryption at rest of Secrets; cannot be removed once configured."""
    fips: bool | None = Field(default=None, json_schema_extra=kube_schema(rules=[immutable("fips")]))
    """Whether nodes run in FIPS mode."""
    paused_until: Annotated[str, Field(max_length=35), PAUSED_UNTIL] | None = None
    """Pause reconciliation until an RFC3339 time, or while "true"; remove the field to resume."""
    # maxProperties bounds the cost of the label rules; the size rule is HyperShift's, kept for its message.
    node_selector: ControlPlaneLabels | None = Field(
        default=None,
        json_schema_extra=kube_schema(rules=[Rule("size(self) <= 20", "nodeSelector map can have at most 20 entries")]),
    )
    """Node labels the control plane pods must be scheduled on."""
    tolerations: list[Toleration] | None = Field(default=None, max_length=25)
    """Tolerations added to the control plane pods."""
    labels: ControlPlaneLabels | None = None
    """Labels added to the control plane pods; changing them rolls out all of them."""

    # HyperShift's fields that hcp accepts and reports (condition SupportedConfiguration) without acting on
    # them; see hcp.api.v1beta1.clusteroptions. Names, types, defaults and rules are HyperShift's.
    update_service: str | None = Field(default=None, json_schema_extra=kube_schema(
        rules=[Rule("isURL(self)", "updateService must be a valid absolute URL")]))
    """Update service to ask for available updates (hcp offers the releases it has; reported when set)."""
    kube_api_server_dns_name: (
        Annotated[str, Checked(Rule(
            "self == \"\" || self.matches(" + cel_string(KUBE_API_SERVER_DNS_NAME) + ")",
            "kubeAPIServerDNSName must be a valid URL name (e.g., api.example.com)"),
            lambda name: name == "" or matches(KUBE_API_SERVER_DNS_NAME, name))]
        | None
    ) = Field(default=None, alias="kubeAPIServerDNSName", max_length=253)
    """DNS name for a custom kubeconfig served with spec.configuration.apiServer.servingCerts (reported when set)."""
    autoscaling: ClusterAutoscaling | None = None
    """Cluster-autoscaler settings for all NodePools (reported when set beyond the default)."""
    auto_node: AutoNode | None = None
    """Automatic node provisioning with Karpenter on AWS (reported when set)."""
    operator_configuration: OperatorConfiguration | None = None
    """Settings of OpenShift operators hcp does not run (reported when set)."""
    image_content_sources: list[ImageContentSource] | None = Field(default=None, max_length=255)
    """Image mirrors for the nodes (reported when set)."""
    additional_trust_bundle: LocalObjectReference | None = None
    """ConfigMap with a ca-bundle.crt added to the control plane and nodes (reported when set)."""
    service_account_signing_key: LocalObjectReference | None = None
    """Secret with the key that signs ServiceAccount tokens (hcp generates its own; reported when set)."""
    olm_catalog_placement: OLMCatalogPlacement = Field(
        default=OLMCatalogPlacement.MANAGEMENT, alias="olmCatalogPlacement",
        json_schema_extra=kube_schema(rules=[immutable("OLMCatalogPlacement")]))
    """Where OLM catalogs run (hcp runs no OLM; guest is reported)."""
    capabilities: Capabilities | None = Field(default_factory=Capabilities, json_schema_extra=kube_schema(
        rules=[CAPABILITIES_IMMUTABLE], keywords={"default": {}}))
    """Optional OpenShift components to leave out or add (hcp installs none; reported when set)."""
    monitoring: MonitoringSpec | None = None
    """Monitoring of the hosted cluster (reported when set)."""

    @model_validator(mode="after")
    def _hypershift_spec_rules(self) -> Self:
        """The spec-wide CEL rules above, decided in Python too (the transition ones only the API server sees)."""
        if self.service_account_signing_key is not None and self.issuer_url is None:
            raise ValueError(SIGNING_KEY_NEEDS_ISSUER.message)
        network = self.operator_configuration.cluster_network_operator if self.operator_configuration else None
        if network is not None and network.disable_multi_network and self.networking.network_type != "Other":
            raise ValueError(DISABLE_MULTI_NETWORK_ONLY_WITH_OTHER.message)
        if (network is not None and network.ovn_kubernetes_config is not None
                and self.networking.network_type != "OVNKubernetes"):
            raise ValueError(OVN_CONFIG_ONLY_WITH_OVN.message)
        return self


class HostedClusterStatus(KubeModel):
    """Observed state of a HostedCluster."""

    conditions: list[Condition] | None = Field(
        default=None,
        max_length=100,
        json_schema_extra=kube_schema(list_type="map", list_map_keys=["type"]),
    )
    """Latest observations of the cluster's state (Available, Progressing, Degraded, ...)."""
    version: ClusterVersionStatus | None = None
    """Release the cluster runs and the history of updates."""
    kubeconfig: LocalObjectReference | None = None
    """Secret (key "kubeconfig") with the admin kubeconfig of the hosted cluster."""
    kubeadmin_password: LocalObjectReference | None = None
    """Secret with the initial static admin credential of the hosted cluster."""
    ignition_endpoint: str | None = Field(default=None, max_length=1024)
    """Endpoint serving the bootstrap payload new nodes fetch."""
    control_plane_endpoint: APIEndpoint | None = None
    """Where clients reach the hosted API server; set once the infrastructure is ready."""
    oauth_callback_url_template: str | None = Field(default=None, alias="oauthCallbackURLTemplate", max_length=1024)
    """Callback URL for identity providers; replace [identity-provider-name] with the provider's name."""
    payload_arch: PayloadArchType | None = None
    """CPU architecture of spec.release.image."""
    platform: PlatformStatus | None = None
    """Platform-specific observed state."""
    last_successful_etcd_backup_url: (
        Annotated[
            str,
            Field(min_length=1, max_length=2048),
            pattern_check("lastSuccessfulEtcdBackupURL must be a valid URL with scheme https or s3",
                          SNAPSHOT_URL_PATTERN),
        ]
        | None
    ) = Field(default=None, alias="lastSuccessfulEtcdBackupURL")
    """URL of the most recent successful etcd backup, kept here because HCPEtcdBackup objects may be deleted."""
    # Written by the backup controller alone, under a field manager of its own (hcp.operator.etcdbackup).


class HostedCluster(KubeObject):
    """A hosted Kubernetes control plane and the configuration shared by its NodePools.

    Creating one yields a working control plane with no nodes; NodePools attach nodes to it.
    """

    resource: ClassVar[ResourceInfo] = ResourceInfo(
        plural="hostedclusters",
        singular="hostedcluster",
        short_names=("hc", "hcs"),
        printer_columns=(
            PrinterColumn("Version", "string", '.status.version.history[?(@.state=="Completed")].version', "Version"),
            PrinterColumn("KubeConfig", "string", ".status.kubeconfig.name", "KubeConfig Secret"),
            PrinterColumn("Progress", "string", '.status.version.history[?(@.state!="")].state', "Progress"),
            PrinterColumn("Available", "string", '.status.conditions[?(@.type=="Available")].status', "Available"),
            PrinterColumn(
                "Progressing", "string", '.status.conditions[?(@.type=="Progressing")].status', "Progressing"
            ),
            PrinterColumn("Message", "string", '.status.conditions[?(@.type=="Available")].message', "Message"),
        ),
    )
    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "!has(oldSelf.spec) || !has(oldSelf.spec.infraID) || (has(self.spec) && has(self.spec.infraID))",
                    "infraID cannot be removed once set",
                ),
                Rule(
                    "!has(oldSelf.spec) || !has(oldSelf.spec.clusterID) || (has(self.spec) && has(self.spec.clusterID))",
                    "clusterID cannot be removed once set",
                ),
                NAME_IS_DNS_LABEL,
                NAME_LENGTH,
            ]
        )
    )

    api_version: TypeMeta[Literal[API_VERSION]] = API_VERSION
    """Versioned schema of this object: hypershift.openshift.io/v1beta1."""
    kind: TypeMeta[Literal["HostedCluster"]] = "HostedCluster"
    """Kind of this object: HostedCluster."""
    spec: HostedClusterSpec
    """Desired state of the hosted cluster."""
    status: HostedClusterStatus | None = None
    """Observed state of the hosted cluster."""

    @model_validator(mode="after")
    def _check_name(self) -> Self:
        """The name is optional in Python (a model may be built before it is named), checked when given."""
        name = self.metadata.name
        if name is not None and not matches(DNS1123_LABEL, name):
            raise ValueError(NAME_IS_DNS_LABEL.message)
        if name is not None and len(name) > MAX_NAME_LENGTH:
            raise ValueError(NAME_LENGTH.message)
        return self
