"""Small types shared by HostedCluster, HostedControlPlane and NodePool."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from hcp.api.base import KubeModel
from hcp.api.formats import label_map, pattern_check
from hcp.api.markers import Rule, immutable, immutable_once_set, kube_schema
from hcp.api.meta import LocalObjectReference
from hcp.api.types import Int32
from hcp.api.v1beta1.kms import KMSSpec

PAUSED_UNTIL = pattern_check(
    "PausedUntil must be a date in RFC3339 format or 'True', 'true', 'False' or 'false'",
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.*$",
    values=("true", "false", "True", "False", ""),
)
"""HyperShift's rule, plus the empty string: the docs resume reconciliation with `{"spec":{"pausedUntil":""}}`
(7.3), which HyperShift's CRD refuses since it set a minimum length of 4; hcp takes it as not paused."""
_DOMAIN = r"^(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}|[a-zA-Z0-9-]+)$"
ControlPlaneLabels = label_map(20)
"""spec.nodeSelector and spec.labels, copied to the control-plane pods: at most 20 entries, as HyperShift bounds them."""

SECRET_ENCRYPTION_NOT_REMOVABLE = Rule(
    "!has(oldSelf.secretEncryption) || has(self.secretEncryption)",
    "secretEncryption cannot be removed once configured",
)


class Release(KubeModel):
    """A release payload image: the Kubernetes version and the images of its components."""

    image: Annotated[
        str,
        Field(min_length=1, max_length=253),
        pattern_check(
            "Image must start with a word character (letters, digits, or underscores) and contain no white spaces",
            r"^(\w+\S+)$",
        ),
    ]
    """Pull spec of the release payload image."""


class AvailabilityPolicy(StrEnum):
    """How resilient a set of components is to failures."""

    HIGHLY_AVAILABLE = "HighlyAvailable"
    SINGLE_REPLICA = "SingleReplica"


class DNSSpec(KubeModel):
    """DNS configuration of the hosted cluster's ingress."""

    base_domain: Annotated[
        str,
        Field(max_length=253),
        pattern_check(
            "baseDomain must be a valid domain name (e.g., example, example.com, sub.example.com)", _DOMAIN, values=("",)
        ),
    ] = Field(json_schema_extra=kube_schema(rules=[immutable_once_set("baseDomain")]))
    """Base domain of the hosted cluster; ingress is served under <baseDomainPrefix>.<baseDomain>."""
    base_domain_prefix: (
        Annotated[
            str,
            Field(max_length=253),
            pattern_check(
                "baseDomainPrefix must be a valid domain name (e.g., example, example.com, sub.example.com)",
                _DOMAIN,
                values=("",),
            ),
        ]
        | None
    ) = Field(default=None, json_schema_extra=kube_schema(rules=[immutable("baseDomainPrefix")]))
    """Subdomain prepended to baseDomain; defaults to the HostedCluster name, "" means none."""
    public_zone_id: str | None = Field(
        default=None,
        alias="publicZoneID",
        min_length=1,
        max_length=258,
        json_schema_extra=kube_schema(rules=[immutable_once_set("publicZoneID")]),
    )
    """DNS zone holding the publicly resolvable records of the cluster."""
    private_zone_id: str | None = Field(
        default=None,
        alias="privateZoneID",
        min_length=1,
        max_length=265,
        json_schema_extra=kube_schema(rules=[immutable_once_set("privateZoneID")]),
    )
    """DNS zone holding the records only resolvable inside the cluster."""


class SecretEncryptionType(StrEnum):
    """How the kube-apiserver encrypts Secrets at rest."""

    KMS = "kms"
    AESCBC = "aescbc"


class AESCBCSpec(KubeModel):
    """Keys of the aescbc encryption provider."""

    active_key: LocalObjectReference
    """Secret (key "key") with the key used to encrypt new Secrets."""
    backup_key: LocalObjectReference | None = None
    """Secret with the previous key, kept during rotation so old Secrets can still be decrypted."""


class SecretEncryptionSpec(KubeModel):
    """Encryption at rest of Secrets in the hosted cluster's etcd. hcp honours type aescbc; type kms is
    HyperShift's (AWS, Azure, IBM Cloud key management services), accepted with its schema and reported, and a
    cluster of that type is not served (hcp.api.validation). As in HyperShift, no rule ties `type` to the member that is set: the
    kube-apiserver adapter refuses a type without its settings when it renders."""

    type: SecretEncryptionType
    """Encryption strategy: aescbc (a local key) or kms (an external key management service)."""
    kms: KMSSpec | None = None
    """Configuration of the kms strategy (HyperShift's; not honoured by hcp, reported when set)."""
    aescbc: AESCBCSpec | None = None
    """Configuration of the aescbc strategy."""


class KubeconfigSecretRef(KubeModel):
    """A key in a Secret holding a kubeconfig."""

    name: str = Field(max_length=255)
    """Name of the Secret."""
    key: str = Field(max_length=255)
    """Key within the Secret."""


class APIEndpoint(KubeModel):
    """A reachable Kubernetes API endpoint."""

    host: str = Field(max_length=255)
    """Hostname or IP address the API server is served on."""
    port: Int32
    """Port the API server is served on."""
