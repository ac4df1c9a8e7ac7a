"""A HostedCluster and NodePool written for HyperShift are accepted unchanged; HyperShift-only fields are
reported; platforms hcp does not have are refused naming those it has (issue 11, req 6)."""

import copy

import pytest

from hcp.api import HostedCluster, NodePool, crds
from hcp.api.base import to_dict
from hcp.api.parse import parse
from hcp.api.v1beta1.clusteroptions import unhonoured_fields
from hcp.api.validation import hosted_cluster_problems, node_pool_problems
from hcp.operator.hostedcluster import unsupported_fields_message

from tests.hypershift_manifests import HOSTED_CLUSTER, NODE_POOL, UNHONOURED, hosted_cluster_with_hypershift_only_fields


def schema_of(kind: str) -> dict:
    return next(c for c in crds() if c["spec"]["names"]["kind"] == kind)["spec"]["versions"][0]["schema"][
        "openAPIV3Schema"]


def pruned_paths(value, schema: dict, path: str = "") -> list[str]:
    """The paths of `value` the API server would prune under `schema` (fields the schema does not declare)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, dict):
        if "properties" in schema:
            return [p for key, child in value.items()
                    for p in ([f"{path}.{key}"] if key not in schema["properties"]
                              else pruned_paths(child, schema["properties"][key], f"{path}.{key}"))]
        if isinstance(schema.get("additionalProperties"), dict):
            return [p for key, child in value.items()
                    for p in pruned_paths(child, schema["additionalProperties"], f"{path}.{key}")]
        return [] if path == ".metadata" else [f"{path}.*"]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in pruned_paths(item, schema["items"], f"{path}[{i}]")]
    return []


MANIFESTS = [
    ("HostedCluster", HostedCluster, HOSTED_CLUSTER),
    ("HostedCluster", HostedCluster, hosted_cluster_with_hypershift_only_fields()),
    ("NodePool", NodePool, NODE_POOL),
]


@pytest.mark.parametrize(("kind", "model", "manifest"), MANIFESTS, ids=["rendered", "hypershift-only", "nodepool"])
def test_a_manifest_written_for_hypershift_is_accepted_unchanged(kind, model, manifest):
    obj, invalid = parse(model, copy.deepcopy(manifest))
    assert invalid == ""
    assert to_dict(obj, exclude_unset=True) == manifest
    assert pruned_paths(manifest, schema_of(kind)) == []


def test_nothing_is_reported_for_what_hypershifts_renderer_writes():
    hc = HostedCluster.model_validate(HOSTED_CLUSTER)
    assert unhonoured_fields(hc.spec) == []
    assert hosted_cluster_problems(hc) == []
    assert node_pool_problems(NodePool.model_validate(NODE_POOL)) == []
    assert unsupported_fields_message([]) == "Every field set is honoured"


def test_every_hypershift_only_field_set_is_reported_by_name():
    hc = HostedCluster.model_validate(hosted_cluster_with_hypershift_only_fields())
    assert unhonoured_fields(hc.spec) == UNHONOURED
    message = unsupported_fields_message(unhonoured_fields(hc.spec))
    assert all(field in message for field in UNHONOURED)
    assert message.startswith("hcp accepts but does not honour spec.capabilities, ")


@pytest.mark.parametrize(("field", "value"), [
    ("olmCatalogPlacement", "guest"),
    ("serviceAccountSigningKey", {"name": "signing-key"}),
    ("autoscaling", {"scaling": "ScaleUpOnly"}),
])
def test_a_hypershift_only_field_asking_for_something_is_reported(field, value):
    manifest = copy.deepcopy(HOSTED_CLUSTER)
    manifest["spec"][field] = value
    assert unhonoured_fields(HostedCluster.model_validate(manifest).spec) == [f"spec.{field}"]


@pytest.mark.parametrize(("spec", "message"), [
    ({"capabilities": {"enabled": ["Console"], "disabled": ["Console"]}},
     "Capabilities can not be both enabled and disabled at once."),
    ({"capabilities": {"disabled": ["Ingress"]}},
     "Ingress capability can only be disabled if Console capability is also disabled"),
    ({"kubeAPIServerDNSName": "not a name"}, "kubeAPIServerDNSName must be a valid URL name (e.g., api.example.com)"),
    ({"autoscaling": {"scaling": "ScaleUpOnly", "scaleDown": {"delayAfterAddSeconds": 1}}},
     "scaleDown can only be set when scaling is ScaleUpAndScaleDown"),
    ({"autoscaling": {"balancingIgnoredLabels": ["-bad-"]}},
     "Each balancingIgnoredLabels item must be a valid label key"),
    ({"operatorConfiguration": {"clusterNetworkOperator": {"disableMultiNetwork": True}},
      "networking": {"networkType": "OVNKubernetes", "clusterNetwork": [{"cidr": "10.132.0.0/14"}],
                     "serviceNetwork": [{"cidr": "172.31.0.0/16"}]}},
     "disableMultiNetwork can only be set to true when networkType is 'Other'"),
    ({"operatorConfiguration": {"clusterNetworkOperator": {"ovnKubernetesConfig": {"mtu": 1400}}}},
     "ovnKubernetesConfig is forbidden when networkType is not OVNKubernetes"),
])
def test_hypershift_only_fields_are_refused_with_hypershifts_messages(spec, message):
    manifest = copy.deepcopy(HOSTED_CLUSTER)
    manifest["spec"].update(spec)
    obj, invalid = parse(HostedCluster, manifest)
    assert obj is None and message in invalid


def cel_messages(kind: str, path: str) -> list[str]:
    node = schema_of(kind)
    for part in filter(None, path.split(".")):
        node = node["properties"][part]
    return [rule["message"] for rule in node.get("x-kubernetes-validations", [])]


def test_immutability_rules_carry_hypershifts_messages():
    assert "clusterID cannot be removed once set" in cel_messages("HostedCluster", "")
    assert "infraID cannot be removed once set" in cel_messages("HostedCluster", "")
    assert "secretEncryption cannot be removed once configured" in cel_messages("HostedCluster", ".spec")
    assert "restoreSnapshotURL cannot be added or removed after creation" in cel_messages(
        "HostedCluster", ".spec.etcd.managed.storage")
    assert "clusterID is immutable" in cel_messages("HostedCluster", ".spec.clusterID")
    assert "Capabilities is immutable. Changes might result in unpredictable and disruptive behavior." in (
        cel_messages("HostedCluster", ".spec.capabilities"))
    assert cel_messages("HostedCluster", ".spec.olmCatalogPlacement") == ["OLMCatalogPlacement is immutable"]


PLATFORMS_HCP_HAS = "hcp has the platforms KWOK, None and Container"


@pytest.mark.parametrize("platform", ["AWS", "Azure", "IBMCloud", "KubeVirt", "Agent", "PowerVS", "OpenStack", "GCP"])
@pytest.mark.parametrize(("model", "manifest"), [(HostedCluster, HOSTED_CLUSTER), (NodePool, NODE_POOL)])
def test_a_platform_hcp_does_not_have_is_refused_naming_those_it_has(model, manifest, platform):
    data = copy.deepcopy(manifest)
    data["spec"]["platform"]["type"] = platform
    obj, invalid = parse(model, data)
    assert obj is None
    assert "platform type must be KWOK, None or Container, the platforms hcp has" in invalid


@pytest.mark.parametrize("field", ["aws", "azure", "ibmcloud", "kubevirt", "agent", "powervs", "openstack", "gcp"])
@pytest.mark.parametrize(("kind", "model", "manifest"),
                         [("HostedCluster", HostedCluster, HOSTED_CLUSTER), ("NodePool", NodePool, NODE_POOL)])
def test_settings_of_a_platform_hcp_does_not_have_are_refused_not_pruned(kind, model, manifest, field):
    data = copy.deepcopy(manifest)
    data["spec"]["platform"][field] = {"region": "us-east-1"}
    obj, invalid = parse(model, data)
    assert obj is None and f"{field} is the setting of platform" in invalid and PLATFORMS_HCP_HAS in invalid
    assert pruned_paths(data, schema_of(kind)) == []  # kept by the schema, so the CEL rule sees and refuses it
    assert f"!has(self.{field})" in [r["rule"] for r in schema_of(kind)["properties"]["spec"]["properties"][
        "platform"]["x-kubernetes-validations"]]


OIDC_AUTHENTICATION = {
    "type": "OIDC",
    "oidcProviders": [{
        "name": "corporate",
        "issuer": {"issuerURL": "https://login.example.com", "audiences": ["hcp", "console"],
                   "issuerCertificateAuthority": {"name": "oidc-ca"}},
        "claimMappings": {"username": {"claim": "email", "prefixPolicy": "Prefix",
                                       "prefix": {"prefixString": "oidc:"}},
                          "groups": {"claim": "groups", "prefix": "oidc:"}},
        "claimValidationRules": [{"type": "RequiredClaim",
                                  "requiredClaim": {"claim": "hd", "requiredValue": "example.com"}}],
    }],
}


def with_authentication(authentication: dict) -> dict:
    cluster = copy.deepcopy(HOSTED_CLUSTER)
    cluster["spec"]["configuration"] = {"authentication": authentication}
    return cluster


def test_an_oidc_provider_is_accepted_unchanged_and_honoured():
    manifest = with_authentication(OIDC_AUTHENTICATION)
    obj, invalid = parse(HostedCluster, copy.deepcopy(manifest))
    assert invalid == ""
    assert to_dict(obj, exclude_unset=True) == manifest
    assert pruned_paths(manifest, schema_of("HostedCluster")) == []
    assert unhonoured_fields(obj.spec) == []


def test_the_openshift_only_authentication_settings_are_reported_by_name():
    provider = {**OIDC_AUTHENTICATION["oidcProviders"][0],
                "oidcClients": [{"componentName": "console", "componentNamespace": "openshift-console",
                                 "clientID": "console"}]}
    manifest = with_authentication({
        "type": "IntegratedOAuth", "oauthMetadata": {"name": "oauth-metadata"},
        "webhookTokenAuthenticator": {"kubeConfig": {"name": "webhook"}},
        "serviceAccountIssuer": "https://issuer.example.com", "oidcProviders": [provider],
    })
    obj, invalid = parse(HostedCluster, copy.deepcopy(manifest))
    assert invalid == "" and pruned_paths(manifest, schema_of("HostedCluster")) == []
    path = "spec.configuration.authentication"
    assert unhonoured_fields(obj.spec) == [
        f"{path}.type IntegratedOAuth", f"{path}.oauthMetadata", f"{path}.webhookTokenAuthenticator",
        f"{path}.serviceAccountIssuer", f"{path}.oidcProviders[].oidcClients",
        f"{path}.oidcProviders without type OIDC",
    ]
    hypershift_defaults = with_authentication({"type": "", "oauthMetadata": {"name": ""}, "serviceAccountIssuer": ""})
    assert unhonoured_fields(HostedCluster.model_validate(hypershift_defaults).spec) == []
