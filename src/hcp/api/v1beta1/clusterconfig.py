"""Configuration of the hosted cluster's components (a subset of OpenShift's config/v1 specs)."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.markers import Rule, kube_schema
from hcp.api.v1beta1.openshiftconfig import (
    ConfigMapNameReference,
    ImageSpec,
    IngressSpec,
    NetworkSpec,
    OAuthSpec,
    OperatorHubSpec,
    ProxySpec,
    SchedulerSpec,
    SecretNameReference,
)

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


class AuthenticationType(StrEnum):
    """Who answers login attempts (config/v1 AuthenticationType); "" is OpenShift's default, IntegratedOAuth."""

    NONE = "None"
    INTEGRATED_OAUTH = "IntegratedOAuth"
    """OpenShift's OAuth server, which hcp does not run (reported by SupportedConfiguration when set)."""
    OIDC = "OIDC"
    """An external OIDC provider whose tokens the kube-apiserver itself validates (oidcProviders)."""
    DEFAULT = ""


class WebhookTokenAuthenticator(KubeModel):
    """A remote token reviewer (config/v1 WebhookTokenAuthenticator); hcp does not configure it."""

    kube_config: SecretNameReference
    """Secret with the kubeconfig (key kubeConfig) of the webhook."""


class DeprecatedWebhookTokenAuthenticator(KubeModel):
    """OpenShift's deprecated form of webhookTokenAuthenticator; without effect there too."""

    kube_config: SecretNameReference | None = None
    """Secret with the kubeconfig of the webhook."""


class TokenIssuer(KubeModel):
    """How the kube-apiserver reaches the provider and which tokens of it are for this cluster."""

    issuer_url: str = Field(alias="issuerURL", pattern=r"^https:\/\/[^\s]")
    """URL of the provider; must equal the tokens' `iss` claim and serve /.well-known/openid-configuration."""
    audiences: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, max_length=10, json_schema_extra=kube_schema(list_type="set"))
    """Acceptable audiences: at least one must be in the token's `aud` claim."""
    issuer_certificate_authority: ConfigMapNameReference | None = Field(
        default=None, alias="issuerCertificateAuthority")
    """ConfigMap (key ca-bundle.crt) of the CAs the kube-apiserver verifies the provider's TLS with; unset or
    name "": the system trust."""


class UsernamePrefixPolicy(StrEnum):
    """How the username is prefixed (config/v1 UsernamePrefixPolicy)."""

    NO_OPINION = ""
    """The platform's choice: `<issuerURL>#` unless the claim is `email`."""
    NO_PREFIX = "NoPrefix"
    PREFIX = "Prefix"
    """prefix.prefixString is prepended."""


class UsernamePrefix(KubeModel):
    """The string prepended to usernames with prefixPolicy Prefix."""

    prefix_string: str = Field(min_length=1)
    """The prefix, e.g. "oidc:"."""


USERNAME_PREFIX_RULE = Rule(
    "has(self.prefixPolicy) && self.prefixPolicy == 'Prefix' ? (has(self.prefix) && size(self.prefix.prefixString) > 0)"
    " : !has(self.prefix)",
    "prefix must be set if prefixPolicy is 'Prefix', but must remain unset otherwise",
)


class UsernameClaimMapping(KubeModel):
    """Which claim is the username, and its prefix."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[USERNAME_PREFIX_RULE]))

    claim: str
    """The JWT claim whose value is the username (e.g. sub, email, preferred_username)."""
    prefix_policy: UsernamePrefixPolicy | None = None
    """Prefix, NoPrefix or "" (the platform's default: `<issuerURL>#` unless the claim is email)."""
    prefix: UsernamePrefix | None = None
    """The prefix, with prefixPolicy Prefix only."""

    @model_validator(mode="after")
    def _prefix_with_policy_prefix(self) -> Self:
        if (self.prefix_policy == UsernamePrefixPolicy.PREFIX) != (self.prefix is not None):
            raise ValueError(USERNAME_PREFIX_RULE.message)
        return self


class PrefixedClaimMapping(KubeModel):
    """A claim mapped with an optional prefix (config/v1 PrefixedClaimMapping): here the groups."""

    claim: str
    """The JWT claim holding the groups (a string or a list of strings)."""
    prefix: str | None = None
    """Prepended to each group; none when unset or ""."""


class TokenClaimMappings(KubeModel):
    """How a token's claims become the user the kube-apiserver authorizes."""

    username: UsernameClaimMapping | None = None
    """The username mapping; its claim is required to render."""
    groups: PrefixedClaimMapping | None = None
    """The groups mapping; no groups from the token when unset or its claim is ""."""


class TokenValidationRuleType(StrEnum):
    REQUIRED_CLAIM = "RequiredClaim"


class TokenRequiredClaim(KubeModel):
    """A claim a token must carry with exactly this value."""

    claim: str = Field(min_length=1)
    """Name of the claim (a string claim)."""
    required_value: str = Field(min_length=1)
    """The value it must have."""


class TokenClaimValidationRule(KubeModel):
    """A rule every token of the provider must pass (config/v1 TokenClaimValidationRule)."""

    type: TokenValidationRuleType = TokenValidationRuleType.REQUIRED_CLAIM
    """The kind of rule; RequiredClaim, the only one."""
    required_claim: TokenRequiredClaim | None = None
    """The claim and value required."""


class OIDCClientConfig(KubeModel):
    """How an OpenShift console or CLI component requests tokens; hcp runs no such component."""

    component_name: str = Field(min_length=1, max_length=256)
    component_namespace: str = Field(min_length=1, max_length=63)
    client_id: str = Field(min_length=1, alias="clientID")
    client_secret: SecretNameReference | None = None
    extra_scopes: list[str] | None = Field(default=None, json_schema_extra=kube_schema(list_type="set"))


class OIDCProvider(KubeModel):
    """An OIDC identity provider whose tokens the hosted kube-apiserver accepts."""

    name: str = Field(min_length=1)
    """Identifier of the provider; no effect on validation."""
    issuer: TokenIssuer
    """The issuer: URL, audiences, CA."""
    oidc_clients: list[OIDCClientConfig] | None = Field(
        default=None, alias="oidcClients", max_length=20,
        json_schema_extra=kube_schema(list_type="map", list_map_keys=["componentNamespace", "componentName"]))
    """Clients of OpenShift components (console, CLI); accepted, not honoured: hcp runs none of them."""
    claim_mappings: TokenClaimMappings | None = None
    """Claims to username and groups."""
    claim_validation_rules: list[TokenClaimValidationRule] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Rules every token must pass, ANDed."""


class AuthenticationSpec(KubeModel):
    """Cluster-wide authentication (OpenShift's config/v1 AuthenticationSpec). hcp honours type OIDC with
    oidcProviders: the hosted kube-apiserver validates the provider's tokens itself (structured authentication
    configuration). The other settings configure OpenShift's OAuth server and are reported, not honoured."""

    type: AuthenticationType | None = None
    """OIDC, None, IntegratedOAuth or "" (OpenShift's default, IntegratedOAuth)."""
    oauth_metadata: ConfigMapNameReference | None = Field(default=None, alias="oauthMetadata")
    """OAuth 2.0 server metadata of an external OAuth server (OpenShift's OAuth discovery; not honoured)."""
    webhook_token_authenticators: list[DeprecatedWebhookTokenAuthenticator] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Deprecated in OpenShift, no effect there either."""
    webhook_token_authenticator: WebhookTokenAuthenticator | None = None
    """A remote token reviewer (not honoured)."""
    service_account_issuer: str | None = None
    """OpenShift's way to set the service account issuer; hcp's is spec.issuerURL (not honoured here)."""
    oidc_providers: list[OIDCProvider] | None = Field(
        default=None, alias="oidcProviders", max_length=1,
        json_schema_extra=kube_schema(list_type="map", list_map_keys=["name"]))
    """The OIDC provider (at most one), with type OIDC."""


class APIServerSpec(KubeModel):
    """Configuration of the hosted kube-apiserver (the part of OpenShift's config/v1 APIServerSpec hcp honours).

    Only `audit` is modelled: the other fields of OpenShift's APIServerSpec are
    refused by the schema rather than accepted and ignored.
    """

    audit: Audit = Audit()
    """Audit policy of the API server; the Default profile when unset."""


class ClusterConfiguration(KubeModel):
    """Cluster-wide configuration of the hosted cluster's components: OpenShift's config/v1 specs, as HyperShift
    embeds them. hcp honours apiServer.audit, authentication type OIDC, featureGate and
    network.serviceNodePortRange; the rest configures OpenShift components hcp does not run and is reported
    (hcp.api.v1beta1.clusteroptions.unhonoured_fields)."""

    api_server: APIServerSpec | None = None
    """Configuration of the hosted kube-apiserver (audit profile)."""
    authentication: AuthenticationSpec | None = None
    """Who can authenticate to the hosted cluster: an external OIDC provider (type OIDC)."""
    feature_gate: FeatureGateSpec | None = None
    """Feature gates of the control plane components."""
    image: ImageSpec | None = None
    """Image registries policy of OpenShift's image streams and the nodes' container runtime (reported when set)."""
    ingress: IngressSpec | None = None
    """Domain and routes of OpenShift's ingress (reported when set)."""
    network: NetworkSpec | None = None
    """Cluster network; serviceNodePortRange is honoured, the rest reported when set."""
    oauth: OAuthSpec | None = None
    """OpenShift's integrated OAuth server (reported when set)."""
    operatorhub: OperatorHubSpec | None = None
    """OLM's default catalog sources (reported when set)."""
    proxy: ProxySpec | None = None
    """Cluster-wide egress proxy (reported when set)."""
    scheduler: SchedulerSpec | None = None
    """Scheduling profile and OpenShift's scheduling conventions (reported when set)."""
