"""The Secrets the HostedCluster controller copies into the control-plane namespace, and which copies go."""

from __future__ import annotations

from hcp.api.v1beta1.common import AESCBCSpec, SecretEncryptionSpec, SecretEncryptionType
from hcp.api.meta import LocalObjectReference
from hcp.operator.hostedcluster import copied_references, stale_copies
from hcp.pki import new_ca
from tests.unit.operator import test_validation

TARGET = "clusters-demo"


def hosted_cluster():
    """The HostedCluster `hcp create cluster kwok --name demo` makes (encrypted at rest, as by default)."""
    hc = test_validation.hosted_cluster()
    hc.spec.secret_encryption = SecretEncryptionSpec(
        type=SecretEncryptionType.AESCBC,
        aescbc=AESCBCSpec(active_key=LocalObjectReference(name="demo-etcd-encryption-key")))
    return hc


def names(hc) -> list[str]:
    return [ref.name for ref in copied_references(hc).values() if ref is not None and ref.name]


def test_a_cluster_as_the_cli_makes_it_copies_its_pull_secret_and_encryption_key():
    assert names(hosted_cluster()) == ["demo-pull-secret", "demo-etcd-encryption-key"]


def test_a_rotation_copies_both_keys_and_dropping_the_backup_key_removes_its_copy():
    hc = hosted_cluster()
    hc.spec.secret_encryption.aescbc.backup_key = LocalObjectReference(name="demo-etcd-encryption-key-old")
    during = names(hc)
    assert during == ["demo-pull-secret", "demo-etcd-encryption-key", "demo-etcd-encryption-key-old"]
    assert stale_copies(TARGET, during, during) == []
    hc.spec.secret_encryption.aescbc.backup_key = None
    assert stale_copies(TARGET, names(hc), during) == [("Secret", TARGET, "demo-etcd-encryption-key-old")]


def test_without_secret_encryption_no_key_copy_is_left():
    hc = hosted_cluster()
    before = names(hc)
    hc.spec.secret_encryption = None
    assert names(hc) == ["demo-pull-secret"]
    assert stale_copies(TARGET, names(hc), before) == [("Secret", TARGET, "demo-etcd-encryption-key")]


def test_a_new_active_key_replaces_the_old_copy():
    hc = hosted_cluster()
    before = names(hc)
    hc.spec.secret_encryption = SecretEncryptionSpec(
        type=SecretEncryptionType.AESCBC, aescbc=AESCBCSpec(active_key=LocalObjectReference(name="demo-key-2")))
    assert stale_copies(TARGET, names(hc), before) == [("Secret", TARGET, "demo-etcd-encryption-key")]


def test_an_unmanaged_etcds_client_certificates_are_copied_for_kube_apiserver():
    from hcp.api.v1beta1.etcd import EtcdManagementType, EtcdSpec

    hc = hosted_cluster()
    hc.spec.etcd = EtcdSpec.model_validate({
        "managementType": "Unmanaged",
        "unmanaged": {"endpoint": "https://etcd.ext:2379", "tls": {"clientSecret": {"name": "ext-etcd-client"}}}})
    assert hc.spec.etcd.management_type == EtcdManagementType.UNMANAGED
    assert "ext-etcd-client" in names(hc)


def test_the_audit_webhook_secret_is_copied_and_its_copy_goes_with_the_reference():
    hc = hosted_cluster()
    hc.spec.audit_webhook = LocalObjectReference(name="demo-audit-webhook")
    with_webhook = names(hc)
    assert "demo-audit-webhook" in with_webhook
    assert copied_references(hc)["audit webhook"].name == "demo-audit-webhook"
    hc.spec.audit_webhook = None
    assert stale_copies(TARGET, names(hc), with_webhook) == [("Secret", TARGET, "demo-audit-webhook")]


class _Secrets:
    """A client whose get returns the Secrets it holds, as lightkube's would."""

    def __init__(self, secrets):
        self.secrets = secrets

    async def get(self, _resource, name, namespace):
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import Secret

        return Secret(metadata=ObjectMeta(name=name, namespace=namespace), type="Opaque", data=self.secrets[name])


def _copy(hc, secrets):
    import asyncio

    from hcp.operator.hostedcluster import HostedClusterController

    controller = object.__new__(HostedClusterController)
    controller.client = _Secrets(secrets)
    problems: list[str] = []
    copies = asyncio.run(controller._copy_secrets(hc, "clusters", TARGET, problems))
    return copies, problems


def test_an_audit_webhook_secret_without_its_kubeconfig_key_is_a_configuration_problem():
    hc = hosted_cluster()
    hc.spec.audit_webhook = LocalObjectReference(name="demo-audit-webhook")
    present = {"demo-pull-secret": {".dockerconfigjson": "e30="}, "demo-etcd-encryption-key": {"key": "a2V5"}}
    copies, problems = _copy(hc, {**present, "demo-audit-webhook": {"kubeconfig": "eA=="}})
    assert problems == ["audit webhook Secret demo-audit-webhook has no key 'webhook-kubeconfig'"]
    assert "demo-audit-webhook" not in copies
    copies, problems = _copy(hc, {**present, "demo-audit-webhook": {"webhook-kubeconfig": "eA=="}})
    assert problems == []
    assert copies["demo-audit-webhook"]["data"] == {"webhook-kubeconfig": "eA=="}
    assert copies["demo-audit-webhook"]["metadata"]["namespace"] == TARGET


def test_the_audit_profile_and_webhook_reach_the_hosted_control_plane():
    from hcp.api import HostedControlPlane, to_dict
    from hcp.api.v1beta1.clusterconfig import AuditProfileType
    from hcp.operator.hostedcluster import control_plane_manifest

    hc = hosted_cluster()
    hc.metadata.uid = "0000-1111"
    spec = {**to_dict(hc.spec), "auditWebhook": {"name": "demo-audit-webhook"},
            "configuration": {"apiServer": {"audit": {"profile": "WriteRequestBodies",
                                                      "customRules": [{"group": "g", "profile": "None"}]}}}}
    manifest = control_plane_manifest(hc, spec, TARGET)
    assert manifest["spec"]["auditWebhook"] == {"name": "demo-audit-webhook"}
    hcp = HostedControlPlane.model_validate(manifest)
    assert hcp.spec.configuration.api_server.audit.profile == AuditProfileType.WRITE_REQUEST_BODIES
    assert hcp.spec.configuration.api_server.audit.custom_rules[0].group == "g"


CA_PEM = new_ca("test-oidc-ca").cert_pem.decode()
OIDC = {"type": "OIDC", "oidcProviders": [{
    "name": "corporate",
    "issuer": {"issuerURL": "https://login.example.com", "audiences": ["hcp"],
               "issuerCertificateAuthority": {"name": "demo-oidc-ca"}},
    "claimMappings": {"username": {"claim": "email"}},
}]}


def _with_authentication(hc, authentication):
    from hcp.api.v1beta1.clusterconfig import AuthenticationSpec, ClusterConfiguration

    hc.spec.configuration = ClusterConfiguration(authentication=AuthenticationSpec.model_validate(authentication))
    return hc


class _ConfigMaps:
    """A client whose get returns the ConfigMaps it holds (a 404 for the others), as lightkube's would."""

    def __init__(self, maps):
        self.maps = maps

    async def get(self, _resource, name, namespace):
        from lightkube import ApiError
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import ConfigMap

        if name not in self.maps:
            raise ApiError(response=_NotFound())
        return ConfigMap(metadata=ObjectMeta(name=name, namespace=namespace), data=self.maps[name])


class _NotFound:
    status_code = 404

    def json(self):
        return {"code": 404, "message": "not found", "reason": "NotFound", "status": "Failure"}


def _copy_maps(hc, maps):
    import asyncio

    from hcp.operator.hostedcluster import HostedClusterController

    controller = object.__new__(HostedClusterController)
    controller.client = _ConfigMaps(maps)
    problems: list[str] = []
    copies = asyncio.run(controller._copy_config_maps(hc, "clusters", TARGET, problems))
    return copies, problems


def test_the_oidc_issuer_ca_configmap_is_copied_with_type_oidc_only():
    from hcp.operator.hostedcluster import copied_config_maps

    hc = _with_authentication(hosted_cluster(), OIDC)
    assert {what: ref.name for what, ref in copied_config_maps(hc).items()} == {"OIDC issuer CA": "demo-oidc-ca"}
    copies, problems = _copy_maps(hc, {"demo-oidc-ca": {"ca-bundle.crt": CA_PEM}})
    assert problems == []
    copy = copies["demo-oidc-ca"]
    assert copy["kind"] == "ConfigMap" and "type" not in copy
    assert copy["metadata"]["namespace"] == TARGET and copy["data"] == {"ca-bundle.crt": CA_PEM}
    assert copied_config_maps(_with_authentication(hosted_cluster(), {**OIDC, "type": "None"})) == {}
    assert copied_config_maps(hosted_cluster()) == {}


def test_a_missing_issuer_ca_or_one_without_ca_bundle_crt_is_a_configuration_problem():
    hc = _with_authentication(hosted_cluster(), OIDC)
    copies, problems = _copy_maps(hc, {})
    assert problems == ["OIDC issuer CA ConfigMap demo-oidc-ca not found in namespace clusters"]
    copies, problems = _copy_maps(hc, {"demo-oidc-ca": {"ca.crt": CA_PEM}})
    assert problems == ["OIDC issuer CA ConfigMap demo-oidc-ca has no key 'ca-bundle.crt'"]
    assert copies == {}
    copies, problems = _copy_maps(hc, {"demo-oidc-ca": {"ca-bundle.crt": "not a certificate"}})
    assert problems == ["OIDC issuer CA ConfigMap demo-oidc-ca: key 'ca-bundle.crt' holds no PEM certificate"]
    assert copies == {}


def test_a_copied_configmap_no_longer_named_is_removed_and_secrets_are_left_to_their_own_pass():
    assert stale_copies(TARGET, [], ["demo-oidc-ca"], "ConfigMap") == [("ConfigMap", TARGET, "demo-oidc-ca")]
    assert stale_copies(TARGET, ["demo-oidc-ca"], ["demo-oidc-ca"], "ConfigMap") == []
