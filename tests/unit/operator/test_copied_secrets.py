"""The Secrets the HostedCluster controller copies into the control-plane namespace, and which copies go."""

from __future__ import annotations

from hcp.api.v1beta1.common import AESCBCSpec, SecretEncryptionSpec, SecretEncryptionType
from hcp.api.meta import LocalObjectReference
from hcp.operator.hostedcluster import copied_references, stale_copies
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
