"""HCPEtcdBackup: HyperShift's field names, rules and messages, in the CRD and in the model alike.

The valid and refused values are the cases of HyperShift's own CRD test suite
(cmd/install/assets/crds/hypershift-operator/tests/hcpetcdbackups...); what hcp does
not have (AzureBlob, KMS) is refused with a message that says so.
"""

import copy

import pytest
from pydantic import ValidationError

from hcp.api import HCPEtcdBackup, HostedCluster, to_dict
from hcp.api.v1beta1 import etcdbackup

BACKUP = {
    "apiVersion": "hypershift.openshift.io/v1beta1",
    "kind": "HCPEtcdBackup",
    "metadata": {"name": "nightly", "namespace": "clusters-demo"},
    "spec": {
        "storage": {
            "storageType": "S3",
            "s3": {
                "bucket": "my-backup-bucket",
                "region": "us-east-1",
                "keyPrefix": "backups/etcd",
                "credentials": {"name": "aws-credentials"},
            },
        }
    },
}


def backup(**s3) -> dict:
    body = copy.deepcopy(BACKUP)
    body["spec"]["storage"]["s3"].update(s3)
    return body


def refusal(body: dict) -> str:
    with pytest.raises(ValidationError) as error:
        HCPEtcdBackup.model_validate(body)
    return str(error.value)


def node_at(schema: dict, path: str) -> dict:
    node = schema
    for part in path.strip(".").split("."):
        node = node["properties"][part]
    return node


def messages(node: dict) -> list[str]:
    return [validation["message"] for validation in node.get("x-kubernetes-validations", [])]


def test_a_valid_s3_backup_round_trips_with_hypershifts_json_names():
    parsed = HCPEtcdBackup.model_validate(BACKUP)
    assert parsed.spec.storage.s3.key_prefix == "backups/etcd"
    assert to_dict(parsed) == BACKUP


@pytest.mark.parametrize(("s3", "message"), [
    ({"bucket": "ab"}, "at least 3 characters"),
    ({"bucket": "b" * 64}, "at most 63 characters"),
    ({"bucket": "My-Bucket"}, "bucket must consist of lowercase letters, numbers, hyphens, and periods"),
    ({"bucket": "my..bucket"}, "bucket must not contain consecutive periods"),
    ({"region": "US-East-1"}, "region must consist of lowercase letters, digits, and hyphens"),
    ({"region": "us--east-1"}, "region must not contain consecutive hyphens"),
    ({"keyPrefix": "backups/etcd snapshot"}, "keyPrefix must consist of safe S3 key characters"),
    ({"credentials": {"name": "Bad_Name"}}, "name must consist only of lowercase alphanumeric characters"),
    ({"kmsKeyARN": "not-an-arn"}, "kmsKeyARN must be a valid AWS KMS key ARN"),
    ({"kmsKeyARN": "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"},
     "kmsKeyARN is not supported by hcp"),
])
def test_s3_values_hypershift_refuses_are_refused(s3, message):
    assert message in refusal(backup(**s3))


def test_only_s3_storage_is_admitted():
    azure = copy.deepcopy(BACKUP)
    azure["spec"]["storage"]["storageType"] = "AzureBlob"
    assert "AzureBlob is a HyperShift storage type that hcp does not have" in refusal(azure)
    unknown = copy.deepcopy(BACKUP)
    unknown["spec"]["storage"]["storageType"] = "GCS"
    assert "'S3' or 'AzureBlob'" in refusal(unknown)


def test_the_schema_carries_hypershifts_rules(schema_by_kind):
    schema = schema_by_kind["HCPEtcdBackup"]
    assert messages(node_at(schema, ".spec")) == ["HCPEtcdBackupSpec is immutable"]
    storage = node_at(schema, ".spec.storage")
    assert messages(storage) == ["s3 configuration is required when storageType is S3, and forbidden otherwise"]
    assert storage["required"] == ["storageType"]
    assert node_at(schema, ".spec.storage.storageType")["enum"] == ["S3", "AzureBlob"]
    s3 = node_at(schema, ".spec.storage.s3")
    assert sorted(s3["required"]) == ["bucket", "credentials", "keyPrefix", "region"]
    assert messages(s3) == ["kmsKeyARN cannot be removed once set"]
    assert "kmsKeyARN is immutable" in messages(node_at(schema, ".spec.storage.s3.kmsKeyARN"))
    bucket = node_at(schema, ".spec.storage.s3.bucket")
    assert (bucket["minLength"], bucket["maxLength"]) == (3, 63)
    prefix = node_at(schema, ".spec.storage.s3.keyPrefix")
    assert (prefix["minLength"], prefix["maxLength"]) == (1, 1024)
    assert [v["rule"] for v in prefix["x-kubernetes-validations"]] == [r"self.matches('^[a-zA-Z0-9!_.*\'()/-]+$')"]
    status = node_at(schema, ".status")
    assert status["minProperties"] == 1
    conditions = node_at(schema, ".status.conditions")
    assert (conditions["minItems"], conditions["maxItems"]) == (1, 10)
    assert conditions["x-kubernetes-list-type"] == "map"
    url = node_at(schema, ".status.snapshotURL")
    assert (url["minLength"], url["maxLength"]) == (1, 2048)
    assert messages(url) == ["snapshotURL must be a valid URL with scheme https or s3"]


@pytest.mark.parametrize(("url", "admitted"), [
    ("s3://hcp-backups/clusters-demo/1700000000.db", True),
    ("https://bucket.s3.amazonaws.com/key.db?X-Amz-Signature=abc", True),
    ("http://example.com/x.db", False),
    ("file:///tmp/x.db", False),
])
def test_snapshot_urls_and_the_hosted_clusters_record(url, admitted):
    body = {**copy.deepcopy(BACKUP), "status": {"snapshotURL": url}}
    cluster = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
               "metadata": {"name": "demo", "namespace": "clusters"},
               "spec": {"release": {"image": "r/x:1"}, "platform": {"type": "KWOK"}, "pullSecret": {"name": "p"},
                        "services": []},
               "status": {"lastSuccessfulEtcdBackupURL": url}}
    if admitted:
        assert HCPEtcdBackup.model_validate(body).status.snapshot_url == url
        assert HostedCluster.model_validate(cluster).status.last_successful_etcd_backup_url == url
    else:
        assert "snapshotURL must be a valid URL with scheme https or s3" in refusal(body)
        with pytest.raises(ValidationError, match="lastSuccessfulEtcdBackupURL must be a valid URL"):
            HostedCluster.model_validate(cluster)


def test_hosted_cluster_status_records_the_last_backup(schema_by_kind):
    node = node_at(schema_by_kind["HostedCluster"], ".status.lastSuccessfulEtcdBackupURL")
    assert (node["minLength"], node["maxLength"]) == (1, 2048)
    assert messages(node) == ["lastSuccessfulEtcdBackupURL must be a valid URL with scheme https or s3"]


def test_condition_type_and_reasons_are_hypershifts():
    assert etcdbackup.BACKUP_COMPLETED == "BackupCompleted"
    assert (etcdbackup.BACKUP_SUCCEEDED_REASON, etcdbackup.BACKUP_FAILED_REASON, etcdbackup.BACKUP_IN_PROGRESS_REASON,
            etcdbackup.BACKUP_REJECTED_REASON, etcdbackup.ETCD_UNHEALTHY_REASON) == (
        "BackupSucceeded", "BackupFailed", "BackupInProgress", "BackupRejected", "EtcdUnhealthy")
