"""Configuration of the hosted cluster's components (a subset of OpenShift's config/v1 specs)."""

import re
from enum import StrEnum
from typing import Annotated, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.markers import Checked, Rule, cel_string, kube_schema
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

_Model = TypeVar("_Model", bound=KubeModel)
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


class APIServerNamedServingCert(KubeModel):
    """A serving certificate for the DNS names a client asks for (config/v1 APIServerNamedServingCert)."""

    names: list[str] | None = Field(default=None, max_length=64, json_schema_extra=kube_schema(list_type="atomic"))
    """DNS names (leading wildcards allowed) served with this certificate; unset: those in the certificate."""
    serving_certificate: SecretNameReference | None = None
    """kubernetes.io/tls Secret (tls.crt, tls.key) with the certificate."""


class APIServerServingCerts(KubeModel):
    """Certificates the API server serves besides its own (config/v1 APIServerServingCerts)."""

    named_certificates: list[APIServerNamedServingCert] | None = Field(
        default=None, max_length=32, json_schema_extra=kube_schema(list_type="atomic"))
    """Certificates per server name (SNI); hcp serves its own certificate only (reported when set)."""


class EncryptionType(StrEnum):
    """How OpenShift encrypts resources in etcd (config/v1 EncryptionType); "" is identity."""

    DEFAULT = ""
    IDENTITY = "identity"
    AESCBC = "aescbc"
    AESGCM = "aesgcm"
    KMS = "KMS"
    """Keys in an external KMS (OpenShift's feature gate KMSEncryption)."""


class KMSProviderType(StrEnum):
    VAULT = "Vault"


class VaultAuthenticationType(StrEnum):
    APP_ROLE = "AppRole"


_DNS_SUBDOMAIN = r"^[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)*$"


def _dns_subdomain(message: str) -> Checked:
    return Checked(Rule(f"self.matches({cel_string(_DNS_SUBDOMAIN)})", message),
                   lambda text: "\n" not in text and re.match(_DNS_SUBDOMAIN, text) is not None)


_VAULT_NAME = Annotated[str, Field(min_length=1, max_length=253), _dns_subdomain(
    "name must be a valid DNS subdomain name: contain no more than 253 characters, contain only lowercase "
    "alphanumeric characters, '-' or '.', and start and end with an alphanumeric character")]
_RESERVED_VAULT_NAMESPACES = ("root", "sys", "audit", "auth", "cubbyhole", "identity")


def _vault_namespace(field: str) -> object:
    return Annotated[
        str, Field(min_length=1, max_length=4096),
        Checked(Rule("!self.endsWith('/')", f"{field} cannot end with a forward slash"),
                lambda text: not text.endswith("/")),
        Checked(Rule("!self.contains(' ')", f"{field} cannot contain spaces"), lambda text: " " not in text),
        Checked(Rule("!(self in ['root', 'sys', 'audit', 'auth', 'cubbyhole', 'identity'])",
                     f"{field} cannot be a reserved string (root, sys, audit, auth, cubbyhole, identity)"),
                lambda text: text not in _RESERVED_VAULT_NAMESPACES)]


_IMAGE_DIGEST = r"^sha256:[a-f0-9]{64}$"
_IMAGE_NAME = r"^([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(:[0-9]{2,5})?(/[a-zA-Z0-9-_.]+)+$"
_KMS_PLUGIN_IMAGE = Annotated[
    str, Field(min_length=75, max_length=447),
    Checked(Rule(f"(self.split('@').size() == 2 && self.split('@')[1].matches({cel_string(_IMAGE_DIGEST)}))",
                 "the OCI Image reference must end with a valid '@sha256:<digest>' suffix, where '<digest>' is 64 "
                 "characters long"),
            lambda text: text.count("@") == 1 and re.fullmatch(_IMAGE_DIGEST[1:-1], text.split("@")[1]) is not None),
    Checked(Rule(f"(self.split('@')[0].matches({cel_string(_IMAGE_NAME)}))",
                 "the OCI Image name should follow the host[:port][/namespace]/name format, resembling a valid URL "
                 "without the scheme. Short names are not allowed, the registry hostname must be included."),
            lambda text: re.fullmatch(_IMAGE_NAME[1:-1], text.split("@")[0]) is not None)]
_VAULT_KEY_PATH = r"^[a-zA-Z0-9._~-]+(/[a-zA-Z0-9._~-]+)*/keys/[a-zA-Z0-9_]([a-zA-Z0-9_.-]*[a-zA-Z0-9_])?$"
_VAULT_KEY_PATH_TYPE = Annotated[
    str, Field(min_length=8, max_length=1542),
    Checked(Rule("!self.startsWith('/')", "vaultKeyPath cannot start with a forward slash"),
            lambda text: not text.startswith("/")),
    Checked(Rule("!self.endsWith('/')", "vaultKeyPath cannot end with a forward slash"),
            lambda text: not text.endswith("/")),
    Checked(Rule("!self.contains('//')", "vaultKeyPath cannot contain consecutive forward slashes"),
            lambda text: "//" not in text),
    Checked(Rule("self.matches('^[a-zA-Z0-9._~/-]+$')",
                 "vaultKeyPath must only contain RFC 3986 unreserved characters (alphanumeric, hyphen, period, "
                 "underscore, tilde) and forward slashes"),
            lambda text: re.fullmatch(r"[a-zA-Z0-9._~/-]+", text) is not None),
    Checked(Rule("self.split('/').filter(s, s == '.' || s == '..').size() == 0",
                 "vaultKeyPath must not contain '.' or '..' path segments"),
            lambda text: not {".", ".."} & set(text.split("/"))),
    Checked(Rule(f"self.matches({cel_string(_VAULT_KEY_PATH)})",
                 "vaultKeyPath must follow the format <mount>/keys/<key-name> where the key name starts and ends with "
                 "an alphanumeric character or underscore and may contain alphanumeric characters, underscores, "
                 "hyphens, and periods"),
            lambda text: re.fullmatch(_VAULT_KEY_PATH[1:-1], text) is not None)]


_VAULT_ADDRESS = Annotated[
    str, Field(min_length=1, max_length=512),
    Checked(Rule("isURL(self)", "must be a valid URL"), lambda text: bool(urlsplit(text).scheme)),
    Checked(Rule("isURL(self) && url(self).getScheme() == 'https'", "must use the 'https' scheme"),
            lambda text: urlsplit(text).scheme == "https"),
    Checked(Rule("isURL(self) && (url(self).getEscapedPath() == '' || url(self).getEscapedPath() == '/')",
                 "must not contain a path"), lambda text: urlsplit(text).path in ("", "/")),
    Checked(Rule("isURL(self) && url(self).getQuery() == {}", "must not have a query"),
            lambda text: not urlsplit(text).query),
    Checked(Rule("self.find('#(.+)$') == ''", "must not have a fragment"),
            lambda text: re.search("#(.+)$", text) is None),
    Checked(Rule("self.find('@') == ''", "must not have user info"), lambda text: "@" not in text)]


def _member_iff(model: _Model, selected: bool, member: object, rule: Rule) -> _Model:
    """`model`, if its union `member` is set exactly when the discriminator selects it; else `rule`'s message."""
    if selected != (member is not None):
        raise ValueError(rule.message)
    return model


class VaultSecretReference(KubeModel):
    name: _VAULT_NAME
    """Name of the Secret, in openshift-config in OpenShift."""


class VaultConfigMapReference(KubeModel):
    name: _VAULT_NAME
    """Name of the ConfigMap, in openshift-config in OpenShift."""


class VaultAppRoleAuthentication(KubeModel):
    secret: VaultSecretReference
    """Secret with the AppRole's roleID and secretID."""


VAULT_APP_ROLE_RULE = Rule("self.type == 'AppRole' ? has(self.appRole) : !has(self.appRole)",
                           "appRole config is required when authentication type is AppRole, and forbidden otherwise")


class VaultAuthentication(KubeModel):
    """How the KMS plugin authenticates to Vault."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[VAULT_APP_ROLE_RULE]))

    type: VaultAuthenticationType
    app_role: VaultAppRoleAuthentication | None = None

    @model_validator(mode="after")
    def _app_role_with_type(self) -> Self:
        return _member_iff(self, self.type == VaultAuthenticationType.APP_ROLE, self.app_role, VAULT_APP_ROLE_RULE)


class VaultTLSConfig(KubeModel):
    """How the KMS plugin verifies Vault's TLS."""

    model_config = ConfigDict(json_schema_extra=kube_schema(keywords={"minProperties": 1}))

    ca_bundle: VaultConfigMapReference | None = None
    server_name: Annotated[str, Field(min_length=1, max_length=253), _dns_subdomain(
        "serverName must be a valid DNS hostname: contain no more than 253 characters, contain only lowercase "
        "alphanumeric characters, '-' or '.', and start and end with an alphanumeric character")] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.ca_bundle is None and self.server_name is None:
            raise ValueError("tls must have at least 1 property")
        return self


class VaultKMSPluginConfig(KubeModel):
    """HashiCorp Vault as OpenShift's KMS (config/v1 VaultKMSPluginConfig)."""

    kms_plugin_image: _KMS_PLUGIN_IMAGE
    vault_address: _VAULT_ADDRESS
    vault_namespace: _vault_namespace("vaultNamespace") | None = None
    vault_auth_namespace: _vault_namespace("vaultAuthNamespace") | None = None
    tls: VaultTLSConfig | None = None
    authentication: VaultAuthentication
    vault_key_path: _VAULT_KEY_PATH_TYPE


KMS_VAULT_RULE = Rule("self.type == 'Vault' ? has(self.vault) : !has(self.vault)",
                      "vault config is required when kms provider type is Vault, and forbidden otherwise")


class KMSPluginConfig(KubeModel):
    """The external KMS of encryption type KMS (config/v1 KMSPluginConfig)."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[KMS_VAULT_RULE]))

    type: KMSProviderType
    vault: VaultKMSPluginConfig | None = None

    @model_validator(mode="after")
    def _vault_with_type(self) -> Self:
        return _member_iff(self, self.type == KMSProviderType.VAULT, self.vault, KMS_VAULT_RULE)


ENCRYPTION_KMS_RULE = Rule("has(self.type) && self.type == 'KMS' ?  has(self.kms) : !has(self.kms)",
                           "kms config is required when encryption type is KMS, and forbidden otherwise")


class APIServerEncryption(KubeModel):
    """OpenShift's encryption of resources in etcd (config/v1 APIServerEncryption). hcp's is spec.secretEncryption
    (aescbc), which is honoured; this one is reported when it asks for encryption."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[ENCRYPTION_KMS_RULE]))

    type: EncryptionType | None = None
    """identity, aescbc, aesgcm or KMS; "" is identity."""
    kms: KMSPluginConfig | None = None
    """The external KMS, with type KMS only."""

    @model_validator(mode="after")
    def _kms_with_type(self) -> Self:
        return _member_iff(self, self.type == EncryptionType.KMS, self.kms, ENCRYPTION_KMS_RULE)


class TLSProfileType(StrEnum):
    """A TLS security profile (config/v1 TLSProfileType), after Mozilla's Server Side TLS configurations."""

    OLD = "Old"
    INTERMEDIATE = "Intermediate"
    MODERN = "Modern"
    CUSTOM = "Custom"


class TLSProtocolVersion(StrEnum):
    """A TLS protocol version, named as Go's crypto/tls and kube-apiserver's --tls-min-version name it."""

    TLS10 = "VersionTLS10"
    TLS11 = "VersionTLS11"
    TLS12 = "VersionTLS12"
    TLS13 = "VersionTLS13"


class OldTLSProfile(KubeModel):
    """Mozilla's Old profile: TLS 1.0 and its ciphers; no settings."""


class IntermediateTLSProfile(KubeModel):
    """Mozilla's Intermediate profile: TLS 1.2 and AEAD ciphers; no settings."""


class ModernTLSProfile(KubeModel):
    """Mozilla's Modern profile: TLS 1.3 only; no settings."""


class CustomTLSProfile(KubeModel):
    """User-chosen ciphers and minimum version (config/v1 CustomTLSProfile)."""

    ciphers: list[str] | None = Field(default=None, json_schema_extra=kube_schema(list_type="atomic"))
    """Cipher suites in OpenSSL's names (ECDHE-RSA-AES128-GCM-SHA256, ...); those Go does not have are dropped."""
    min_tls_version: TLSProtocolVersion | None = Field(default=None, alias="minTLSVersion")
    """The lowest TLS version negotiated."""


class TLSSecurityProfile(KubeModel):
    """The TLS settings of the control plane's TLS servers (config/v1 TLSSecurityProfile; hcp.api.v1beta1.tlsprofile
    says what each server is given)."""

    type: TLSProfileType | None = None
    """Old, Intermediate, Modern or Custom (with custom)."""
    old: OldTLSProfile | None = Field(default=None, json_schema_extra=kube_schema(nullable=True))
    intermediate: IntermediateTLSProfile | None = Field(default=None, json_schema_extra=kube_schema(nullable=True))
    modern: ModernTLSProfile | None = Field(default=None, json_schema_extra=kube_schema(nullable=True))
    custom: CustomTLSProfile | None = Field(default=None, json_schema_extra=kube_schema(nullable=True))
    """The ciphers and minimum version of type Custom."""


class APIServerSpec(KubeModel):
    """Configuration of the hosted kube-apiserver: OpenShift's config/v1 APIServerSpec, every field of it.

    hcp honours audit (the audit policy), additionalCORSAllowedOrigins (--cors-allowed-origins) and
    tlsSecurityProfile (on every control-plane TLS server, as far as its flags go: hcp.api.v1beta1.tlsprofile).
    servingCerts.namedCertificates, clientCA and encryption are accepted and reported when set
    (hcp.api.v1beta1.clusteroptions.unhonoured_fields): hcp serves its own certificate, trusts its own client
    signers, and encrypts Secrets as spec.secretEncryption says.
    """

    serving_certs: APIServerServingCerts | None = None
    """Named serving certificates (reported when set)."""
    client_ca: ConfigMapNameReference | None = Field(default=None, alias="clientCA")
    """ConfigMap (ca-bundle.crt) of further client certificate signers (reported when it names one)."""
    additional_cors_allowed_origins: list[str] | None = Field(
        default=None, alias="additionalCORSAllowedOrigins", json_schema_extra=kube_schema(list_type="atomic"))
    """Regular expressions (Go's syntax) of the origins allowed by CORS: the API server's --cors-allowed-origins."""
    encryption: APIServerEncryption | None = None
    """OpenShift's encryption at rest (reported when it asks for encryption; hcp's is spec.secretEncryption)."""
    tls_security_profile: TLSSecurityProfile | None = None
    """TLS profile of the control plane's TLS servers: kube-apiserver, kube-controller-manager, kube-scheduler,
    etcd, konnectivity-server and the ignition server, as far as each one's flags go (what one cannot take is
    reported in SupportedConfiguration). Unset: each server's own defaults (Go's: TLS 1.2 and its secure
    suites), no flags; OpenShift's default would be Intermediate."""
    audit: Audit = Audit()
    """Audit policy of the API server; the Default profile when unset."""


class ClusterConfiguration(KubeModel):
    """Cluster-wide configuration of the hosted cluster's components: OpenShift's config/v1 specs, as HyperShift
    embeds them. hcp honours apiServer.audit, apiServer.additionalCORSAllowedOrigins,
    apiServer.tlsSecurityProfile, authentication type OIDC, featureGate and network.serviceNodePortRange; the rest configures OpenShift components hcp does not run and is reported
    (hcp.api.v1beta1.clusteroptions.unhonoured_fields)."""

    api_server: APIServerSpec | None = None
    """Configuration of the hosted kube-apiserver: audit, CORS origins, TLS profile (the rest reported)."""
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
