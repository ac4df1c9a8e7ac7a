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
        return [] if path == ".metadata" or not value else [f"{path}.*"]  # {} has nothing to prune
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


# OpenShift's config/v1 specs, spec.networking.apiServer, spec.autoNode and spec.secretEncryption.kms.


def with_spec(**changes) -> dict:
    cluster = copy.deepcopy(HOSTED_CLUSTER)
    cluster["spec"].update(copy.deepcopy(changes))
    return cluster


def with_configuration(**configuration) -> dict:
    return with_spec(configuration=configuration)


def with_api_server_networking(api_server: dict) -> dict:
    return with_spec(networking={**HOSTED_CLUSTER["spec"]["networking"], "apiServer": api_server})


def load_balanced_api_server(manifest: dict) -> dict:
    manifest["spec"]["services"][0]["servicePublishingStrategy"] = {"type": "LoadBalancer"}
    return manifest


def karpenter(**karpenter_config) -> dict:
    return {"provisionerConfig": {"name": "Karpenter", "karpenter": karpenter_config}}


def kms(**provider) -> dict:
    return {"type": "kms", "kms": provider}


AWS_KMS = {"region": "us-east-1", "activeKey": {"arn": "arn:aws:kms:us-east-1:123456789012:key/k1"},
           "auth": {"awsKms": "arn:aws:iam::123456789012:role/kms"}}
AZURE_KEY = {"keyVaultName": "vault", "keyName": "key", "keyVersion": "1"}
CLIENT_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
IBM_KEY = {"crkID": "crk", "instanceID": "instance", "correlationID": "correlation",
           "url": "https://us-south.kms.cloud.ibm.com", "keyVersion": 1}
UUID_MESSAGE = ("the client ID of a managed identity must be a valid UUID. It should be 5 groups of hyphen separated "
                "hexadecimal characters in the form 8-4-4-4-12.")


@pytest.mark.parametrize(("manifest", "message"), [
    (with_configuration(image={"registrySources": {"blockedRegistries": ["a.example.com"],
                                                   "allowedRegistries": ["b.example.com"]}}),
     "Only one of blockedRegistries or allowedRegistries may be set"),
    (with_configuration(image={"registrySources": {"insecureRegistries": ["quay.io/openshift:latest"]}}),
     "each registry must be a valid hostname[:port][/path] or wildcard *.hostname format without tags or digests"),
    (with_configuration(image={"registrySources": {"allowedRegistries": ["quay.io/openshift@sha256:0123"]}}),
     "each registry must be a valid hostname[:port][/path] or wildcard *.hostname format without tags or digests"),
    (with_configuration(network={"networkDiagnostics": {"mode": "Disabled", "targetPlacement": {
        "nodeSelector": {"kubernetes.io/os": "linux"}}}}),
     "cannot set networkDiagnostics.sourcePlacement and networkDiagnostics.targetPlacement when "
     "networkDiagnostics.mode is Disabled"),
    (with_configuration(oauth={"tokenConfig": {"accessTokenInactivityTimeout": "4m59s"}}),
     "spec.configuration.oauth.tokenConfig.accessTokenInactivityTimeout minimum acceptable token timeout value is "
     "300 seconds"),
    (with_api_server_networking({"allowedCIDRBlocks": ["10.0.0.0"]}),
     "cidr must be a valid IPv4 or IPv6 CIDR notation (e.g., 192.168.1.0/24 or 2001:db8::/64)"),
    (with_spec(autoNode={"provisionerConfig": {"name": "Karpenter"}}),
     "karpenter is required when name is Karpenter, and forbidden otherwise"),
    (with_spec(autoNode=karpenter(platform="AWS")), "aws is required when platform is AWS, and forbidden otherwise"),
    (with_spec(autoNode=karpenter(platform="AWS", aws={"roleARN": "arn:aws:iam::123:role/short-account"})),
     "roleARN must be a valid AWS IAM role ARN (e.g. arn:aws:iam::123456789012:role/MyRole)"),
    (with_spec(secretEncryption=kms(provider="AWS", aws={**AWS_KMS, "activeKey": {"arn": "key/k1"}})),
     "arn must start with 'arn:'"),
    (with_spec(secretEncryption=kms(provider="IBMCloud", ibmcloud={
        "region": "us-south", "auth": {"type": "Managed", "managed": {}},
        "keyList": [{**IBM_KEY, "url": "http://us-south.kms.cloud.ibm.com"}]})),
     "url must start with 'https://'"),
    (with_spec(secretEncryption=kms(provider="Azure", azure={
        "activeKey": AZURE_KEY, "workloadIdentity": {"clientID": CLIENT_ID},
        "kms": {"objectEncoding": "utf-8", "credentialsSecretName": "kms-credentials"}})),
     "kms and workloadIdentity are mutually exclusive"),
    (with_spec(secretEncryption=kms(provider="Azure", azure={"activeKey": AZURE_KEY})),
     "one of kms or workloadIdentity must be set"),
    (with_spec(secretEncryption=kms(provider="Azure", azure={
        "activeKey": AZURE_KEY, "backupKey": {**AZURE_KEY, "keyVaultName": "other-vault"},
        "workloadIdentity": {"clientID": CLIENT_ID}})),
     "backupKey.keyVaultName must match activeKey.keyVaultName; both keys must reside in the same Key Vault"),
    (with_spec(secretEncryption=kms(provider="Azure", azure={
        "activeKey": AZURE_KEY, "workloadIdentity": {"clientID": "z" * 36}})), UUID_MESSAGE),
])
def test_openshift_config_autonode_and_kms_are_refused_with_hypershifts_messages(manifest, message):
    obj, invalid = parse(HostedCluster, manifest)
    assert obj is None and message in invalid


@pytest.mark.parametrize("manifest", [
    with_configuration(oauth={"tokenConfig": {"accessTokenInactivityTimeout": "5m"}}),
    with_configuration(image={"registrySources": {
        "allowedRegistries": ["*.example.com", "registry.example.com:5000/a/b"]}}),
    with_configuration(network={"serviceNodePortRange": "1-65535"}),
    with_spec(secretEncryption=kms(provider="Azure", azure={
        "activeKey": AZURE_KEY, "backupKey": {**AZURE_KEY, "keyVersion": "0"},
        "kms": {"clientID": CLIENT_ID, "objectEncoding": "base64", "credentialsSecretName": "kms-credentials"},
        "keyVaultType": "ManagedHSM", "keyVaultAccess": "Private"})),
    with_spec(secretEncryption=kms(provider="IBMCloud", ibmcloud={
        "region": "us-south", "auth": {"type": "Unmanaged", "unmanaged": {"credentials": {"name": "ibm-api-key"}}},
        "keyList": [IBM_KEY]})),
], ids=["timeout-5m", "registry-scopes", "whole-port-range", "azure-kms", "ibmcloud-kms"])
def test_what_hypershift_admits_is_admitted_unchanged(manifest):
    obj, invalid = parse(HostedCluster, copy.deepcopy(manifest))
    assert invalid == ""
    assert to_dict(obj, exclude_unset=True) == manifest
    assert pruned_paths(manifest, schema_of("HostedCluster")) == []


def test_service_node_port_range_is_checked_as_hypershift_checks_it():
    obj, invalid = parse(HostedCluster, with_configuration(network={"serviceNodePortRange": "30000"}))
    assert obj is None and "serviceNodePortRange" in invalid
    backwards = HostedCluster.model_validate(with_configuration(network={"serviceNodePortRange": "32767-30000"}))
    assert hosted_cluster_problems(backwards) == [
        'spec.configuration.network.serviceNodePortRange: Invalid value: "32767-30000": invalid ServiceNodePortRange '
        "format: invalid range: minimum port 32767 must be less than or equal to maximum port 30000"]


def test_transition_rules_of_the_new_fields_carry_hypershifts_messages():
    assert cel_messages("HostedCluster", ".spec.configuration.ingress.domain") == ["domain is immutable once set"]
    assert cel_messages("HostedCluster", ".spec.networking.apiServer.advertiseAddress") == [
        "advertiseAddress is immutable"]
    assert cel_messages("HostedCluster", ".spec.networking.apiServer.port") == ["port is immutable"]
    azure = cel_messages("HostedCluster", ".spec.secretEncryption.kms.azure")
    assert "keyVaultType is immutable" in azure and "the KMS authentication mode is immutable once set" in azure
    assert "secretEncryption cannot be removed once configured" in cel_messages("HostedControlPlane", ".spec")
    assert cel_messages("HostedControlPlane", ".spec.networking.apiServer.port") == ["port is immutable"]


@pytest.mark.parametrize(("manifest", "reported"), [
    (with_configuration(image={"externalRegistryHostnames": ["registry.example.com"]}), ["spec.configuration.image"]),
    (with_configuration(ingress={"appsDomain": "apps.example.com"}), ["spec.configuration.ingress"]),
    (with_configuration(network={"networkType": "OVNKubernetes", "serviceNodePortRange": "30000-30999"}),
     ["spec.configuration.network.networkType"]),
    (with_configuration(oauth={"templates": {"login": {"name": "login"}}}), ["spec.configuration.oauth"]),
    (with_configuration(operatorhub={"sources": [{"name": "community-operators", "disabled": True}]}),
     ["spec.configuration.operatorhub"]),
    (with_configuration(proxy={"httpsProxy": "http://proxy.example.com:3128"}), ["spec.configuration.proxy"]),
    (with_configuration(scheduler={"profile": "NoScoring"}), ["spec.configuration.scheduler"]),
    (with_configuration(scheduler={"mastersSchedulable": True}), ["spec.configuration.scheduler"]),
    (with_api_server_networking({"advertiseAddress": "fd00::1"}), ["spec.networking.apiServer.advertiseAddress"]),
    (with_api_server_networking({"port": 443}), ["spec.networking.apiServer.port"]),
    (with_api_server_networking({"allowedCIDRBlocks": ["10.0.0.0/8"]}),
     ["spec.networking.apiServer.allowedCIDRBlocks"]),
    (load_balanced_api_server(with_api_server_networking({"allowedCIDRBlocks": ["10.0.0.0/8", "fd00::/8"]})),
     ["spec.networking.apiServer.allowedCIDRBlocks"]),
    (with_spec(autoNode=karpenter(platform="AWS", aws={"roleARN": "arn:aws:iam::123456789012:role/karpenter"})),
     ["spec.autoNode"]),
    (with_spec(secretEncryption={"type": "kms"}), ["spec.secretEncryption.kms"]),
    (with_spec(secretEncryption={**HOSTED_CLUSTER["spec"]["secretEncryption"],
                                 "kms": {"provider": "AWS", "aws": AWS_KMS}}),
     ["spec.secretEncryption.kms"]),
], ids=["image", "ingress", "network", "oauth", "operatorhub", "proxy", "scheduler-profile", "masters-schedulable",
        "advertise-address", "port", "allowed-cidr-blocks", "allowed-cidr-blocks-load-balancer", "autonode", "kms-type", "kms-beside-aescbc"])
def test_each_new_field_asking_for_something_is_reported_alone(manifest, reported):
    assert unhonoured_fields(HostedCluster.model_validate(manifest).spec) == reported


@pytest.mark.parametrize("manifest", [
    # Go's zero values, which OpenShift's types write for their fields without omitempty.
    with_configuration(scheduler={"policy": {"name": ""}, "profile": "", "profileCustomizations": {
        "dynamicResourceAllocation": ""}, "defaultNodeSelector": "", "mastersSchedulable": False}),
    with_configuration(image={"additionalTrustedCA": {"name": ""}, "registrySources": {}},
                       proxy={"trustedCA": {"name": ""}}, operatorhub={"disableAllDefaultSources": False},
                       ingress={}, oauth={"tokenConfig": {"accessTokenMaxAgeSeconds": 0}}),
    # What hcp does anyway, or honours.
    with_configuration(scheduler={"profile": "LowNodeUtilization"}),
    with_configuration(network={"serviceNodePortRange": "30000-32767"}),
    with_api_server_networking({"port": 6443, "allowedCIDRBlocks": []}),
], ids=["scheduler-zero", "zero-values", "default-profile", "node-port-range", "default-port"])
def test_new_fields_asking_for_nothing_or_honoured_are_not_reported(manifest):
    obj, invalid = parse(HostedCluster, copy.deepcopy(manifest))
    assert invalid == "" and pruned_paths(manifest, schema_of("HostedCluster")) == []
    assert unhonoured_fields(obj.spec) == []


def test_the_control_plane_of_the_hypershift_shaped_cluster_keeps_every_propagated_field():
    """configuration, networking and secretEncryption go to the HostedControlPlane, whose schema must keep them."""
    from hcp.api import HostedControlPlane
    from hcp.operator.hostedcluster import control_plane_manifest

    manifest = hosted_cluster_with_hypershift_only_fields()
    hc = HostedCluster.model_validate({**manifest, "metadata": {**manifest["metadata"], "uid": "u-1"}})
    control_plane = control_plane_manifest(hc, copy.deepcopy(manifest["spec"]), "clusters-fidelity-full")
    obj, invalid = parse(HostedControlPlane, copy.deepcopy(control_plane))
    assert invalid == ""
    assert pruned_paths(control_plane, schema_of("HostedControlPlane")) == []
    assert to_dict(obj, exclude_unset=True)["spec"]["configuration"] == manifest["spec"]["configuration"]


def test_a_cluster_asking_for_kms_encryption_is_admitted_reported_and_not_served():
    """hcp encrypts with aescbc only; it does not serve unencrypted a cluster that asks for encryption."""
    from hcp.api.validation import KMS_NOT_SERVED

    hc = HostedCluster.model_validate(with_spec(secretEncryption=kms(provider="AWS", aws=AWS_KMS)))
    assert unhonoured_fields(hc.spec) == ["spec.secretEncryption.kms"]
    assert hosted_cluster_problems(hc) == [KMS_NOT_SERVED]
    assert "it is not served at all (ValidConfiguration)" in unsupported_fields_message(unhonoured_fields(hc.spec))
    beside_aescbc = with_spec(secretEncryption={**HOSTED_CLUSTER["spec"]["secretEncryption"],
                                                "kms": {"provider": "AWS", "aws": AWS_KMS}})
    assert hosted_cluster_problems(HostedCluster.model_validate(beside_aescbc)) == []  # served with aescbc
    assert "not served at all" not in unsupported_fields_message(["spec.autoNode"])


# spec.configuration.apiServer: every field of OpenShift's config/v1 APIServerSpec.

VAULT = {"kmsPluginImage": "quay.io/openshift/vault-kms-plugin@sha256:" + "0" * 64,
         "vaultAddress": "https://vault.example.com:8200", "vaultNamespace": "team-a",
         "tls": {"caBundle": {"name": "vault-ca"}, "serverName": "vault.example.com"},
         "authentication": {"type": "AppRole", "appRole": {"secret": {"name": "vault-approle"}}},
         "vaultKeyPath": "transit/keys/hcp"}
FULL_API_SERVER = {
    "servingCerts": {"namedCertificates": [{"names": ["api.example.com", "*.example.com"],
                                            "servingCertificate": {"name": "api-cert"}}]},
    "clientCA": {"name": "client-ca"},
    "additionalCORSAllowedOrigins": [r"//console\.example\.com(:|$)", r"//127\.0\.0\.1(:|$)"],
    "encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": VAULT}},
    "tlsSecurityProfile": {"type": "Custom", "custom": {"ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"],
                                                       "minTLSVersion": "VersionTLS12"}},
    "audit": {"profile": "WriteRequestBodies"},
}
API_SERVER_PATH = "spec.configuration.apiServer"
ENCRYPTION_REPORTED = f"{API_SERVER_PATH}.encryption (hcp encrypts Secrets as spec.secretEncryption says)"


@pytest.mark.parametrize("api_server", [
    FULL_API_SERVER,
    # What OpenShift's Go types write for an APIServerSpec with only the TLS profile set.
    {"servingCerts": {}, "clientCA": {"name": ""}, "encryption": {}, "audit": {"profile": "Default"},
     "tlsSecurityProfile": {"type": "Modern", "modern": {}}},
    {"tlsSecurityProfile": {"type": "Old", "old": {}}, "encryption": {"type": "aesgcm"}},
    {"tlsSecurityProfile": {"type": "Intermediate", "intermediate": {}}, "encryption": {"type": "identity"}},
    {"servingCerts": {"namedCertificates": [{"servingCertificate": {"name": "api-cert"}}]}},
], ids=["every-field", "go-zero-values", "old", "intermediate", "cert-without-names"])
def test_an_api_server_spec_written_for_hypershift_is_accepted_unchanged(api_server):
    manifest = with_configuration(apiServer=api_server)
    obj, invalid = parse(HostedCluster, copy.deepcopy(manifest))
    assert invalid == ""
    assert to_dict(obj, exclude_unset=True) == manifest
    assert pruned_paths(manifest, schema_of("HostedCluster")) == []
    control_plane_configuration = schema_of("HostedControlPlane")["properties"]["spec"]["properties"]["configuration"]
    assert pruned_paths(manifest["spec"]["configuration"], control_plane_configuration) == []


def test_the_api_server_enums_are_openshifts():
    api_server = schema_of("HostedCluster")["properties"]["spec"]["properties"]["configuration"]["properties"][
        "apiServer"]["properties"]
    tls = api_server["tlsSecurityProfile"]["properties"]
    assert tls["type"]["enum"] == ["Old", "Intermediate", "Modern", "Custom"]
    assert tls["custom"]["properties"]["minTLSVersion"]["enum"] == [
        "VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"]
    assert all(tls[name].get("nullable") for name in ("old", "intermediate", "modern", "custom"))
    assert api_server["encryption"]["properties"]["type"]["enum"] == ["", "identity", "aescbc", "aesgcm", "KMS"]
    assert api_server["servingCerts"]["properties"]["namedCertificates"]["maxItems"] == 32
    assert api_server["additionalCORSAllowedOrigins"]["x-kubernetes-list-type"] == "atomic"


@pytest.mark.parametrize(("api_server", "message"), [
    ({"tlsSecurityProfile": {"type": "Ancient"}}, "'Old', 'Intermediate', 'Modern' or 'Custom'"),
    ({"tlsSecurityProfile": {"type": "Custom", "custom": {"minTLSVersion": "VersionTLS14"}}},
     "'VersionTLS10', 'VersionTLS11', 'VersionTLS12' or 'VersionTLS13'"),
    ({"encryption": {"type": "aes"}}, "'', 'identity', 'aescbc', 'aesgcm' or 'KMS'"),
    ({"encryption": {"type": "KMS"}}, "kms config is required when encryption type is KMS, and forbidden otherwise"),
    ({"encryption": {"type": "aescbc", "kms": {"type": "Vault", "vault": VAULT}}},
     "kms config is required when encryption type is KMS, and forbidden otherwise"),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault"}}},
     "vault config is required when kms provider type is Vault, and forbidden otherwise"),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": {**VAULT, "authentication": {
        "type": "AppRole"}}}}}, "appRole config is required when authentication type is AppRole, and forbidden otherwise"),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": {**VAULT, "vaultAddress": "http://vault:8200"}}}},
     "must use the 'https' scheme"),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": {**VAULT, "vaultNamespace": "root"}}}},
     "vaultNamespace cannot be a reserved string (root, sys, audit, auth, cubbyhole, identity)"),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": {**VAULT, "vaultKeyPath": "transit/hcp-key"}}}},
     "vaultKeyPath must follow the format <mount>/keys/<key-name>"),
    ({"servingCerts": {"namedCertificates": [{"names": ["a.example.com"]}] * 33}}, "at most 32 items"),
], ids=["tls-type", "min-tls-version", "encryption-type", "kms-missing", "kms-without-type-kms", "vault-missing",
        "approle-missing", "vault-http", "vault-namespace-reserved", "vault-key-path", "too-many-certificates"])
def test_a_bad_api_server_spec_is_refused_with_openshifts_values_and_messages(api_server, message):
    obj, invalid = parse(HostedCluster, with_configuration(apiServer=api_server))
    assert obj is None and message in invalid


def test_the_api_server_rules_carry_openshifts_messages():
    path = ".spec.configuration.apiServer.encryption"
    assert cel_messages("HostedCluster", path) == [
        "kms config is required when encryption type is KMS, and forbidden otherwise"]
    assert cel_messages("HostedCluster", f"{path}.kms") == [
        "vault config is required when kms provider type is Vault, and forbidden otherwise"]


def test_each_unhonoured_api_server_field_is_reported_by_name():
    hc = HostedCluster.model_validate(with_configuration(apiServer=FULL_API_SERVER))
    assert unhonoured_fields(hc.spec) == [
        f"{API_SERVER_PATH}.servingCerts.namedCertificates", f"{API_SERVER_PATH}.clientCA", ENCRYPTION_REPORTED]
    assert "spec.secretEncryption" in unsupported_fields_message(unhonoured_fields(hc.spec))


@pytest.mark.parametrize(("api_server", "reported"), [
    ({"servingCerts": {"namedCertificates": [{"servingCertificate": {"name": "api-cert"}}]}},
     [f"{API_SERVER_PATH}.servingCerts.namedCertificates"]),
    ({"clientCA": {"name": "client-ca"}}, [f"{API_SERVER_PATH}.clientCA"]),
    ({"encryption": {"type": "aescbc"}}, [ENCRYPTION_REPORTED]),
    ({"encryption": {"type": "aesgcm"}}, [ENCRYPTION_REPORTED]),
    ({"encryption": {"type": "KMS", "kms": {"type": "Vault", "vault": VAULT}}}, [ENCRYPTION_REPORTED]),
], ids=["named-certificates", "client-ca", "aescbc", "aesgcm", "kms"])
def test_each_unhonoured_api_server_field_asking_for_something_is_reported_alone(api_server, reported):
    assert unhonoured_fields(HostedCluster.model_validate(with_configuration(apiServer=api_server)).spec) == reported


@pytest.mark.parametrize("api_server", [
    {},
    {"servingCerts": {}, "clientCA": {"name": ""}, "encryption": {}, "additionalCORSAllowedOrigins": []},
    {"servingCerts": {"namedCertificates": []}, "encryption": {"type": ""}},
    {"encryption": {"type": "identity"}},
    # Honoured.
    {"additionalCORSAllowedOrigins": [r"//console\.example\.com(:|$)"], "audit": {"profile": "AllRequestBodies"},
     "tlsSecurityProfile": {"type": "Custom", "custom": {"ciphers": [], "minTLSVersion": "VersionTLS13"}}},
], ids=["empty", "go-zero-values", "empty-lists", "identity", "honoured"])
def test_api_server_fields_asking_for_nothing_or_honoured_are_not_reported(api_server):
    assert unhonoured_fields(HostedCluster.model_validate(with_configuration(apiServer=api_server)).spec) == []
