"""certificates.hypershift.openshift.io/v1alpha1 CertificateRevocationRequest.

HyperShift's API (api/certificates/v1alpha1): a request, in a control-plane
namespace, to revoke every certificate issued by the signers of one signer
class. hcp serves it in HyperShift's own group and version, v1alpha1, rather
than folding it into hypershift.openshift.io/v1beta1: HyperShift has never
served it anywhere else, so manifests, `kubectl get crr` and clients written
for HyperShift work unchanged, and the alpha version says what it is.

The one signer class is `customer-break-glass` (HyperShift's enum): the signer
of the admin kubeconfig and of `hcp create kubeconfig --ttl`. What the operator
does with a request, condition by condition, is hcp.controlplane.revocation.
"""

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from hcp.api.base import KubeModel, KubeObject, TypeMeta
from hcp.api.markers import Rule, kube_schema
from hcp.api.meta import Condition, LocalObjectReference
from hcp.api.resource import PrinterColumn, ResourceInfo
from hcp.api.types import Time

GROUP = "certificates.hypershift.openshift.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Condition types and reasons, HyperShift's names.
SIGNER_CLASS_VALID = "SignerClassValid"
SIGNER_CLASS_UNKNOWN_REASON = "SignerClassUnknown"
ROOT_CERTIFICATES_REGENERATED = "RootCertificatesRegenerated"
ROOT_CERTIFICATES_STALE_REASON = "RootCertificatesStale"
LEAF_CERTIFICATES_REGENERATED = "LeafCertificatesRegenerated"
LEAF_CERTIFICATES_STALE_REASON = "LeafCertificatesStale"
NEW_CERTIFICATES_TRUSTED = "NewCertificatesTrusted"
PREVIOUS_CERTIFICATES_REVOKED = "PreviousCertificatesRevoked"
AS_EXPECTED_REASON = "AsExpected"
WAITING_FOR_AVAILABLE_REASON = "WaitingForAvailable"


class SignerClass(StrEnum):
    """A class of signers the control plane knows (HyperShift's certificates.SignerClass)."""

    CUSTOMER_BREAK_GLASS = "customer-break-glass"
    """The signer of the cluster owner's break-glass credentials: the admin kubeconfig, `--ttl` kubeconfigs."""


class CertificateRevocationRequestSpec(KubeModel):
    """Which signer class to revoke."""

    signer_class: SignerClass = Field(json_schema_extra=kube_schema(rules=[
        Rule("self == oldSelf", "signerClass is immutable")]))
    """The class of signer to revoke: its signing CAs are replaced and all they issued stops being accepted."""


class CertificateRevocationRequestStatus(KubeModel):
    """How far the revocation has come."""

    revocation_timestamp: Time | None = None
    """The cut-off: certificates of the class issued before it are revoked; re-generated ones are issued after."""
    previous_signer: LocalObjectReference | None = None
    """The Secret holding a copy of the signer being revoked, kept to check that the API servers reject it."""
    conditions: list[Condition] | None = Field(
        default=None, json_schema_extra=kube_schema(list_type="map", list_map_keys=["type"]))
    """The steps of the revocation, in order: SignerClassValid ... PreviousCertificatesRevoked."""


class CertificateRevocationRequest(KubeObject):
    """A request to revoke a signer of the hosted control plane in this namespace, and all it signed."""

    resource: ClassVar[ResourceInfo] = ResourceInfo(
        plural="certificaterevocationrequests",
        singular="certificaterevocationrequest",
        short_names=("crr", "crrs"),
        printer_columns=(
            PrinterColumn("SignerClass", "string", ".spec.signerClass", "The signer class revoked"),
            PrinterColumn("Revoked", "string",
                          f'.status.conditions[?(@.type=="{PREVIOUS_CERTIFICATES_REVOKED}")].status',
                          "Whether the previous certificates are revoked"),
            PrinterColumn("Age", "date", ".metadata.creationTimestamp", ""),
        ),
    )

    api_version: TypeMeta[Literal[API_VERSION]] = API_VERSION
    """Versioned schema of this object: certificates.hypershift.openshift.io/v1alpha1."""
    kind: TypeMeta[Literal["CertificateRevocationRequest"]] = "CertificateRevocationRequest"
    """Kind of this object: CertificateRevocationRequest."""
    spec: CertificateRevocationRequestSpec
    """Which signer class to revoke."""
    status: CertificateRevocationRequestStatus | None = None
    """How far the revocation has come."""
