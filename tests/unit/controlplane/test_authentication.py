"""spec.configuration.authentication type OIDC: the kube-apiserver's AuthenticationConfiguration, its flag and mount.

The mapping is OpenShift's (cluster-authentication-operator's), checked case by
case: a provider written for an OpenShift cluster yields the same usernames and
groups here.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from pydantic import ValidationError

from hcp.api.v1beta1.clusterconfig import AuthenticationSpec, UsernameClaimMapping
from hcp.controlplane.components.kube_apiserver import adapter, authentication
from hcp.controlplane.context import RenderError

ISSUER = "https://login.example.com/realms/hcp"
CA = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"


def provider(**changes: Any) -> dict[str, Any]:
    document = {
        "name": "corporate",
        "issuer": {"issuerURL": ISSUER, "audiences": ["hcp", "kubectl"],
                   "issuerCertificateAuthority": {"name": "oidc-ca"}},
        "claimMappings": {
            "username": {"claim": "email", "prefixPolicy": "Prefix", "prefix": {"prefixString": "oidc:"}},
            "groups": {"claim": "groups", "prefix": "oidc:"},
        },
        "claimValidationRules": [{"type": "RequiredClaim",
                                  "requiredClaim": {"claim": "hd", "requiredValue": "example.com"}}],
    }
    document.update(changes)
    return document


def with_authentication(ctx, authentication: dict[str, Any] | None, **context: Any):
    document = ctx.hcp.model_dump(by_alias=True, exclude_none=True)
    configuration = dict(document["spec"].get("configuration") or {})
    if authentication is None:
        configuration.pop("authentication", None)
    else:
        configuration["authentication"] = authentication
    document["spec"]["configuration"] = configuration
    context.setdefault("oidc_ca_bundles", {"oidc-ca": CA})
    return dataclasses.replace(ctx, hcp=ctx.hcp.model_validate(document), **context)


def oidc(ctx, **changes: Any):
    return with_authentication(ctx, {"type": "OIDC", "oidcProviders": [provider(**changes)]})


def rendered(ctx) -> dict[str, dict[str, Any]]:
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj for obj in adapter.render(ctx)}


def pod_of(objects) -> dict[str, Any]:
    return objects["Deployment/kube-apiserver"]["spec"]["template"]


def main_container(objects) -> dict[str, Any]:
    return next(c for c in pod_of(objects)["spec"]["containers"] if c["name"] == "kube-apiserver")


def config_of(objects) -> dict[str, Any]:
    return json.loads(objects["ConfigMap/auth-config"]["data"]["auth.json"])


def jwt(ctx) -> dict[str, Any]:
    (authenticator,) = json.loads(authentication.authentication_config(ctx))["jwt"]
    return authenticator


def test_an_oidc_provider_renders_the_structured_authentication_configuration(single_ctx):
    objects = rendered(oidc(single_ctx))
    assert config_of(objects) == {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [{
            "issuer": {"url": ISSUER, "audiences": ["hcp", "kubectl"], "audienceMatchPolicy": "MatchAny",
                       "certificateAuthority": CA},
            "claimMappings": {"username": {"claim": "email", "prefix": "oidc:"},
                              "groups": {"claim": "groups", "prefix": "oidc:"}},
            "claimValidationRules": [{"claim": "hd", "requiredValue": "example.com"}],
        }],
    }
    main = main_container(objects)
    assert "--authentication-config=/etc/kubernetes/auth/auth.json" in main["args"]
    assert not [arg for arg in main["args"] if arg.startswith("--oidc-")]  # mutually exclusive with the file
    assert {"name": "auth-config", "mountPath": "/etc/kubernetes/auth"} in main["volumeMounts"]
    volumes = {v["name"]: v for v in pod_of(objects)["spec"]["volumes"]}
    assert volumes["auth-config"] == {"name": "auth-config", "configMap": {"name": "auth-config"}}


@pytest.mark.parametrize("authentication_spec", [
    None, {"type": ""}, {"type": "None"}, {"type": "IntegratedOAuth"},
    {"type": "None", "oidcProviders": [provider()]},  # OpenShift: oidcProviders only with type OIDC
])
def test_without_type_oidc_nothing_is_rendered(single_ctx, authentication_spec):
    objects = rendered(with_authentication(single_ctx, authentication_spec))
    assert "ConfigMap/auth-config" not in objects
    assert not [arg for arg in main_container(objects)["args"] if arg.startswith("--authentication-config")]
    assert "auth-config" not in {v["name"] for v in pod_of(objects)["spec"]["volumes"]}


def test_a_change_of_the_mapping_or_the_ca_rolls_no_pod_the_api_server_reloads_the_file(single_ctx):
    def config_hash(ctx):
        return pod_of(rendered(ctx))["metadata"]["annotations"]["component.hypershift.openshift.io/config-hash"]

    before = oidc(single_ctx)
    other_prefix = oidc(single_ctx, claimMappings={
        "username": {"claim": "email", "prefixPolicy": "Prefix", "prefix": {"prefixString": "corp:"}}})
    other_ca = dataclasses.replace(before, oidc_ca_bundles={"oidc-ca": CA + CA})
    assert config_of(rendered(other_prefix)) != config_of(rendered(before))
    assert config_of(rendered(other_ca)) != config_of(rendered(before))
    assert config_hash(other_prefix) == config_hash(before) == config_hash(other_ca)
    assert pod_of(rendered(other_prefix)) == pod_of(rendered(before))


@pytest.mark.parametrize("username,expected", [
    ({"claim": "email", "prefixPolicy": "Prefix", "prefix": {"prefixString": "oidc:"}}, "oidc:"),
    ({"claim": "sub", "prefixPolicy": "NoPrefix"}, ""),
    # No opinion: OpenShift's default, that of the old --oidc-username-prefix flag.
    ({"claim": "sub", "prefixPolicy": ""}, ISSUER + "#"),
    ({"claim": "preferred_username"}, ISSUER + "#"),
    ({"claim": "email"}, ""),
    ({"claim": "email", "prefixPolicy": ""}, ""),
])
def test_username_prefix_follows_openshifts_prefix_policy(single_ctx, username, expected):
    ctx = oidc(single_ctx, claimMappings={"username": username})
    assert jwt(ctx)["claimMappings"]["username"] == {"claim": username["claim"], "prefix": expected}


def test_groups_without_prefix_get_the_empty_one_and_no_groups_claim_maps_no_groups(single_ctx):
    ctx = oidc(single_ctx, claimMappings={"username": {"claim": "sub"}, "groups": {"claim": "roles"}})
    assert jwt(ctx)["claimMappings"]["groups"] == {"claim": "roles", "prefix": ""}
    ctx = oidc(single_ctx, claimMappings={"username": {"claim": "sub"}, "groups": {"claim": "", "prefix": ""}})
    assert "groups" not in jwt(ctx)["claimMappings"]
    ctx = oidc(single_ctx, claimMappings={"username": {"claim": "sub"}})
    assert "groups" not in jwt(ctx)["claimMappings"]


def test_without_an_issuer_ca_the_system_trust_is_used(single_ctx):
    issuer = {"issuerURL": ISSUER, "audiences": ["hcp"], "issuerCertificateAuthority": {"name": ""}}
    assert "certificateAuthority" not in jwt(oidc(single_ctx, issuer=issuer))["issuer"]
    issuer.pop("issuerCertificateAuthority")
    assert "certificateAuthority" not in jwt(oidc(single_ctx, issuer=issuer))["issuer"]
    assert "claimValidationRules" not in jwt(oidc(single_ctx, claimValidationRules=[]))


def test_what_cannot_be_served_is_a_render_error_naming_it(single_ctx):
    with pytest.raises(RenderError, match="issuer CA ConfigMap oidc-ca .* was not found"):
        adapter.render(dataclasses.replace(oidc(single_ctx), oidc_ca_bundles={}))
    with pytest.raises(RenderError, match="username claim is required"):
        adapter.render(oidc(single_ctx, claimMappings={"groups": {"claim": "groups"}}))
    with pytest.raises(RenderError, match="username claim is required"):
        adapter.render(oidc(single_ctx, claimMappings={"username": {"claim": ""}}))
    own = {"issuerURL": single_ctx.issuer_url, "audiences": ["hcp"]}
    with pytest.raises(RenderError, match="issuer url cannot overlap with the ServiceAccount issuer url"):
        adapter.render(oidc(single_ctx, issuer=own))


def test_the_issuer_ca_names_are_those_of_type_oidc_only(single_ctx):
    assert authentication.oidc_ca_names(oidc(single_ctx).hcp) == ["oidc-ca"]
    ctx = with_authentication(single_ctx, {"type": "None", "oidcProviders": [provider()]})
    assert authentication.oidc_ca_names(ctx.hcp) == []


# The API: OpenShift's config/v1 AuthenticationSpec with its rules word for word.

def test_hypershifts_manifest_of_an_oidc_provider_parses_unchanged():
    """As HyperShift's Go client writes it: empty structs and strings where Go has no omitempty."""
    document = {
        "type": "OIDC", "oauthMetadata": {"name": ""}, "serviceAccountIssuer": "",
        "oidcProviders": [{
            "name": "corporate",
            "issuer": {"issuerURL": ISSUER, "audiences": ["hcp"], "issuerCertificateAuthority": {"name": ""}},
            "oidcClients": None,
            "claimMappings": {"username": {"claim": "email", "prefixPolicy": "", "prefix": None},
                              "groups": {"claim": "groups", "prefix": ""}},
        }],
    }
    spec = AuthenticationSpec.model_validate(document)
    assert spec.oidc_providers[0].claim_mappings.username.prefix is None


@pytest.mark.parametrize("username", [
    {"claim": "sub", "prefixPolicy": "Prefix"},
    {"claim": "sub", "prefixPolicy": "NoPrefix", "prefix": {"prefixString": "x:"}},
    {"claim": "sub", "prefix": {"prefixString": "x:"}},
])
def test_a_prefix_goes_with_prefix_policy_prefix_only(username):
    with pytest.raises(ValidationError, match="prefix must be set if prefixPolicy is 'Prefix', but must remain "
                                              "unset otherwise"):
        UsernameClaimMapping.model_validate(username)


@pytest.mark.parametrize("change", [
    {"issuer": {"issuerURL": "http://login.example.com", "audiences": ["hcp"]}},
    {"issuer": {"issuerURL": ISSUER, "audiences": []}},
    {"issuer": {"issuerURL": ISSUER, "audiences": [f"a{i}" for i in range(11)]}},
    {"claimMappings": {"username": {"claim": "sub", "prefixPolicy": "Sometimes"}}},
    {"claimValidationRules": [{"type": "RequiredClaim", "requiredClaim": {"claim": "hd", "requiredValue": ""}}]},
    {"name": ""},
])
def test_what_openshifts_schema_refuses_the_model_refuses(change):
    with pytest.raises(ValidationError):
        AuthenticationSpec.model_validate({"type": "OIDC", "oidcProviders": [provider(**change)]})


def test_at_most_one_provider():
    with pytest.raises(ValidationError):
        AuthenticationSpec.model_validate({"type": "OIDC", "oidcProviders": [provider(), provider(name="other")]})


def test_what_cannot_be_served_is_said_on_the_hosted_cluster_before_rendering(single_ctx):
    """The same checks, on the spec alone: the HostedCluster controller reports them as ValidConfiguration."""
    assert authentication.provider_problems(oidc(single_ctx).hcp.spec) == []
    spec = oidc(single_ctx, claimMappings={"groups": {"claim": "groups"}},
                issuer={"issuerURL": "https://kubernetes.default.svc", "audiences": ["hcp"]}).hcp.spec
    assert authentication.provider_problems(spec) == [
        "OIDC provider 'corporate': issuer url cannot overlap with the ServiceAccount issuer url "
        "(https://kubernetes.default.svc)",
        "OIDC provider 'corporate': username claim is required but an empty value was provided "
        "(claimMappings.username.claim)",
    ]
    query = oidc(single_ctx, issuer={"issuerURL": ISSUER + "?realm=hcp", "audiences": ["hcp"]}).hcp.spec
    assert authentication.provider_problems(query) == [
        "OIDC provider 'corporate': issuerURL must not contain a query, a fragment, a username or a password"]
    ignored = with_authentication(single_ctx, {"type": "None", "oidcProviders": [provider(claimMappings={})]})
    assert authentication.provider_problems(ignored.hcp.spec) == []


def test_a_ca_bundle_needs_a_pem_certificate():
    from hcp.pki import new_ca

    assert authentication.ca_bundle_problem(new_ca("test").cert_pem.decode()) == ""
    assert authentication.ca_bundle_problem("") == "key 'ca-bundle.crt' holds no PEM certificate"
    assert authentication.ca_bundle_problem(CA) == "key 'ca-bundle.crt' holds no PEM certificate"
