"""spec.secretEncryption.kms: HyperShift's KMS encryption of Secrets at rest (AWS, Azure and IBM Cloud).

hcp encrypts Secrets with aescbc only: it runs no KMS plugin, and its platforms are none of these
clouds. The settings are modelled with HyperShift's names, types, bounds, rules and messages so that
a HostedCluster written for HyperShift is admitted unchanged (not pruned) and a malformed one is
refused as HyperShift refuses it; `unhonoured_fields` reports `spec.secretEncryption.kms`, and a
HostedCluster of type kms is not served (ValidConfiguration=False, hcp.api.validation; the kube-apiserver
adapter refuses to render it too), so that Secrets are never stored unencrypted when encryption was
asked for.
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from hcp.api.base import KubeModel
from hcp.api.formats import pattern_check
from hcp.api.markers import Checked, Rule, kube_schema
from hcp.api.meta import LocalObjectReference


class KMSProvider(StrEnum):
    """The key management service of type kms."""

    IBM_CLOUD = "IBMCloud"
    AWS = "AWS"
    AZURE = "Azure"


# --- AWS ----------------------------------------------------------------------------------------

AWSKMSKeyARN = Annotated[
    str, Field(min_length=1, max_length=2048),
    Checked(Rule("self.startsWith('arn:')", "arn must start with 'arn:'"), lambda arn: arn.startswith("arn:")),
]


class AWSKMSKeyEntry(KubeModel):
    """An AWS KMS key."""

    arn: AWSKMSKeyARN
    """Amazon Resource Name of the key."""


class AWSKMSAuthSpec(KubeModel):
    """How the AWS KMS plugin authenticates."""

    aws_kms_role_arn: str = Field(alias="awsKms", max_length=2048)
    """ARN of the role the plugin assumes (web identity) to use the key."""


class AWSKMSSpec(KubeModel):
    """AWS KMS encryption."""

    region: str = Field(max_length=255)
    """AWS region of the key."""
    active_key: AWSKMSKeyEntry
    """Key that encrypts new Secrets."""
    backup_key: AWSKMSKeyEntry | None = None
    """Previous key, kept during a rotation so that older Secrets can still be decrypted."""
    auth: AWSKMSAuthSpec
    """Credentials of the plugin."""


# --- Azure --------------------------------------------------------------------------------------

_UUID = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
# The pattern is the schema's alone: the rule below decides the same in Python, with HyperShift's message.
AzureClientID = Annotated[
    str, Field(min_length=36, max_length=36, json_schema_extra=kube_schema(keywords={"pattern": _UUID})),
    pattern_check("the client ID of a managed identity must be a valid UUID. It should be 5 groups of hyphen "
                  "separated hexadecimal characters in the form 8-4-4-4-12.", _UUID),
]
"""The client ID of an Azure managed identity (a UUID)."""


class ObjectEncodingFormat(StrEnum):
    """Encoding of the certificate stored in Azure Key Vault."""

    UTF8 = "utf-8"
    HEX = "hex"
    BASE64 = "base64"


class ManagedIdentity(KubeModel):
    """A managed identity whose credentials are in Azure Key Vault (ARO HCP)."""

    client_id: AzureClientID | None = Field(default=None, alias="clientID")
    """Client ID of the identity."""
    object_encoding: ObjectEncodingFormat
    """Encoding of the Key Vault secret holding the identity's certificate."""
    credentials_secret_name: str = Field(min_length=1, max_length=127, pattern=r"^[a-zA-Z0-9-]+$")
    """Name of the Key Vault secret with the identity's credentials."""


class WorkloadIdentity(KubeModel):
    """A federated managed identity used with workload identity."""

    client_id: AzureClientID = Field(alias="clientID")
    """Client ID of the identity."""


class AzureKMSKeyVaultType(StrEnum):
    """Which Azure service holds the keys."""

    KEY_VAULT = "KeyVault"
    MANAGED_HSM = "ManagedHSM"


class AzureKeyVaultAccessType(StrEnum):
    """How the Key Vault is reached."""

    PUBLIC = "Public"
    PRIVATE = "Private"
    DEFAULT = ""


class AzureKMSKey(KubeModel):
    """A key in Azure Key Vault or Managed HSM."""

    key_vault_name: str = Field(min_length=1, max_length=255)
    """Name of the Key Vault or Managed HSM."""
    key_name: str = Field(min_length=1, max_length=255)
    """Name of the key."""
    key_version: str = Field(min_length=1, max_length=255)
    """Version of the key."""


SAME_KEY_VAULT = Rule(
    "!has(self.backupKey) || self.backupKey.keyVaultName == self.activeKey.keyVaultName",
    "backupKey.keyVaultName must match activeKey.keyVaultName; both keys must reside in the same Key Vault")
KMS_XOR_WORKLOAD_IDENTITY = Rule("!(has(self.kms) && has(self.workloadIdentity))",
                                 "kms and workloadIdentity are mutually exclusive")
KMS_OR_WORKLOAD_IDENTITY = Rule("has(self.kms) || has(self.workloadIdentity)",
                                "one of kms or workloadIdentity must be set")


class AzureKMSSpec(KubeModel):
    """Azure Key Vault (or Managed HSM) encryption."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[
        SAME_KEY_VAULT,
        Rule("(has(self.keyVaultType) ? self.keyVaultType : 'KeyVault') == "
             "(has(oldSelf.keyVaultType) ? oldSelf.keyVaultType : 'KeyVault')", "keyVaultType is immutable"),
        KMS_XOR_WORKLOAD_IDENTITY,
        KMS_OR_WORKLOAD_IDENTITY,
        Rule("has(self.kms) == has(oldSelf.kms)", "the KMS authentication mode is immutable once set"),
    ]))

    active_key: AzureKMSKey
    """Key that encrypts new Secrets."""
    backup_key: AzureKMSKey | None = None
    """Previous key, kept during a rotation; in the same Key Vault."""
    kms: ManagedIdentity | None = None
    """Managed identity used to reach Key Vault (ARO HCP); exclusive with workloadIdentity."""
    workload_identity: WorkloadIdentity | None = None
    """Workload identity used to reach Key Vault; exclusive with kms."""
    key_vault_type: AzureKMSKeyVaultType | None = None
    """KeyVault (the default) or ManagedHSM; immutable."""
    key_vault_access: AzureKeyVaultAccessType | None = None
    """Public (the default, also "") or Private."""

    @model_validator(mode="after")
    def _hypershift_rules(self) -> Self:
        if self.backup_key is not None and self.backup_key.key_vault_name != self.active_key.key_vault_name:
            raise ValueError(SAME_KEY_VAULT.message)
        if self.kms is not None and self.workload_identity is not None:
            raise ValueError(KMS_XOR_WORKLOAD_IDENTITY.message)
        if self.kms is None and self.workload_identity is None:
            raise ValueError(KMS_OR_WORKLOAD_IDENTITY.message)
        return self


# --- IBM Cloud ----------------------------------------------------------------------------------


class IBMCloudKMSAuthType(StrEnum):
    """Who holds the credentials for IBM Cloud KMS."""

    MANAGED = "Managed"
    UNMANAGED = "Unmanaged"


class IBMCloudKMSUnmanagedAuthSpec(KubeModel):
    """Credentials the user provides."""

    credentials: LocalObjectReference
    """Secret with the IBM Cloud API key."""


class IBMCloudKMSManagedAuthSpec(KubeModel):
    """Service-to-service authentication of the IBM Cloud platform; it has no settings."""


class IBMCloudKMSAuthSpec(KubeModel):
    """How the plugin authenticates to IBM Cloud KMS."""

    type: IBMCloudKMSAuthType
    """Managed or Unmanaged."""
    unmanaged: IBMCloudKMSUnmanagedAuthSpec | None = None
    """The user's credentials (type Unmanaged)."""
    managed: IBMCloudKMSManagedAuthSpec | None = None
    """Platform-managed authentication (type Managed)."""


class IBMCloudKMSKeyEntry(KubeModel):
    """A key of IBM Key Protect."""

    crk_id: str = Field(alias="crkID", min_length=1, max_length=255)
    """ID of the customer root key."""
    instance_id: str = Field(alias="instanceID", min_length=1, max_length=255)
    """ID of the Key Protect instance."""
    correlation_id: str = Field(alias="correlationID", min_length=1, max_length=255)
    """Identifier tracking the API calls."""
    url: Annotated[
        str, Field(min_length=1, max_length=2048),
        Checked(Rule("self.startsWith('https://')", "url must start with 'https://'"),
                lambda url: url.startswith("https://")),
    ]
    """URL of the Key Protect API."""
    key_version: int = Field(ge=0, le=2147483647)
    """Version of the key, incremented whenever a new key is enabled."""


class IBMCloudKMSSpec(KubeModel):
    """IBM Cloud KMS encryption."""

    region: str = Field(max_length=255)
    """IBM Cloud region."""
    auth: IBMCloudKMSAuthSpec
    """How the plugin authenticates."""
    key_list: list[IBMCloudKMSKeyEntry] = Field(max_length=100)
    """Keys used for encryption."""


class KMSSpec(KubeModel):
    """HyperShift's KMS encryption of Secrets: which service, and its keys. Accepted, not honoured: hcp
    encrypts with aescbc only (reported as spec.secretEncryption.kms, and not rendered)."""

    provider: KMSProvider
    """IBMCloud, AWS or Azure."""
    ibmcloud: IBMCloudKMSSpec | None = None
    """Settings of IBM Cloud KMS."""
    aws: AWSKMSSpec | None = None
    """Settings of AWS KMS."""
    azure: AzureKMSSpec | None = None
    """Settings of Azure Key Vault."""


__all__ = ["KMSProvider", "KMSSpec"]
