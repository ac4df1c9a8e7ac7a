"""HostedCluster fields of HyperShift's v1beta1 API that hcp accepts but does not act on.

A HostedCluster written for HyperShift carries them (`hypershift create cluster --render` writes
`capabilities: {}`, `autoscaling: {}`, `olmCatalogPlacement: management`), so hcp models them with
HyperShift's names, types, defaults, validation rules and messages: such a manifest is accepted
unchanged, and a malformed value is refused as HyperShift refuses it. Without a model the API
server would prune them silently. hcp does not honour them; `unhonoured_fields` names those that
are set to something that would matter, and the HostedCluster controller reports them in the
SupportedConfiguration condition, so that nothing set is ignored without a word.

`unhonoured_fields` also covers HyperShift fields modelled elsewhere: OpenShift's config/v1 specs in
spec.configuration (openshiftconfig.py), spec.networking.apiServer (networking.py) and
spec.secretEncryption.kms (kms.py); and, of spec.configuration.apiServer.tlsSecurityProfile, which the
control plane's TLS servers honour, what one of them cannot take (tlsprofile.py).
"""

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.formats import pattern_check
from hcp.api.markers import Checked, Rule, immutable, kube_schema
from hcp.api.meta import LocalObjectReference
from hcp.api.types import Int32
from hcp.api.v1beta1.clusterconfig import (
    APIServerSpec, AuthenticationSpec, AuthenticationType, ClusterConfiguration, EncryptionType,
)
from hcp.api.v1beta1.common import SecretEncryptionType
from hcp.api.v1beta1.etcd import EtcdManagementType
from hcp.api.v1beta1.networking import DEFAULT_API_SERVER_PORT
from hcp.api.v1beta1.openshiftconfig import SchedulerProfile
from hcp.api.v1beta1.platform import PlatformType
from hcp.api.v1beta1.tlsprofile import ETCD, IGNITION, KONNECTIVITY, KUBERNETES, unhonoured

# --- spec.capabilities ------------------------------------------------------------------------


class OptionalCapability(StrEnum):
    """An optional OpenShift component that a cluster may be installed with or without."""

    IMAGE_REGISTRY = "ImageRegistry"
    OPENSHIFT_SAMPLES = "openshift-samples"
    INSIGHTS = "Insights"
    BAREMETAL = "baremetal"
    CONSOLE = "Console"
    NODE_TUNING = "NodeTuning"
    INGRESS = "Ingress"


CAPABILITIES_IMMUTABLE = Rule(
    "self == oldSelf", "Capabilities is immutable. Changes might result in unpredictable and disruptive behavior.")
BOTH_ENABLED_AND_DISABLED = Rule(
    "has(self.enabled) && has(self.disabled) ? self.enabled.all(e, !(e in self.disabled)) : true",
    "Capabilities can not be both enabled and disabled at once.")
INGRESS_NEEDS_CONSOLE = Rule(
    "!self.exists(cap, cap == 'Ingress') || self.exists(cap, cap == 'Console')",
    "Ingress capability can only be disabled if Console capability is also disabled")


class Capabilities(KubeModel):
    """OpenShift's optional components to install or leave out. hcp installs none of them, so the
    setting has nothing to act on; it is kept for HyperShift's manifests and reported when set."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[BOTH_ENABLED_AND_DISABLED]))

    enabled: list[OptionalCapability] | None = Field(default=None, max_length=25, json_schema_extra=kube_schema(
        list_type="atomic",
        rules=[Rule("self == oldSelf",
                    "Enabled is immutable. Changes might result in unpredictable and disruptive behavior.")]))
    """Capabilities to install; immutable."""
    disabled: (
        Annotated[list[OptionalCapability],
                  Checked(INGRESS_NEEDS_CONSOLE, lambda caps: "Ingress" not in caps or "Console" in caps)]
        | None
    ) = Field(default=None, max_length=25, json_schema_extra=kube_schema(
        list_type="atomic",
        rules=[Rule("self == oldSelf",
                    "Disabled is immutable. Changes might result in unpredictable and disruptive behavior.")]))
    """Capabilities to leave out; immutable."""

    @model_validator(mode="after")
    def _not_both(self) -> Self:
        if self.enabled is not None and self.disabled is not None and set(self.enabled) & set(self.disabled):
            raise ValueError(BOTH_ENABLED_AND_DISABLED.message)
        return self


# --- spec.autoscaling -------------------------------------------------------------------------


class ScalingType(StrEnum):
    """Whether the cluster autoscaler may remove nodes."""

    SCALE_UP_ONLY = "ScaleUpOnly"
    SCALE_UP_AND_SCALE_DOWN = "ScaleUpAndScaleDown"


class ExpanderString(StrEnum):
    """How the cluster autoscaler picks the NodePool to grow."""

    LEAST_WASTE = "LeastWaste"
    PRIORITY = "Priority"
    RANDOM = "Random"


SCALE_DOWN_ONLY_WITH_SCALE_DOWN = Rule(
    "self.scaling == 'ScaleUpAndScaleDown' ? true : !has(self.scaleDown)",
    "scaleDown can only be set when scaling is ScaleUpAndScaleDown")
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$"
BALANCING_LABELS = Rule(
    "self.all(l, l.matches('" + LABEL_KEY_PATTERN.replace("\\", "\\\\") + "'))",
    "Each balancingIgnoredLabels item must be a valid label key")
GO_DURATION = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
Seconds = Annotated[Int32, Field(ge=0, le=86400)]
Percent = Annotated[Int32, Field(ge=0, le=100)]


class ScaleDownConfig(KubeModel):
    """When the cluster autoscaler removes nodes."""

    delay_after_add_seconds: Seconds | None = None
    """Seconds after a scale-up before scale-down is considered."""
    delay_after_delete_seconds: Seconds | None = None
    """Seconds after a node deletion before scale-down is considered again."""
    delay_after_failure_seconds: Seconds | None = None
    """Seconds after a failed scale-down before it is tried again."""
    unneeded_duration_seconds: Seconds | None = None
    """Seconds a node must be unneeded before it is removed."""
    utilization_threshold_percent: Percent | None = None
    """Utilization below which a node may be removed."""


class ClusterAutoscaling(KubeModel):
    """HyperShift's cluster-autoscaler settings for all NodePools. hcp's NodePool autoscaling sizes each
    pool between its own min and max and reads none of these, so they are reported when set."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[SCALE_DOWN_ONLY_WITH_SCALE_DOWN]))

    scaling: ScalingType = ScalingType.SCALE_UP_AND_SCALE_DOWN
    """Whether nodes are only added, or also removed."""
    scale_down: ScaleDownConfig | None = None
    """Scale-down timing; only with scaling ScaleUpAndScaleDown."""
    max_nodes_total: Annotated[Int32, Field(ge=0)] | None = None
    """The most nodes all autoscaled NodePools may have together."""
    max_pod_grace_period: Annotated[Int32, Field(ge=0)] | None = None
    """Seconds a pod is given to stop before its node is removed."""
    max_node_provision_time: str | None = Field(default=None, max_length=100, pattern=GO_DURATION)
    """How long the autoscaler waits for a new node to register (a Go duration)."""
    max_free_difference_ratio_percent: Percent | None = None
    """Largest difference of free resources between NodePools considered similar."""
    pod_priority_threshold: Int32 | None = None
    """Pods of lower priority do not cause a scale-up and do not keep a node."""
    expanders: list[ExpanderString] | None = Field(default=None, min_length=1, max_length=3)
    """Order in which expanders choose the NodePool to grow."""
    balancing_ignored_labels: (
        Annotated[list[Annotated[str, Field(max_length=317)]], Field(max_length=64),
                  Checked(BALANCING_LABELS, lambda labels: all(re.match(LABEL_KEY_PATTERN, l) for l in labels))]
        | None
    ) = None
    """Node labels ignored when deciding whether NodePools are similar."""

    @model_validator(mode="after")
    def _scale_down_needs_scale_down(self) -> Self:
        if self.scaling != ScalingType.SCALE_UP_AND_SCALE_DOWN and self.scale_down is not None:
            raise ValueError(SCALE_DOWN_ONLY_WITH_SCALE_DOWN.message)
        return self


# --- spec.monitoring --------------------------------------------------------------------------


class MetricsSet(StrEnum):
    """Which control-plane metrics are collected."""

    TELEMETRY = "Telemetry"
    SRE = "SRE"
    ALL = "All"


class MetricsForwardingMode(StrEnum):
    """Whether control-plane metrics are forwarded to the hosted cluster's monitoring stack."""

    FORWARD = "Forward"
    NONE = "None"


class MetricsForwardingSpec(KubeModel):
    """Forwarding of control-plane metrics into the hosted cluster."""

    mode: MetricsForwardingMode
    """Forward, or None."""
    metrics_set: MetricsSet | None = None
    """Which metrics are forwarded."""


class MonitoringSpec(KubeModel):
    """Monitoring of the hosted cluster's control plane: which metrics are collected (honoured), and forwarding
    into the hosted cluster's monitoring stack (OpenShift's, which hcp does not run: reported as unsupported)."""

    model_config = ConfigDict(json_schema_extra=kube_schema(keywords={"minProperties": 1}))

    metrics_forwarding: MetricsForwardingSpec | None = None
    """Forwarding of control-plane metrics to the hosted cluster's monitoring stack."""
    metrics_set: MetricsSet | None = None
    """Which control-plane metrics are collected (docs 11.1); overrides the operator's METRICS_SET."""


# --- spec.operatorConfiguration ---------------------------------------------------------------

LooseObject = Annotated[
    dict[str, Any],
    Field(json_schema_extra=kube_schema(keywords={"type": "object", "x-kubernetes-preserve-unknown-fields": True})),
]
"""An object kept as written. Used for HyperShift's settings of OpenShift's ingress and OVN-Kubernetes
operators, which hcp runs neither of: their (large) schemas are not modelled field by field, so any
value HyperShift admits is kept unchanged, and reported."""

DISABLE_MULTI_NETWORK_ONLY_WITH_OTHER = Rule(
    "!has(self.operatorConfiguration) || !has(self.operatorConfiguration.clusterNetworkOperator) || "
    "!has(self.operatorConfiguration.clusterNetworkOperator.disableMultiNetwork) || "
    "!self.operatorConfiguration.clusterNetworkOperator.disableMultiNetwork || self.networking.networkType == 'Other'",
    "disableMultiNetwork can only be set to true when networkType is 'Other'")
OVN_CONFIG_ONLY_WITH_OVN = Rule(
    "self.networking.networkType == 'OVNKubernetes' || !has(self.operatorConfiguration) || "
    "!has(self.operatorConfiguration.clusterNetworkOperator) || "
    "!has(self.operatorConfiguration.clusterNetworkOperator.ovnKubernetesConfig)",
    "ovnKubernetesConfig is forbidden when networkType is not OVNKubernetes")


class ClusterNetworkOperatorSpec(KubeModel):
    """Settings of OpenShift's cluster network operator (not run by hcp)."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[Rule(
        "!has(oldSelf.ovnKubernetesConfig) || has(self.ovnKubernetesConfig)",
        "ovnKubernetesConfig is immutable once set and cannot be removed")]))

    disable_multi_network: bool | None = Field(default=False, json_schema_extra=kube_schema(
        rules=[immutable("disableMultiNetwork")]))
    """Whether Multus (additional pod networks) is left out; only with networkType Other."""
    ovn_kubernetes_config: LooseObject | None = Field(default=None, json_schema_extra=kube_schema(
        keywords={"minProperties": 1}))
    """OVN-Kubernetes settings (MTU, internal subnets); only with networkType OVNKubernetes."""


class IngressOperatorSpec(KubeModel):
    """Settings of OpenShift's ingress operator (not run by hcp)."""

    endpoint_publishing_strategy: LooseObject | None = None
    """How the default ingress controller is published."""


class OperatorConfiguration(KubeModel):
    """Settings of individual OpenShift operators of the hosted cluster."""

    cluster_network_operator: ClusterNetworkOperatorSpec | None = None
    """The cluster network operator."""
    ingress_operator: IngressOperatorSpec | None = None
    """The ingress operator."""


# --- spec.olmCatalogPlacement, spec.imageContentSources ---------------------------------------


class OLMCatalogPlacement(StrEnum):
    """Where OLM's catalog components run."""

    MANAGEMENT = "management"
    GUEST = "guest"


class ImageContentSource(KubeModel):
    """Mirrors that serve the images of a source repository."""

    source: str = Field(max_length=255)
    """Repository the mirrors serve."""
    mirrors: list[Annotated[str, Field(max_length=255)]] | None = Field(
        default=None, max_length=255, json_schema_extra=kube_schema(list_type="set"))
    """Mirror repositories of source."""


# --- spec.autoNode ----------------------------------------------------------------------------


class Provisioner(StrEnum):
    """The provisioner of automatic node management."""

    KARPENTER = "Karpenter"


class KarpenterPlatform(StrEnum):
    """The platform Karpenter provisions nodes on."""

    AWS = "AWS"


KARPENTER_ROLE_ARN = r"^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/.+$"
AWS_WITH_PLATFORM_AWS = Rule("self.platform == 'AWS' ? has(self.aws) : !has(self.aws)",
                             "aws is required when platform is AWS, and forbidden otherwise")
KARPENTER_WITH_KARPENTER = Rule("self.name == 'Karpenter' ? has(self.karpenter) : !has(self.karpenter)",
                                "karpenter is required when name is Karpenter, and forbidden otherwise")


class KarpenterAWSConfig(KubeModel):
    """Karpenter's settings on AWS."""

    role_arn: Annotated[str, Field(max_length=2048), pattern_check(
        "roleARN must be a valid AWS IAM role ARN (e.g. arn:aws:iam::123456789012:role/MyRole)",
        KARPENTER_ROLE_ARN)] = Field(alias="roleARN")
    """IAM role Karpenter assumes to provision EC2 instances."""


class KarpenterConfig(KubeModel):
    """Karpenter's platform and its settings."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[AWS_WITH_PLATFORM_AWS]))

    platform: KarpenterPlatform = Field(json_schema_extra=kube_schema(keywords={"maxLength": 100}))
    """The platform of the nodes (AWS)."""
    aws: KarpenterAWSConfig | None = None
    """Settings for platform AWS."""

    @model_validator(mode="after")
    def _aws_with_aws(self) -> Self:
        if (self.platform == KarpenterPlatform.AWS) != (self.aws is not None):
            raise ValueError(AWS_WITH_PLATFORM_AWS.message)
        return self


class ProvisionerConfig(KubeModel):
    """The provisioner and its settings."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[KARPENTER_WITH_KARPENTER]))

    name: Provisioner
    """The provisioner (Karpenter)."""
    karpenter: KarpenterConfig | None = None
    """Settings of Karpenter."""

    @model_validator(mode="after")
    def _karpenter_with_karpenter(self) -> Self:
        if (self.name == Provisioner.KARPENTER) != (self.karpenter is not None):
            raise ValueError(KARPENTER_WITH_KARPENTER.message)
        return self


class AutoNode(KubeModel):
    """HyperShift's automatic node provisioning (Karpenter on AWS). hcp's platforms are not AWS and hcp runs no
    Karpenter: NodePools size themselves (autoScaling.min/max), so the setting is reported when set."""

    provisioner_config: ProvisionerConfig
    """The provisioner of the nodes."""


def _asks_for_something(value: KubeModel | None) -> bool:
    """Whether a setting holds anything beyond its defaults and empty objects."""

    def pruned(node: Any) -> Any:
        if isinstance(node, dict):
            kept = {key: pruned(child) for key, child in node.items()}
            return {key: child for key, child in kept.items() if child not in ({}, None)}
        return node

    return value is not None and bool(pruned(value.model_dump(exclude_defaults=True, exclude_none=True)))


def _go_zero(node: Any) -> bool:
    """Whether a JSON value is Go's zero value once its zero members are dropped: None, "", False, 0, {} or []."""
    if isinstance(node, dict):
        return all(_go_zero(child) for child in node.values())
    if isinstance(node, list):
        return all(_go_zero(item) for item in node)
    return node in (None, "", False, 0)


def _sets_anything(value: KubeModel | None, *, ignore: tuple[str, ...] = ()) -> bool:
    """Whether an OpenShift config/v1 setting holds anything beyond Go's zero values (which OpenShift's types
    write for their fields without omitempty: `policy: {name: ""}`, `mastersSchedulable: false`), leaving out
    the fields named in `ignore` (their JSON names)."""
    if value is None:
        return False
    data = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return not _go_zero({key: child for key, child in data.items() if key not in ignore})


def unhonoured_fields(spec: Any) -> list[str]:
    """The HyperShift fields of a HostedClusterSpec that are set to something hcp would have to act on
    and does not, as `spec.<field>` paths (empty: every field set is honoured).

    Values that ask for nothing are not reported: `capabilities: {}`, `autoscaling` with only its
    default scaling, `olmCatalogPlacement: management` (HyperShift's defaults, which its renderer writes),
    `disableMultiNetwork: false`, `networking.apiServer.port: 6443`, the Go zero values OpenShift's config
    types write (`policy: {name: ""}`, `mastersSchedulable: false`) and scheduler profile LowNodeUtilization
    (upstream's default). Nor is `configuration.network.serviceNodePortRange`, which hcp honours.
    """
    fields = []
    if spec.capabilities is not None and (spec.capabilities.enabled or spec.capabilities.disabled):
        fields.append("spec.capabilities")
    if spec.kube_api_server_dns_name:
        fields.append("spec.kubeAPIServerDNSName")
    if spec.update_service:
        fields.append("spec.updateService")
    if _asks_for_something(spec.autoscaling):
        fields.append("spec.autoscaling")
    # metricsSet is honoured (the scrape configuration and ServiceMonitors, hcp.operator.monitoring); forwarding
    # into the hosted cluster's own monitoring stack is OpenShift's, which hcp does not run.
    if spec.monitoring is not None and _asks_for_something(spec.monitoring.metrics_forwarding):
        fields.append("spec.monitoring.metricsForwarding")
    if _asks_for_something(spec.operator_configuration):
        fields.append("spec.operatorConfiguration")
    if spec.olm_catalog_placement == OLMCatalogPlacement.GUEST:
        fields.append("spec.olmCatalogPlacement")
    if spec.image_content_sources:
        fields.append("spec.imageContentSources")
    if spec.additional_trust_bundle is not None and spec.additional_trust_bundle.name:
        fields.append("spec.additionalTrustBundle")
    if spec.service_account_signing_key is not None and spec.service_account_signing_key.name:
        fields.append("spec.serviceAccountSigningKey")
    fields += _unhonoured_api_server_networking(spec)
    if spec.auto_node is not None:
        fields.append("spec.autoNode")
    encryption = spec.secret_encryption
    if encryption is not None and (encryption.type == SecretEncryptionType.KMS or encryption.kms is not None):
        fields.append("spec.secretEncryption.kms")
    configuration = spec.configuration
    if configuration is not None:
        fields += _unhonoured_configuration(configuration)
        fields += _unhonoured_tls_profile(spec)
    return fields


def _unhonoured_tls_profile(spec: Any) -> list[str]:
    """What of spec.configuration.apiServer.tlsSecurityProfile the control plane's TLS servers that this cluster
    runs cannot take (tlsprofile.py): etcd when hcp runs it (managed), the ignition server where there are
    machines to join (not KWOK)."""
    api_server = spec.configuration.api_server
    if api_server is None:
        return []
    servers = [KUBERNETES]
    if spec.etcd.management_type == EtcdManagementType.MANAGED:
        servers.append(ETCD)
    servers.append(KONNECTIVITY)
    if spec.platform.type != PlatformType.KWOK:
        servers.append(IGNITION)
    return [f"spec.configuration.apiServer.tlsSecurityProfile {what}"
            for what in unhonoured(api_server.tls_security_profile, tuple(servers))]


def _unhonoured_api_server_networking(spec: Any) -> list[str]:
    """What of spec.networking.apiServer hcp does not act on: the node-local endpoint of HyperShift (an
    advertiseAddress, a port other than 6443) and allowedCIDRBlocks."""
    networking = spec.networking.api_server if spec.networking is not None else None
    if networking is None:
        return []
    path = "spec.networking.apiServer"
    fields = []
    if networking.advertise_address:
        fields.append(f"{path}.advertiseAddress")
    if networking.port is not None and networking.port != DEFAULT_API_SERVER_PORT:
        fields.append(f"{path}.port")
    if networking.allowed_cidr_blocks:
        fields.append(f"{path}.allowedCIDRBlocks")
    return fields


def _unhonoured_configuration(configuration: ClusterConfiguration) -> list[str]:
    """What of spec.configuration hcp does not act on (featureGate and network.serviceNodePortRange are
    honoured; apiServer and authentication in part)."""
    path = "spec.configuration"
    fields = []
    if configuration.api_server is not None:
        fields += _unhonoured_api_server(configuration.api_server)
    if configuration.authentication is not None:
        fields += _unhonoured_authentication(configuration.authentication)
    for name in ("image", "ingress"):
        if _sets_anything(getattr(configuration, name)):
            fields.append(f"{path}.{name}")
    network = configuration.network
    if network is not None:
        data = network.model_dump(mode="json", by_alias=True, exclude_none=True)
        fields += [f"{path}.network.{key}" for key, value in data.items()
                   if key != "serviceNodePortRange" and not _go_zero(value)]
    for name in ("oauth", "operatorhub", "proxy"):
        if _sets_anything(getattr(configuration, name)):
            fields.append(f"{path}.{name}")
    scheduler = configuration.scheduler
    if scheduler is not None and (
            _sets_anything(scheduler, ignore=("profile",))
            or scheduler.profile not in (None, SchedulerProfile.DEFAULT, SchedulerProfile.LOW_NODE_UTILIZATION)):
        fields.append(f"{path}.scheduler")
    return fields


def _unhonoured_api_server(api_server: APIServerSpec) -> list[str]:
    """What of spec.configuration.apiServer hcp does not act on: named serving certificates, a further client CA
    and OpenShift's encryption at rest (hcp's is spec.secretEncryption). audit, additionalCORSAllowedOrigins and
    tlsSecurityProfile are honoured (what of a TLS profile a server cannot take is reported apart, by
    `_unhonoured_tls_profile`); Go's zero values (`servingCerts: {}`, `clientCA: {name: ""}`,
    `encryption: {}`) and encryption type identity ask for nothing."""
    path = "spec.configuration.apiServer"
    fields = []
    if api_server.serving_certs is not None and api_server.serving_certs.named_certificates:
        fields.append(f"{path}.servingCerts.namedCertificates")
    if api_server.client_ca is not None and api_server.client_ca.name:
        fields.append(f"{path}.clientCA")
    encryption = api_server.encryption
    if encryption is not None and (encryption.type not in (None, EncryptionType.DEFAULT, EncryptionType.IDENTITY)
                                   or encryption.kms is not None):
        fields.append(f"{path}.encryption (hcp encrypts Secrets as spec.secretEncryption says)")
    return fields


def _unhonoured_authentication(authentication: AuthenticationSpec) -> list[str]:
    """What of spec.configuration.authentication hcp does not act on: OpenShift's OAuth server (type
    IntegratedOAuth asked for explicitly, its metadata, webhook token reviewers), the service account issuer
    set there rather than in spec.issuerURL, and the OIDC clients of OpenShift's console and CLI. type OIDC
    with oidcProviders is honoured; "" and None ask for nothing."""
    path = "spec.configuration.authentication"
    fields = []
    if authentication.type == AuthenticationType.INTEGRATED_OAUTH:
        fields.append(f"{path}.type IntegratedOAuth")
    if authentication.oauth_metadata is not None and authentication.oauth_metadata.name:
        fields.append(f"{path}.oauthMetadata")
    webhook = authentication.webhook_token_authenticator
    if webhook is not None and webhook.kube_config.name:
        fields.append(f"{path}.webhookTokenAuthenticator")
    if authentication.webhook_token_authenticators:
        fields.append(f"{path}.webhookTokenAuthenticators")
    if authentication.service_account_issuer:
        fields.append(f"{path}.serviceAccountIssuer")
    if any(provider.oidc_clients for provider in authentication.oidc_providers or ()):
        fields.append(f"{path}.oidcProviders[].oidcClients")
    if authentication.oidc_providers and authentication.type != AuthenticationType.OIDC:
        fields.append(f"{path}.oidcProviders without type OIDC")
    return fields


__all__ = [
    "AutoNode",
    "Capabilities",
    "ClusterAutoscaling",
    "ImageContentSource",
    "LocalObjectReference",
    "MonitoringSpec",
    "OLMCatalogPlacement",
    "OperatorConfiguration",
    "unhonoured_fields",
]
