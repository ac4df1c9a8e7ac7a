"""Revoking the customer-break-glass signer: what a CertificateRevocationRequest asks, step by step.

HyperShift's control-plane-pki-operator flow, with its condition types and
reasons, decided here from what is observed (pure; the HostedControlPlane
controller gathers the facts, applies the outcome and probes the API servers):

1. SignerClassValid: the class is customer-break-glass (else False,
   SignerClassUnknown, and nothing else happens). revocationTimestamp is set.
2. The current signer is copied into the Secret `previous_signer_name(crr)`
   (owned by the request) and recorded in status.previousSigner:
   RootCertificatesRegenerated=False (RootCertificatesStale).
3. While the signer is still the copied one, a new signer is generated and
   written to customer-system-admin-signer: RootCertificatesRegenerated=True,
   NewCertificatesTrusted=False. hcp.controlplane.pki re-issues the admin
   kubeconfig from it in the same pass, and the client CA bundle holds both the
   new and the previous signer (`trusted_signers`), so nothing stops working.
4. NewCertificatesTrusted=True once every API server accepts a certificate of
   the new signer (the kubelet refreshes the mounted bundle, the API server
   re-reads it: no restart).
5. LeafCertificatesRegenerated=True once the admin kubeconfig is issued by the
   new signer; from then on the previous signer leaves the bundle:
   PreviousCertificatesRevoked=False (WaitingForAvailable).
6. PreviousCertificatesRevoked=True once every API server refuses a
   certificate of the previous signer. The request is done.

Each step is recomputed from the world on every pass; a step already recorded
True stays True (the facts behind it may no longer be checkable, e.g. the new
signer cannot be re-probed as "new" after a later revocation). Only the oldest
unfinished request of the namespace acts; later ones wait their turn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from hcp.api.certificates.v1alpha1 import (
    AS_EXPECTED_REASON,
    LEAF_CERTIFICATES_REGENERATED,
    LEAF_CERTIFICATES_STALE_REASON,
    NEW_CERTIFICATES_TRUSTED,
    PREVIOUS_CERTIFICATES_REVOKED,
    ROOT_CERTIFICATES_REGENERATED,
    ROOT_CERTIFICATES_STALE_REASON,
    SIGNER_CLASS_UNKNOWN_REASON,
    SIGNER_CLASS_VALID,
    WAITING_FOR_AVAILABLE_REASON,
    SignerClass,
)

ConditionValue = tuple[bool, str, str]
"""(status, reason, message) of one condition."""


class Step(Enum):
    """Where a request stands: the next thing to happen."""

    INVALID = "invalid"
    """Unknown signer class: nothing happens."""
    COPY_SIGNER = "copy-signer"
    """Copy the current signer into the previous-signer Secret and record it."""
    ROTATE_SIGNER = "rotate-signer"
    """Replace the signer with a new one."""
    TRUST_NEW = "trust-new"
    """Wait for every API server to accept the new signer (bundle: new + previous)."""
    REISSUE_LEAVES = "reissue-leaves"
    """Wait for the admin kubeconfig to be re-issued by the new signer (bundle: new + previous)."""
    REVOKE_PREVIOUS = "revoke-previous"
    """The previous signer is out of the bundle; wait for every API server to refuse it."""
    DONE = "done"


@dataclass(frozen=True)
class Facts:
    """What a pass observed of one request and the signer it revokes."""

    signer_class: str
    previous_recorded: bool
    """status.previousSigner is set."""
    previous_signer: bytes | None
    """The certificate in the previous-signer copy, None while there is no copy."""
    current_signer: bytes | None
    """The certificate of customer-system-admin-signer now."""
    recorded: frozenset[str] = frozenset()
    """Condition types already True in status."""
    admin_reissued: bool = False
    """The admin kubeconfig's client certificate is issued by the current signer."""
    new_trusted: bool | None = None
    """Every API server accepts the current signer (None: not probed)."""
    previous_rejected: bool | None = None
    """Every API server refuses the previous signer (None: not probed)."""


def valid_signer_class(signer_class: str) -> bool:
    return signer_class in {member.value for member in SignerClass}


def rotated(facts: Facts) -> bool:
    """The signer is no longer the copied one: it was regenerated after the copy was taken."""
    return facts.previous_signer is not None and facts.current_signer is not None \
        and facts.current_signer.strip() != facts.previous_signer.strip()


def step(facts: Facts) -> Step:
    """The next thing to happen for a request, from the facts (probe results included when known)."""
    if not valid_signer_class(facts.signer_class):
        return Step.INVALID
    if not facts.previous_recorded or facts.previous_signer is None:
        return Step.COPY_SIGNER
    if not rotated(facts) and ROOT_CERTIFICATES_REGENERATED not in facts.recorded:
        return Step.ROTATE_SIGNER
    if NEW_CERTIFICATES_TRUSTED not in facts.recorded and not facts.new_trusted:
        return Step.TRUST_NEW
    if LEAF_CERTIFICATES_REGENERATED not in facts.recorded and not facts.admin_reissued:
        return Step.REISSUE_LEAVES
    if PREVIOUS_CERTIFICATES_REVOKED not in facts.recorded and not facts.previous_rejected:
        return Step.REVOKE_PREVIOUS
    return Step.DONE


def trusts_previous(facts: Facts) -> bool:
    """Whether the client CA bundle must still hold the previous signer: until the new one is trusted and the
    admin kubeconfig re-issued, so that the admin kubeconfig works throughout (HyperShift prunes only when no
    leaf would lose trust)."""
    return step(facts) in (Step.ROTATE_SIGNER, Step.TRUST_NEW, Step.REISSUE_LEAVES)


def conditions(facts: Facts, signer_secret: str) -> dict[str, ConditionValue]:
    """The conditions the request reports now, in HyperShift's order and wording (types not yet reached are left
    out)."""
    if not valid_signer_class(facts.signer_class):
        return {SIGNER_CLASS_VALID: (False, SIGNER_CLASS_UNKNOWN_REASON,
                                     f"Signer class {facts.signer_class!r} unknown.")}
    result: dict[str, ConditionValue] = {
        SIGNER_CLASS_VALID: (True, AS_EXPECTED_REASON, f"Signer class {facts.signer_class!r} known.")}
    now = step(facts)
    if now == Step.COPY_SIGNER and not facts.previous_recorded:
        return result
    order = list(Step)
    reached = order.index(now)
    if reached <= order.index(Step.ROTATE_SIGNER):
        result[ROOT_CERTIFICATES_REGENERATED] = (False, ROOT_CERTIFICATES_STALE_REASON,
                                                 f"Signer certificate {signer_secret} needs to be regenerated.")
        return result
    result[ROOT_CERTIFICATES_REGENERATED] = (True, AS_EXPECTED_REASON,
                                             f"Signer certificate {signer_secret} regenerated.")
    if now == Step.TRUST_NEW:
        result[NEW_CERTIFICATES_TRUSTED] = (False, WAITING_FOR_AVAILABLE_REASON,
                                            f"New signer certificate {signer_secret} not yet trusted.")
        return result
    result[NEW_CERTIFICATES_TRUSTED] = (True, AS_EXPECTED_REASON, f"New signer certificate {signer_secret} trusted.")
    if now == Step.REISSUE_LEAVES:
        result[LEAF_CERTIFICATES_REGENERATED] = (False, LEAF_CERTIFICATES_STALE_REASON,
                                                 "Revocation would lose trust for leaf certificates: admin kubeconfig.")
        return result
    result[LEAF_CERTIFICATES_REGENERATED] = (True, AS_EXPECTED_REASON, "All leaf certificates are re-generated.")
    if now == Step.REVOKE_PREVIOUS:
        result[PREVIOUS_CERTIFICATES_REVOKED] = (False, WAITING_FOR_AVAILABLE_REASON,
                                                 "Previous signer certificate not yet revoked.")
        return result
    result[PREVIOUS_CERTIFICATES_REVOKED] = (True, AS_EXPECTED_REASON, "Previous signer certificate revoked.")
    return result


def previous_signer_name(request_name: str) -> str:
    """The Secret holding the copy of the signer a request revokes: a digest of the request's name in base 36,
    so that it is a valid Secret name whatever the request's name (and the same on every pass)."""
    number = int.from_bytes(hashlib.sha224(request_name.encode()).digest(), "big")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
    return text or "0"


@dataclass(frozen=True)
class Request:
    """A request as the controller lists it: name, creation order and whether it is finished."""

    name: str
    created: str
    """metadata.creationTimestamp (RFC 3339 sorts in time order)."""
    done: bool
    """PreviousCertificatesRevoked is True, or the signer class is unknown: it holds no one up."""


def active(requests: Sequence[Request]) -> str | None:
    """The one request that acts now: the oldest unfinished one (name breaks ties), so that two requests never
    rotate the signer at once; None when all are done."""
    waiting = sorted((r for r in requests if not r.done), key=lambda r: (r.created, r.name))
    return waiting[0].name if waiting else None


def trusted_signers(current: bytes | None, previous: Mapping[str, bytes]) -> list[bytes]:
    """The break-glass signers the API servers trust: the current one, and the previous signer of the active
    request while it still must be trusted (`previous` maps it; empty otherwise)."""
    return [pem for pem in (current, *previous.values()) if pem]
