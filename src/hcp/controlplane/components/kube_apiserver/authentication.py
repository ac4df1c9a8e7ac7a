"""The kube-apiserver's structured authentication configuration: spec.configuration.authentication type OIDC.

The OIDC provider of `oidcProviders` becomes one JWT authenticator of an
upstream `apiserver.config.k8s.io/v1` AuthenticationConfiguration (GA in
Kubernetes 1.34; both releases hcp serves read it), which the API server
reads from the file `--authentication-config` names. The mapping is
OpenShift's (cluster-authentication-operator's), so a provider configured for
an OpenShift cluster yields the same users and groups here:

- issuer: `issuerURL`, `audiences` with audienceMatchPolicy MatchAny (any one
  of them in the token's `aud`), and the PEM of `issuerCertificateAuthority`'s
  ConfigMap (key ca-bundle.crt, copied into the control-plane namespace by the
  HostedCluster controller) embedded as certificateAuthority; none: the system
  trust;
- username: the claim, prefixed by prefixPolicy: `Prefix` → prefixString,
  `NoPrefix` → nothing, "" (no opinion) → `<issuerURL>#`, except for the claim
  `email`, which is used as it is (the behaviour of the old --oidc-* flags);
- groups: the claim with its prefix ("" when unset), or no groups mapping
  when unset;
- claimValidationRules RequiredClaim → claim and requiredValue.

The API server watches that file and applies a new configuration without a
restart, so the file is not in the pods' config hash: a change of the
mapping or of the CA reaches running API servers once the kubelet has
refreshed the mounted ConfigMap (about a minute) — only turning OIDC on or
off, which adds or removes the flag, rolls the pods.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from cryptography import x509

from hcp.api.v1beta1.clusterconfig import (
    AuthenticationType, OIDCProvider, TokenValidationRuleType, UsernamePrefixPolicy,
)
from hcp.controlplane.context import DEFAULT_ISSUER_URL, RenderContext, RenderError

CONFIGMAP = "auth-config"
"""HyperShift's name for the ConfigMap holding the configuration, and its key below."""
CONFIG_KEY = "auth.json"
MOUNT = "/etc/kubernetes/auth"
CA_BUNDLE_KEY = "ca-bundle.crt"
"""The key of issuerCertificateAuthority's ConfigMap that holds the PEM (OpenShift's)."""
EMAIL_CLAIM = "email"


def trusted_providers(spec: Any) -> list[OIDCProvider]:
    """The providers of a HostedCluster's or HostedControlPlane's spec the API server is to trust: the
    oidcProviders with type OIDC, none with any other type (OpenShift allows them with OIDC only)."""
    configuration = spec.configuration
    authentication = configuration.authentication if configuration else None
    if authentication is None or authentication.type != AuthenticationType.OIDC:
        return []
    return list(authentication.oidc_providers or [])


def oidc_ca_names(owner: Any) -> list[str]:
    """The ConfigMaps (issuerCertificateAuthority) the trusted providers of a HostedCluster or HostedControlPlane
    name; the HostedCluster controller copies them into the control-plane namespace, where they are read."""
    names = []
    for provider in trusted_providers(owner.spec):
        reference = provider.issuer.issuer_certificate_authority
        if reference is not None and reference.name and reference.name not in names:
            names.append(reference.name)
    return names


def oidc_providers(ctx: RenderContext) -> list[OIDCProvider]:
    """The providers the rendered API server trusts."""
    return trusted_providers(ctx.hcp.spec)


def authentication_config(ctx: RenderContext) -> str | None:
    """The AuthenticationConfiguration as JSON, or None when the cluster does not use OIDC."""
    providers = oidc_providers(ctx)
    if not providers:
        return None
    problems = provider_problems(ctx.hcp.spec)
    if problems:
        raise RenderError("; ".join(problems))
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [jwt_authenticator(ctx, provider) for provider in providers],
    }
    return json.dumps(config, indent=2) + "\n"


def provider_problems(spec: Any) -> list[str]:
    """What in the trusted providers of a HostedCluster's or HostedControlPlane's spec cannot be served, in
    OpenShift's words (empty: none); said on the HostedCluster before anything is rendered."""
    problems = []
    service_account_issuer = spec.issuer_url or DEFAULT_ISSUER_URL
    for provider in trusted_providers(spec):
        if provider.issuer.issuer_url == service_account_issuer:
            # The API server would refuse to start: tokens of that issuer are its own service accounts'.
            problems.append(f"OIDC provider {provider.name!r}: issuer url cannot overlap with the ServiceAccount "
                            f"issuer url ({service_account_issuer})")
        url = urllib.parse.urlsplit(provider.issuer.issuer_url)
        if url.query or url.fragment or url.username or url.password:
            # OpenShift's schema lets them through; the API server would refuse the file.
            problems.append(f"OIDC provider {provider.name!r}: issuerURL must not contain a query, a fragment, "
                            f"a username or a password")
        username = provider.claim_mappings.username if provider.claim_mappings else None
        if username is None or not username.claim:
            problems.append(f"OIDC provider {provider.name!r}: username claim is required but an empty value was "
                            f"provided (claimMappings.username.claim)")
    return problems


def ca_bundle_problem(pem: str) -> str:
    """Why a ca-bundle.crt cannot be the issuer's CA ("" when it can): the API server needs at least one PEM
    certificate in it and refuses a configuration whose bundle has none."""
    try:
        x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return f"key {CA_BUNDLE_KEY!r} holds no PEM certificate"
    return ""


def jwt_authenticator(ctx: RenderContext, provider: OIDCProvider) -> dict[str, Any]:
    """One provider as a JWT authenticator; a RenderError says what in the provider cannot be served."""
    issuer = provider.issuer
    rendered_issuer: dict[str, Any] = {
        "url": issuer.issuer_url,
        "audiences": list(issuer.audiences),
        "audienceMatchPolicy": "MatchAny",
    }
    ca_name = issuer.issuer_certificate_authority.name if issuer.issuer_certificate_authority else ""
    if ca_name:
        bundle = ctx.oidc_ca_bundles.get(ca_name)
        if not bundle:
            raise RenderError(f"OIDC provider {provider.name!r}: the issuer CA ConfigMap {ca_name} (key "
                              f"{CA_BUNDLE_KEY!r}) was not found in the control-plane namespace")
        rendered_issuer["certificateAuthority"] = bundle
    mappings = provider.claim_mappings
    username = mappings.username if mappings else None
    if username is None or not username.claim:
        raise RenderError(f"OIDC provider {provider.name!r}: username claim is required but an empty value "
                          f"was provided (claimMappings.username.claim)")
    prefix = username_prefix(username.claim, username.prefix_policy,
                             username.prefix.prefix_string if username.prefix else None, issuer.issuer_url)
    claim_mappings: dict[str, Any] = {"username": {"claim": username.claim, "prefix": prefix}}
    groups = mappings.groups if mappings else None
    if groups is not None and groups.claim:
        claim_mappings["groups"] = {"claim": groups.claim, "prefix": groups.prefix or ""}
    authenticator: dict[str, Any] = {"issuer": rendered_issuer, "claimMappings": claim_mappings}
    rules = [{"claim": rule.required_claim.claim, "requiredValue": rule.required_claim.required_value}
             for rule in provider.claim_validation_rules or ()
             if rule.type == TokenValidationRuleType.REQUIRED_CLAIM and rule.required_claim is not None]
    if rules:
        authenticator["claimValidationRules"] = rules
    return authenticator


def username_prefix(claim: str, policy: UsernamePrefixPolicy | None, prefix: str | None, issuer_url: str) -> str:
    """The username prefix OpenShift applies: the configured one, none, or by default `<issuerURL>#` for
    any claim but email (whose values are unique across issuers already)."""
    if policy == UsernamePrefixPolicy.PREFIX:
        if not prefix:
            raise RenderError("nil username prefix while policy expects one")
        return prefix
    if policy == UsernamePrefixPolicy.NO_PREFIX:
        return ""
    return "" if claim == EMAIL_CLAIM else f"{issuer_url}#"
