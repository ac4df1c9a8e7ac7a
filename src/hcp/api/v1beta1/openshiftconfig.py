"""OpenShift's config.openshift.io/v1 specs that HyperShift embeds in spec.configuration: image, ingress,
network, oauth, operatorhub, proxy and scheduler.

They configure OpenShift components hcp does not run (the image registry and image streams, the ingress
operator and its routes, OpenShift's network and OAuth servers, OLM, the machine config of the nodes),
or OpenShift's own scheduling conventions. hcp models them field by field with OpenShift's names, types,
enums, bounds, rules and messages, as HyperShift's CRD has them, so that a HostedCluster written for
HyperShift is admitted unchanged and a malformed value is refused as HyperShift refuses it. What hcp
does with each is in its docstring: one field, network.serviceNodePortRange, is honoured (the hosted
kube-apiserver's --service-node-port-range); the others are reported by `unhonoured_fields` when they ask
for something (Go's zero values, which OpenShift's types write for fields without omitempty, ask for
nothing).
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.formats import matches
from hcp.api.markers import Checked, Rule, cel_string, kube_schema
from hcp.api.types import Int32, Int64, parse_duration


class ConfigMapNameReference(KubeModel):
    """A ConfigMap by name (config/v1 ConfigMapNameReference); "" names none."""

    name: str
    """Name of the ConfigMap, in the HostedCluster's namespace."""


class SecretNameReference(KubeModel):
    """A Secret by name (config/v1 SecretNameReference); "" names none."""

    name: str
    """Name of the Secret, in the HostedCluster's namespace."""


# --- image --------------------------------------------------------------------------------------

REGISTRY_SCOPE = (
    r"^\*(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+$|"
    r"^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*"
    r"[a-zA-Z0-9]))+)?(?::[0-9]+)?)(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$"
)
"""A registry scope, hostname[:port][/path] or *.hostname, without a tag or digest (OpenShift's expression)."""
REGISTRY_SCOPE_RULE = Rule(
    f"self.matches({cel_string(REGISTRY_SCOPE)})",
    "each registry must be a valid hostname[:port][/path] or wildcard *.hostname format without tags or digests",
)
# No character class of the expression admits a newline, which Python's `$` (unlike RE2's) would let end the text.
RegistryScope = Annotated[str, Field(min_length=1, max_length=256),
                          Checked(REGISTRY_SCOPE_RULE, lambda text: "\n" not in text and matches(REGISTRY_SCOPE, text))]
RegistryScopes = Annotated[list[RegistryScope], Field(max_length=1024, json_schema_extra=kube_schema(list_type="atomic"))]
ONE_OF_BLOCKED_OR_ALLOWED = Rule("has(self.blockedRegistries) ? !has(self.allowedRegistries) : true",
                                 "Only one of blockedRegistries or allowedRegistries may be set")


class RegistryLocation(KubeModel):
    """A registry image streams may import from."""

    domain_name: str | None = None
    """Domain of the registry, with its port when not 80 or 443; may hold wildcards."""
    insecure: bool | None = None
    """Whether the registry is reached over plain HTTP."""


class RegistrySources(KubeModel):
    """How the container runtime treats registries (OpenShift writes it into the nodes' registries.conf)."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[ONE_OF_BLOCKED_OR_ALLOWED]))

    insecure_registries: RegistryScopes | None = None
    """Registries without valid TLS."""
    blocked_registries: RegistryScopes | None = None
    """Registries image pulls and imports are refused from; not with allowedRegistries."""
    allowed_registries: RegistryScopes | None = None
    """The only registries image pulls and imports are allowed from; not with blockedRegistries."""
    container_runtime_search_registries: list[str] | None = Field(
        default=None, min_length=1, json_schema_extra=kube_schema(list_type="set", keywords={"format": "hostname"}))
    """Registries searched for short image names."""

    @model_validator(mode="after")
    def _one_of_blocked_or_allowed(self) -> Self:
        if self.blocked_registries is not None and self.allowed_registries is not None:
            raise ValueError(ONE_OF_BLOCKED_OR_ALLOWED.message)
        return self


class ImageSpec(KubeModel):
    """Image policy (config/v1 ImageSpec): registries for image stream imports and for the nodes' container
    runtime, extra registry CAs, the registry's external names. hcp runs neither OpenShift's image registry nor
    image streams, and does not write the nodes' registries.conf: reported when set."""

    allowed_registries_for_import: list[RegistryLocation] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Registries image streams may import from."""
    external_registry_hostnames: list[str] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """External names of the integrated image registry."""
    additional_trusted_ca: ConfigMapNameReference | None = Field(default=None, alias="additionalTrustedCA")
    """ConfigMap of CAs (a key per registry host) trusted for registries."""
    registry_sources: RegistrySources | None = None
    """How the container runtime treats registries."""


# --- ingress ------------------------------------------------------------------------------------

ROUTE_HOSTNAME = (
    r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}"
    r"[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$|^(([a-z0-9][-a-z0-9]{0,61}[a-z0-9]|[a-z0-9]{1,63})"
    r"[\.]){0,}([a-z0-9][-a-z0-9]{0,61}[a-z0-9]|[a-z0-9]{1,63})$"
)
"""config/v1 Hostname (an OpenAPI pattern, as OpenShift's; pydantic's engine has RE2's Unicode classes)."""


class ComponentRouteSpec(KubeModel):
    """A custom hostname and serving certificate for the route of an OpenShift component."""

    namespace: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    """Namespace of the route."""
    name: str = Field(min_length=1, max_length=256)
    """Name of the route."""
    hostname: str = Field(pattern=ROUTE_HOSTNAME)
    """Hostname the route is served on."""
    serving_cert_key_pair_secret: SecretNameReference | None = None
    """Secret (kubernetes.io/tls) with the certificate served for that hostname."""


class LabelSelectorRequirement(KubeModel):
    """metav1.LabelSelectorRequirement, as OpenShift's schema has it (no rules)."""

    key: str
    operator: str
    values: list[str] | None = Field(default=None, json_schema_extra=kube_schema(list_type="atomic"))


class LabelSelector(KubeModel):
    """metav1.LabelSelector, as OpenShift's schema has it (no rules)."""

    model_config = ConfigDict(json_schema_extra=kube_schema(map_type="atomic"))

    match_expressions: list[LabelSelectorRequirement] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    match_labels: dict[str, str] | None = None


MaxAgeSeconds = Annotated[Int32, Field(ge=0, le=2147483647)]


class MaxAgePolicy(KubeModel):
    """Bounds of a route's HSTS max-age."""

    largest_max_age: MaxAgeSeconds | None = None
    smallest_max_age: MaxAgeSeconds | None = None


class PreloadPolicy(StrEnum):
    REQUIRE_PRELOAD = "RequirePreload"
    REQUIRE_NO_PRELOAD = "RequireNoPreload"
    NO_OPINION = "NoOpinion"


class IncludeSubDomainsPolicy(StrEnum):
    REQUIRE_INCLUDE_SUB_DOMAINS = "RequireIncludeSubDomains"
    REQUIRE_NO_INCLUDE_SUB_DOMAINS = "RequireNoIncludeSubDomains"
    NO_OPINION = "NoOpinion"


class RequiredHSTSPolicy(KubeModel):
    """An HSTS policy routes of matching domains must carry."""

    namespace_selector: LabelSelector | None = None
    """Namespaces whose routes the policy applies to."""
    domain_patterns: list[str] = Field(min_length=1)
    """Domains of the routes the policy applies to."""
    max_age: MaxAgePolicy | None = None
    """Bounds of max-age."""
    preload_policy: PreloadPolicy | None = None
    include_sub_domains_policy: IncludeSubDomainsPolicy | None = None


class OpenShiftPlatformType(StrEnum):
    """config/v1 PlatformType: the platforms OpenShift's ingress load balancer settings name."""

    DEFAULT = ""
    AWS = "AWS"
    AZURE = "Azure"
    BARE_METAL = "BareMetal"
    GCP = "GCP"
    LIBVIRT = "Libvirt"
    OPENSTACK = "OpenStack"
    NONE = "None"
    VSPHERE = "VSphere"
    OVIRT = "oVirt"
    IBM_CLOUD = "IBMCloud"
    KUBEVIRT = "KubeVirt"
    EQUINIX_METAL = "EquinixMetal"
    POWERVS = "PowerVS"
    ALIBABA_CLOUD = "AlibabaCloud"
    NUTANIX = "Nutanix"
    EXTERNAL = "External"


class AWSLBType(StrEnum):
    NLB = "NLB"
    CLASSIC = "Classic"


class AWSIngressSpec(KubeModel):
    """The AWS load balancer of the default ingress controller."""

    type: AWSLBType
    """NLB or Classic."""


class IngressPlatformSpec(KubeModel):
    """The platform of the ingress load balancer, and its settings."""

    type: OpenShiftPlatformType | None = None
    aws: AWSIngressSpec | None = None


class IngressLoadBalancer(KubeModel):
    """The default ingress controller's load balancer."""

    platform: IngressPlatformSpec | None = None


class IngressSpec(KubeModel):
    """Cluster ingress (config/v1 IngressSpec): the domain of routes, custom component routes, HSTS policies, the
    load balancer. hcp runs no ingress operator or router: reported when set."""

    domain: str | None = Field(default=None, json_schema_extra=kube_schema(
        rules=[Rule("self == oldSelf", "domain is immutable once set")]))
    """Default domain of routes; immutable once set."""
    apps_domain: str | None = None
    """Alternative default domain of user routes."""
    component_routes: list[ComponentRouteSpec] | None = Field(default=None, max_length=250, json_schema_extra=kube_schema(
        list_type="map", list_map_keys=["namespace", "name"]))
    """Custom hostnames and certificates of OpenShift components' routes."""
    required_hsts_policies: list[RequiredHSTSPolicy] | None = Field(default=None, alias="requiredHSTSPolicies")
    """HSTS policies routes must carry."""
    load_balancer: IngressLoadBalancer | None = None
    """The default ingress controller's load balancer."""


# --- network ------------------------------------------------------------------------------------

SERVICE_NODE_PORT_RANGE = (
    r"^([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])-"
    r"([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
)


def node_port_range(text: str) -> tuple[int, int]:
    """The first and last port of a serviceNodePortRange such as "30000-32767" (which the pattern admitted)."""
    first, _, last = text.partition("-")
    return int(first), int(last)


class OpenShiftClusterNetworkEntry(KubeModel):
    """config/v1 ClusterNetworkEntry."""

    cidr: str | None = None
    host_prefix: Int32 | None = Field(default=None, ge=0)


class ExternalIPPolicy(KubeModel):
    """Which external IPs Services may ask for."""

    allowed_cidrs: list[str] | None = Field(default=None, alias="allowedCIDRs",
                                            json_schema_extra=kube_schema(list_type="atomic"))
    rejected_cidrs: list[str] | None = Field(default=None, alias="rejectedCIDRs",
                                             json_schema_extra=kube_schema(list_type="atomic"))


class ExternalIPConfig(KubeModel):
    """Services' external IPs (OpenShift's ExternalIPRanger admission plugin and CNO)."""

    policy: ExternalIPPolicy | None = None
    auto_assign_cidrs: list[str] | None = Field(default=None, alias="autoAssignCIDRs",
                                                json_schema_extra=kube_schema(list_type="atomic"))


class NetworkDiagnosticsMode(StrEnum):
    DEFAULT = ""
    ALL = "All"
    DISABLED = "Disabled"


class PlacementToleration(KubeModel):
    """corev1.Toleration, as OpenShift's schema has it (no rules)."""

    effect: str | None = None
    key: str | None = None
    operator: str | None = None
    toleration_seconds: Int64 | None = None
    value: str | None = None


class NetworkDiagnosticsPlacement(KubeModel):
    """Where the network check pods of OpenShift's network diagnostics run."""

    node_selector: dict[str, str] | None = None
    tolerations: list[PlacementToleration] | None = Field(default=None, json_schema_extra=kube_schema(
        list_type="atomic"))


DIAGNOSTICS_PLACEMENT_NOT_WHEN_DISABLED = Rule(
    "!has(self.networkDiagnostics) || !has(self.networkDiagnostics.mode) || self.networkDiagnostics.mode!='Disabled' "
    "|| !has(self.networkDiagnostics.sourcePlacement) && !has(self.networkDiagnostics.targetPlacement)",
    "cannot set networkDiagnostics.sourcePlacement and networkDiagnostics.targetPlacement when "
    "networkDiagnostics.mode is Disabled",
)


class NetworkDiagnostics(KubeModel):
    """OpenShift's network connectivity checks."""

    mode: NetworkDiagnosticsMode | None = None
    source_placement: NetworkDiagnosticsPlacement | None = None
    target_placement: NetworkDiagnosticsPlacement | None = None


class NetworkSpec(KubeModel):
    """Cluster network (config/v1 NetworkSpec). serviceNodePortRange is honoured: the hosted kube-apiserver
    allocates node ports from it. clusterNetwork, serviceNetwork and networkType are spec.networking's to say,
    as in HyperShift (which overwrites them from there); externalIP (OpenShift's admission plugin) and
    networkDiagnostics (OpenShift's network operator) are OpenShift's: all of these are reported when set."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[DIAGNOSTICS_PLACEMENT_NOT_WHEN_DISABLED]))

    cluster_network: list[OpenShiftClusterNetworkEntry] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Pod networks; spec.networking.clusterNetwork decides."""
    service_network: list[str] | None = Field(default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Service networks; spec.networking.serviceNetwork decides."""
    network_type: str | None = None
    """Network plugin; spec.networking.networkType decides."""
    external_ip: ExternalIPConfig | None = Field(default=None, alias="externalIP")
    """Policy of Services' external IPs (not honoured)."""
    service_node_port_range: str | None = Field(default=None, pattern=SERVICE_NODE_PORT_RANGE)
    """Ports NodePort Services are given, as first-last (30000-32767 when unset): the hosted kube-apiserver's
    --service-node-port-range. The first port must not be above the last."""
    network_diagnostics: NetworkDiagnostics | None = None
    """OpenShift's network diagnostics (not honoured)."""

    @model_validator(mode="after")
    def _no_placement_when_disabled(self) -> Self:
        diagnostics = self.network_diagnostics
        if (diagnostics is not None and diagnostics.mode == NetworkDiagnosticsMode.DISABLED
                and (diagnostics.source_placement is not None or diagnostics.target_placement is not None)):
            raise ValueError(DIAGNOSTICS_PLACEMENT_NOT_WHEN_DISABLED.message)
        return self


# --- oauth --------------------------------------------------------------------------------------


class BasicAuthIdentityProvider(KubeModel):
    url: str | None = None
    ca: ConfigMapNameReference | None = None
    tls_client_cert: SecretNameReference | None = None
    tls_client_key: SecretNameReference | None = None


class GitHubIdentityProvider(KubeModel):
    client_id: str | None = Field(default=None, alias="clientID")
    client_secret: SecretNameReference | None = None
    organizations: list[str] | None = None
    teams: list[str] | None = None
    hostname: str | None = None
    ca: ConfigMapNameReference | None = None


class GitLabIdentityProvider(KubeModel):
    client_id: str | None = Field(default=None, alias="clientID")
    client_secret: SecretNameReference | None = None
    url: str | None = None
    ca: ConfigMapNameReference | None = None


class GoogleIdentityProvider(KubeModel):
    client_id: str | None = Field(default=None, alias="clientID")
    client_secret: SecretNameReference | None = None
    hosted_domain: str | None = None


class HTPasswdIdentityProvider(KubeModel):
    file_data: SecretNameReference | None = None


class KeystoneIdentityProvider(KubeModel):
    url: str | None = None
    ca: ConfigMapNameReference | None = None
    tls_client_cert: SecretNameReference | None = None
    tls_client_key: SecretNameReference | None = None
    domain_name: str | None = None


class LDAPAttributeMapping(KubeModel):
    id: list[str] | None = None
    preferred_username: list[str] | None = None
    name: list[str] | None = None
    email: list[str] | None = None


class LDAPIdentityProvider(KubeModel):
    url: str | None = None
    bind_dn: str | None = Field(default=None, alias="bindDN")
    bind_password: SecretNameReference | None = None
    insecure: bool | None = None
    ca: ConfigMapNameReference | None = None
    attributes: LDAPAttributeMapping | None = None


_AtomicStrings = Annotated[list[str], Field(json_schema_extra=kube_schema(list_type="atomic"))]


class OpenIDClaims(KubeModel):
    preferred_username: _AtomicStrings | None = None
    name: _AtomicStrings | None = None
    email: _AtomicStrings | None = None
    groups: Annotated[list[Annotated[str, Field(min_length=1)]],
                      Field(json_schema_extra=kube_schema(list_type="atomic"))] | None = None


class OpenIDIdentityProvider(KubeModel):
    client_id: str | None = Field(default=None, alias="clientID")
    client_secret: SecretNameReference | None = None
    ca: ConfigMapNameReference | None = None
    extra_scopes: list[str] | None = None
    extra_authorize_parameters: dict[str, str] | None = None
    issuer: str | None = None
    claims: OpenIDClaims | None = None


class RequestHeaderIdentityProvider(KubeModel):
    login_url: str | None = Field(default=None, alias="loginURL")
    challenge_url: str | None = Field(default=None, alias="challengeURL")
    ca: ConfigMapNameReference | None = None
    client_common_names: list[str] | None = None
    headers: list[str] | None = None
    preferred_username_headers: list[str] | None = None
    name_headers: list[str] | None = None
    email_headers: list[str] | None = None


class IdentityProvider(KubeModel):
    """A login method of OpenShift's OAuth server: its name, how identities map to users, its type, and the
    settings of that type (the one whose name the type gives)."""

    name: str | None = None
    mapping_method: str | None = None
    type: str | None = None
    basic_auth: BasicAuthIdentityProvider | None = None
    github: GitHubIdentityProvider | None = None
    gitlab: GitLabIdentityProvider | None = None
    google: GoogleIdentityProvider | None = None
    htpasswd: HTPasswdIdentityProvider | None = None
    keystone: KeystoneIdentityProvider | None = None
    ldap: LDAPIdentityProvider | None = None
    open_id: OpenIDIdentityProvider | None = Field(default=None, alias="openID")
    request_header: RequestHeaderIdentityProvider | None = None


class TokenConfig(KubeModel):
    """Lifetimes of the OAuth server's tokens."""

    access_token_max_age_seconds: Int32 | None = None
    access_token_inactivity_timeout_seconds: Int32 | None = None
    access_token_inactivity_timeout: str | None = None
    """A Go duration; at least 300 seconds (HyperShift's rule)."""


class OAuthTemplates(KubeModel):
    """Secrets with custom pages of the OAuth server."""

    login: SecretNameReference | None = None
    provider_selection: SecretNameReference | None = None
    error: SecretNameReference | None = None


MIN_INACTIVITY_TIMEOUT_SECONDS = 300
INACTIVITY_TIMEOUT_AT_LEAST_300 = Rule(
    "!has(self.tokenConfig) || !has(self.tokenConfig.accessTokenInactivityTimeout) || "
    "duration(self.tokenConfig.accessTokenInactivityTimeout).getSeconds() >= 300",
    "spec.configuration.oauth.tokenConfig.accessTokenInactivityTimeout minimum acceptable token timeout value is "
    "300 seconds",
)


class OAuthSpec(KubeModel):
    """OpenShift's integrated OAuth server (config/v1 OAuthSpec): identity providers, token lifetimes, login pages.
    hcp runs no OAuth server (identities come from an OIDC provider, spec.configuration.authentication):
    reported when set. The identity providers are modelled with OpenShift's schema, which checks types only."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[INACTIVITY_TIMEOUT_AT_LEAST_300]))

    identity_providers: list[IdentityProvider] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """How users log in."""
    token_config: TokenConfig | None = None
    """Lifetimes of tokens."""
    templates: OAuthTemplates | None = None
    """Custom login, provider selection and error pages."""

    @model_validator(mode="after")
    def _inactivity_timeout_at_least_300(self) -> Self:
        timeout = self.token_config.access_token_inactivity_timeout if self.token_config else None
        if timeout is None:
            return self
        try:
            seconds = int(parse_duration(timeout).total_seconds())  # CEL's getSeconds() truncates toward zero
        except ValueError as error:
            raise ValueError(f"{INACTIVITY_TIMEOUT_AT_LEAST_300.message}: {error}") from None
        if seconds < MIN_INACTIVITY_TIMEOUT_SECONDS:
            raise ValueError(INACTIVITY_TIMEOUT_AT_LEAST_300.message)
        return self


# --- operatorhub --------------------------------------------------------------------------------


class HubSource(KubeModel):
    """A default catalog source of OLM."""

    name: str | None = Field(default=None, min_length=1, max_length=253)
    disabled: bool | None = None


class OperatorHubSpec(KubeModel):
    """OLM's default catalog sources (config/v1 OperatorHubSpec). hcp runs no OLM: reported when set."""

    disable_all_default_sources: bool | None = None
    """Whether every default catalog source is disabled."""
    sources: list[HubSource] | None = None
    """Default catalog sources switched individually."""


# --- proxy --------------------------------------------------------------------------------------


class ProxySpec(KubeModel):
    """The cluster-wide egress proxy (config/v1 ProxySpec), which OpenShift gives its components and writes into
    the nodes' machine config. hcp configures neither its control plane nor the nodes with a proxy: reported
    when set."""

    http_proxy: str | None = None
    """Proxy of HTTP requests."""
    https_proxy: str | None = None
    """Proxy of HTTPS requests."""
    no_proxy: str | None = None
    """Comma-separated destinations (domains, CIDRs) reached without the proxy."""
    readiness_endpoints: list[str] | None = None
    """URLs checked to tell whether the proxy works."""
    trusted_ca: ConfigMapNameReference | None = Field(default=None, alias="trustedCA")
    """ConfigMap (key ca-bundle.crt) of CAs trusted for proxied HTTPS."""


# --- scheduler ----------------------------------------------------------------------------------


class SchedulerProfile(StrEnum):
    """OpenShift's scheduling profiles."""

    DEFAULT = ""
    LOW_NODE_UTILIZATION = "LowNodeUtilization"
    HIGH_NODE_UTILIZATION = "HighNodeUtilization"
    NO_SCORING = "NoScoring"


class DRAEnablement(StrEnum):
    DEFAULT = ""
    ENABLED = "Enabled"
    DISABLED = "Disabled"


class ProfileCustomizations(KubeModel):
    """Changes to the scheduling profile."""

    dynamic_resource_allocation: DRAEnablement | None = None


class SchedulerSpec(KubeModel):
    """The scheduler (config/v1 SchedulerSpec). hcp runs kube-scheduler with upstream's default profile (what
    OpenShift calls LowNodeUtilization) and does not apply OpenShift's other profiles, its project default node
    selector (the openshift.io/node-selector convention) or the deprecated policy; a hosted cluster has no
    control-plane nodes for mastersSchedulable to concern. Reported when any asks for something (profile
    LowNodeUtilization and Go's zero values do not)."""

    policy: ConfigMapNameReference | None = None
    """Deprecated scheduler policy ConfigMap."""
    profile: SchedulerProfile | None = None
    """Scheduling profile: LowNodeUtilization (the default), HighNodeUtilization or NoScoring."""
    profile_customizations: ProfileCustomizations | None = None
    """Changes to the profile."""
    default_node_selector: str | None = None
    """Node selector of pods in projects without one of their own (OpenShift's project convention)."""
    masters_schedulable: bool | None = None
    """Whether control-plane nodes take workloads; a hosted cluster has none."""
