"""The CertificateRevocationRequest state machine: each step, its conditions, and what the bundle trusts."""

from hcp.controlplane.revocation import (
    Facts, Request, Step, active, conditions, previous_signer_name, step, trusted_signers, trusts_previous,
)

OLD, NEW = b"-----OLD-----\n", b"-----NEW-----\n"
SIGNER = "clusters-demo/customer-system-admin-signer"


def facts(**changes) -> Facts:
    base = dict(signer_class="customer-break-glass", previous_recorded=False, previous_signer=None,
                current_signer=OLD)
    return Facts(**{**base, **changes})


def statuses(f: Facts) -> dict[str, bool]:
    return {type_: value[0] for type_, value in conditions(f, SIGNER).items()}


def test_an_unknown_signer_class_is_refused_and_nothing_else_happens():
    f = facts(signer_class="sre-break-glass")
    assert step(f) == Step.INVALID
    assert conditions(f, SIGNER) == {"SignerClassValid": (False, "SignerClassUnknown",
                                                          "Signer class 'sre-break-glass' unknown.")}
    assert not trusts_previous(f)


def test_a_new_request_copies_the_signer_first():
    f = facts()
    assert step(f) == Step.COPY_SIGNER
    assert statuses(f) == {"SignerClassValid": True}


def test_once_copied_the_signer_is_rotated():
    f = facts(previous_recorded=True, previous_signer=OLD)
    assert step(f) == Step.ROTATE_SIGNER
    assert statuses(f) == {"SignerClassValid": True, "RootCertificatesRegenerated": False}
    assert conditions(f, SIGNER)["RootCertificatesRegenerated"][1] == "RootCertificatesStale"
    assert trusts_previous(f)


def test_after_rotation_the_new_signer_must_be_trusted_while_the_previous_one_still_is():
    f = facts(previous_recorded=True, previous_signer=OLD, current_signer=NEW, admin_reissued=True)
    assert step(f) == Step.TRUST_NEW
    assert statuses(f) == {"SignerClassValid": True, "RootCertificatesRegenerated": True,
                           "NewCertificatesTrusted": False}
    assert conditions(f, SIGNER)["NewCertificatesTrusted"][1] == "WaitingForAvailable"
    assert trusts_previous(f)


def test_trusted_and_reissued_the_previous_signer_leaves_the_bundle():
    f = facts(previous_recorded=True, previous_signer=OLD, current_signer=NEW, admin_reissued=True, new_trusted=True)
    assert step(f) == Step.REVOKE_PREVIOUS
    assert statuses(f) == {"SignerClassValid": True, "RootCertificatesRegenerated": True,
                           "NewCertificatesTrusted": True, "LeafCertificatesRegenerated": True,
                           "PreviousCertificatesRevoked": False}
    assert not trusts_previous(f)


def test_trusted_but_not_yet_reissued_keeps_the_previous_signer():
    f = facts(previous_recorded=True, previous_signer=OLD, current_signer=NEW, new_trusted=True)
    assert step(f) == Step.REISSUE_LEAVES
    assert statuses(f)["LeafCertificatesRegenerated"] is False
    assert conditions(f, SIGNER)["LeafCertificatesRegenerated"][1] == "LeafCertificatesStale"
    assert trusts_previous(f)


def test_done_once_every_api_server_refuses_the_previous_signer():
    recorded = frozenset({"RootCertificatesRegenerated", "NewCertificatesTrusted", "LeafCertificatesRegenerated"})
    f = facts(previous_recorded=True, previous_signer=OLD, current_signer=NEW, recorded=recorded,
              previous_rejected=True)
    assert step(f) == Step.DONE
    assert all(statuses(f).values()) and len(statuses(f)) == 5
    assert not trusts_previous(f)


def test_recorded_steps_stay_done_without_probing_again():
    """Level-triggered, idempotent: a pass that does not probe (or a later signer) does not undo a step."""
    recorded = frozenset({"RootCertificatesRegenerated", "NewCertificatesTrusted", "LeafCertificatesRegenerated",
                          "PreviousCertificatesRevoked"})
    later = facts(previous_recorded=True, previous_signer=OLD, current_signer=b"-----LATER-----\n", recorded=recorded)
    assert step(later) == Step.DONE
    same = facts(previous_recorded=True, previous_signer=OLD, current_signer=OLD, recorded=recorded)
    assert step(same) == Step.DONE  # not rotated again


def test_a_lost_copy_is_taken_again():
    f = facts(previous_recorded=True, previous_signer=None)
    assert step(f) == Step.COPY_SIGNER
    assert "RootCertificatesRegenerated" in statuses(f)


def test_the_previous_signer_name_is_a_stable_valid_secret_name():
    name = previous_signer_name("revoke-" + "x" * 250)
    assert name == previous_signer_name("revoke-" + "x" * 250)
    assert name != previous_signer_name("other")
    assert len(name) <= 63 and name.isalnum() and name == name.lower()


def test_the_oldest_unfinished_request_acts():
    requests = [Request("b", "2030-01-01T00:00:02Z", False), Request("a", "2030-01-01T00:00:01Z", True),
                Request("c", "2030-01-01T00:00:02Z", False)]
    assert active(requests) == "b"
    assert active([Request("a", "2030-01-01T00:00:01Z", True)]) is None


def test_trusted_signers_are_the_current_and_the_active_previous():
    assert trusted_signers(NEW, {"copy": OLD}) == [NEW, OLD]
    assert trusted_signers(NEW, {}) == [NEW]
    assert trusted_signers(None, {}) == []
