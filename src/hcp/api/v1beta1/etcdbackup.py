"""HCPEtcdBackup: a one-shot request to back up the etcd of one hosted control plane.

HyperShift's v1beta1 API (api/hypershift/v1beta1/etcdbackup_types.go), with its field
names, validation, condition type and reasons. The object lives in the control-plane
namespace beside its HostedControlPlane; its S3 credentials Secret lives in the
operator's namespace (`hypershift`), as in HyperShift (its format, with how a non-AWS
endpoint and its CA are given, is hcp.backup.credentials). hcp stores backups on S3 only:
`storageType: AzureBlob` and `kmsKeyARN` keep HyperShift's names and rules but are
refused at admission with a message saying hcp does not have them, rather than pruned
in silence.
"""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field

from hcp.api.base import KubeModel, KubeObject, TypeMeta
from hcp.api.formats import pattern_check
from hcp.api.markers import Checked, Rule, cel_string, immutable, kube_schema
from hcp.api.meta import Condition
from hcp.api.resource import PrinterColumn, ResourceInfo
from hcp.api.v1beta1.groupversion import API_VERSION

BACKUP_COMPLETED = "BackupCompleted"
"""The condition type: whether the etcd backup has completed (True = success, False = not, or failed)."""

BACKUP_SUCCEEDED_REASON = "BackupSucceeded"
BACKUP_FAILED_REASON = "BackupFailed"
BACKUP_IN_PROGRESS_REASON = "BackupInProgress"
BACKUP_REJECTED_REASON = "BackupRejected"
ETCD_UNHEALTHY_REASON = "EtcdUnhealthy"
TERMINAL_REASONS = (BACKUP_SUCCEEDED_REASON, BACKUP_FAILED_REASON, BACKUP_REJECTED_REASON)
"""Once BackupCompleted carries one of these, the backup is over and is never taken again (HyperShift's isTerminal)."""

SNAPSHOT_URL_PATTERN = r"^(https|s3)://.*"
"""A snapshot's URL, as HyperShift checks it: scheme https or s3."""

_NOT_REMOVABLE_KMS = Rule("!has(oldSelf.kmsKeyARN) || has(self.kmsKeyARN)", "kmsKeyARN cannot be removed once set")
_KMS_ARN = r"^arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$"
_SECRET_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_S3_KEY_PREFIX = r"^[a-zA-Z0-9!_.*'()/-]+$"


class HCPEtcdBackupStorageType(StrEnum):
    """Where the snapshot goes: HyperShift's two storage types, of which hcp has S3."""

    S3 = "S3"
    AZURE_BLOB = "AzureBlob"


SUPPORTED_STORAGE_RULE = Rule(
    "self == 'S3'",
    "storageType must be S3, the storage hcp has (any S3-compatible endpoint); AzureBlob is a HyperShift "
    "storage type that hcp does not have",
)
NO_KMS_RULE = Rule(
    "false",
    "kmsKeyARN is not supported by hcp: it does not encrypt backups with AWS KMS; leave it out",
)


def _not_contains(text: str, message: str) -> Checked:
    return Checked(Rule(f"!self.contains({cel_string(text)})", message), lambda value: text not in value)


class SecretReference(KubeModel):
    """A Secret by name, in the namespace the referencing field names (for backups: the operator's)."""

    name: Annotated[
        str,
        Field(min_length=1, max_length=253),
        pattern_check(
            "name must consist only of lowercase alphanumeric characters, hyphens, and periods. Each "
            "period-separated segment must start and end with an alphanumeric character.",
            _SECRET_NAME,
        ),
    ]
    """Name of the Secret: a DNS-1123 subdomain."""


class HCPEtcdBackupS3(KubeModel):
    """Where on S3 the snapshot goes, and with which credentials."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[_NOT_REMOVABLE_KMS]))

    bucket: Annotated[
        str,
        Field(min_length=3, max_length=63),
        pattern_check(
            "bucket must consist of lowercase letters, numbers, hyphens, and periods, and must start and end with "
            "a letter or number",
            r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$",
        ),
        _not_contains("..", "bucket must not contain consecutive periods"),
    ]
    """Name of the bucket the backups are stored in."""
    region: Annotated[
        str,
        Field(min_length=1, max_length=63),
        pattern_check(
            "region must consist of lowercase letters, digits, and hyphens, must start with a letter and end with "
            "an alphanumeric character",
            r"^[a-z][a-z0-9-]*[a-z0-9]$",
        ),
        _not_contains("--", "region must not contain consecutive hyphens"),
    ]
    """Region of the bucket (e.g. us-east-1; the embedded object store's is us-east-1)."""
    key_prefix: Annotated[
        str,
        Field(min_length=1, max_length=1024),
        pattern_check(
            "keyPrefix must consist of safe S3 key characters: alphanumeric characters, forward slashes, hyphens, "
            "underscores, periods, exclamation marks, asterisks, single quotes, and parentheses",
            _S3_KEY_PREFIX,
        ),
    ]
    """Key prefix of the snapshot: it is stored as `<keyPrefix>/<unix time>.db`."""
    credentials: SecretReference
    """Secret in the operator's namespace (hypershift) with an AWS credentials file in key `credentials`."""
    kms_key_arn: (
        Annotated[
            str,
            Field(min_length=1, max_length=256),
            pattern_check(
                "kmsKeyARN must be a valid AWS KMS key ARN (arn:<partition>:kms:<region>:<account-id>:key/<key-id>)",
                _KMS_ARN,
            ),
            Checked(NO_KMS_RULE, lambda _: False),
        ]
        | None
    ) = Field(default=None, alias="kmsKeyARN", json_schema_extra=kube_schema(rules=[immutable("kmsKeyARN")]))
    """HyperShift's server-side encryption key; hcp refuses it (it does not encrypt with KMS)."""


class HCPEtcdBackupStorage(KubeModel):
    """The storage backend of the backup: exactly the one its storageType names."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "self.storageType == 'S3' ? has(self.s3) : !has(self.s3)",
                    "s3 configuration is required when storageType is S3, and forbidden otherwise",
                )
            ]
        )
    )

    storage_type: Annotated[
        HCPEtcdBackupStorageType,
        Checked(SUPPORTED_STORAGE_RULE, lambda value: value == HCPEtcdBackupStorageType.S3),
    ]
    """The storage backend: S3 (AWS S3 or any S3-compatible endpoint)."""
    s3: HCPEtcdBackupS3 | None = None
    """The S3 settings; required when storageType is S3."""


class HCPEtcdBackupSpec(KubeModel):
    """What to back up where. A one-shot request: the whole spec is immutable once created."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(rules=[Rule("self == oldSelf", "HCPEtcdBackupSpec is immutable")])
    )

    storage: HCPEtcdBackupStorage
    """Where the etcd snapshot is uploaded."""


class HCPEtcdBackupStatus(KubeModel):
    """What became of the backup."""

    model_config = ConfigDict(json_schema_extra=kube_schema(keywords={"minProperties": 1}))

    conditions: list[Condition] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        json_schema_extra=kube_schema(list_type="map", list_map_keys=["type"]),
    )
    """BackupCompleted: True once stored; False while waiting or in progress, or failed or rejected (see reason)."""
    snapshot_url: (
        Annotated[
            str,
            Field(min_length=1, max_length=2048),
            pattern_check("snapshotURL must be a valid URL with scheme https or s3", SNAPSHOT_URL_PATTERN),
        ]
        | None
    ) = Field(default=None, alias="snapshotURL")
    """URL of the stored snapshot (s3://bucket/keyPrefix/<unix time>.db)."""


class HCPEtcdBackup(KubeObject):
    """A request to back up the etcd of the hosted control plane in this namespace."""

    resource: ClassVar[ResourceInfo] = ResourceInfo(
        plural="hcpetcdbackups",
        singular="hcpetcdbackup",
        short_names=("hcpetcdbk",),
        printer_columns=(
            PrinterColumn("Completed", "string", f'.status.conditions[?(@.type=="{BACKUP_COMPLETED}")].status',
                          "Backup completion status"),
            PrinterColumn("URL", "string", ".status.snapshotURL", "Snapshot URL"),
            PrinterColumn("Age", "date", ".metadata.creationTimestamp", ""),
        ),
    )

    api_version: TypeMeta[Literal[API_VERSION]] = API_VERSION
    """Versioned schema of this object: hypershift.openshift.io/v1beta1."""
    kind: TypeMeta[Literal["HCPEtcdBackup"]] = "HCPEtcdBackup"
    """Kind of this object: HCPEtcdBackup."""
    spec: HCPEtcdBackupSpec
    """What to back up where."""
    status: HCPEtcdBackupStatus | None = None
    """What became of the backup."""
