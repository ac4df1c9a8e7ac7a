"""The etcd cluster backing a hosted control plane."""

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from hcp.api.base import KubeModel
from hcp.api.formats import matches
from hcp.api.markers import Checked, Rule, cel_string, immutable, kube_schema
from hcp.api.meta import LocalObjectReference
from hcp.api.types import PositiveQuantity

DEFAULT_ETCD_STORAGE_SIZE = "8Gi"

SNAPSHOT_URL = "^(https|s3)://.*"
SNAPSHOT_URL_SCHEME = Rule(
    f"self.size() == 0 || self[0].matches({cel_string(SNAPSHOT_URL)})",
    "restoreSnapshotURL must be a valid URL with scheme https or s3",
)


class EtcdManagementType(StrEnum):
    """Who runs etcd: hcp (Managed) or the user (Unmanaged)."""

    MANAGED = "Managed"
    UNMANAGED = "Unmanaged"


class ManagedEtcdStorageType(StrEnum):
    """Where a managed etcd member keeps its data."""

    PERSISTENT_VOLUME = "PersistentVolume"


class PersistentVolumeEtcdStorageSpec(KubeModel):
    """The PersistentVolumeClaim created for each etcd member."""

    storage_class_name: str | None = Field(
        default=None, max_length=255, json_schema_extra=kube_schema(rules=[immutable("storageClassName")])
    )
    """StorageClass of each member's data volume; the cluster default when unset."""
    size: PositiveQuantity = Field(
        default=DEFAULT_ETCD_STORAGE_SIZE, json_schema_extra=kube_schema(rules=[immutable("Etcd PV storage size")])
    )
    """Minimum size of each member's data volume."""


class ManagedEtcdStorageSpec(KubeModel):
    """Storage of a managed etcd cluster."""

    type: ManagedEtcdStorageType
    """Storage implementation; only PersistentVolume."""
    persistent_volume: PersistentVolumeEtcdStorageSpec | None = None
    """Volume settings for type PersistentVolume (one volume per member: 1, or 3 when highly available)."""
    restore_snapshot_url: (
        Annotated[
            list[Annotated[str, Field(max_length=1024)]],
            Field(max_length=1),
            Checked(SNAPSHOT_URL_SCHEME, lambda urls: not urls or matches(SNAPSHOT_URL, urls[0])),
        ]
        | None
    ) = Field(
        default=None,
        alias="restoreSnapshotURL",
        json_schema_extra=kube_schema(
            list_type="set",
            rules=[
                Rule("self.size() <= 1", "RestoreSnapshotURL shouldn't contain more than 1 entry"),
                immutable("restoreSnapshotURL"),
            ],
        ),
    )
    """URL of an etcd snapshot restored when the members start with empty volumes."""


class ManagedEtcdSpec(KubeModel):
    """An etcd cluster run by hcp as part of the control plane."""

    storage: ManagedEtcdStorageSpec = Field(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "has(self.restoreSnapshotURL) == has(oldSelf.restoreSnapshotURL)",
                    "restoreSnapshotURL cannot be added or removed after creation",
                )
            ]
        )
    )
    """How etcd data is persisted."""


class EtcdTLSConfig(KubeModel):
    """Client TLS for an externally managed etcd."""

    client_secret: LocalObjectReference
    """Secret with etcd-client-ca.crt, etcd-client.crt and etcd-client.key."""


class UnmanagedEtcdSpec(KubeModel):
    """An etcd cluster the user runs; the control plane only connects to it."""

    endpoint: str = Field(max_length=255, pattern=r"^https://")
    """Client URL of the etcd cluster, e.g. https://etcd-client:2379."""
    tls: EtcdTLSConfig
    """Client certificates for the endpoint."""


class EtcdSpec(KubeModel):
    """The etcd cluster of the control plane."""

    model_config = ConfigDict(
        json_schema_extra=kube_schema(
            rules=[
                Rule(
                    "self.managementType == 'Managed' ? has(self.managed) : !has(self.managed)",
                    "Only managed configuration must be set when managementType is Managed",
                ),
                Rule(
                    "self.managementType == 'Unmanaged' ? has(self.unmanaged) : !has(self.unmanaged)",
                    "Only unmanaged configuration must be set when managementType is Unmanaged",
                ),
            ]
        )
    )

    management_type: EtcdManagementType = Field(json_schema_extra=kube_schema(rules=[immutable("managementType")]))
    """Whether hcp runs etcd (Managed) or connects to the user's (Unmanaged)."""
    managed: ManagedEtcdSpec | None = None
    """Settings of a managed etcd."""
    unmanaged: UnmanagedEtcdSpec | None = None
    """Connection to an unmanaged etcd."""


def default_etcd() -> EtcdSpec:
    """HyperShift's default: managed etcd on an 8Gi PersistentVolume per member."""
    return EtcdSpec(
        management_type=EtcdManagementType.MANAGED,
        managed=ManagedEtcdSpec(
            storage=ManagedEtcdStorageSpec(
                type=ManagedEtcdStorageType.PERSISTENT_VOLUME,
                persistent_volume=PersistentVolumeEtcdStorageSpec(),
            )
        ),
    )
