"""The HostedControlPlane controller comes back by the time the first certificate is due for renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hcp.controlplane.controller import RESYNC, requeue_after

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_no_certificate_means_the_usual_recheck():
    assert requeue_after(RESYNC, None, NOW) == RESYNC


def test_a_renewal_before_the_recheck_brings_the_pass_forward_to_just_after_it():
    assert requeue_after(RESYNC, NOW + timedelta(seconds=20), NOW) == 21.0


def test_a_renewal_after_the_recheck_changes_nothing():
    assert requeue_after(RESYNC, NOW + timedelta(days=200), NOW) == RESYNC


def test_a_renewal_already_due_comes_back_in_a_second_not_in_a_loop():
    assert requeue_after(RESYNC, NOW - timedelta(minutes=5), NOW) == 1.0
