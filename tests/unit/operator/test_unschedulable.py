"""The HostedCluster says why its control plane cannot go on (hcp.operator.hostedcluster.progressing_message)."""

from __future__ import annotations

from hcp.api.meta import Condition
from hcp.operator.hostedcluster import PROGRESSING, progressing_message

WHY = ("Waiting for kube-scheduler to roll out: kube-scheduler: pod kube-scheduler-5d8f-x2 cannot be scheduled: "
       "0/1 nodes are available: 1 Insufficient cpu.")


def available(status: str, reason: str, message: str = WHY) -> Condition:
    return Condition(type="Available", status=status, reason=reason, message=message,
                     lastTransitionTime="2025-01-01T00:00:00Z")


def test_progressing_says_why_the_control_plane_cannot_go_on_when_a_pod_fits_no_node():
    assert progressing_message(available("False", "Unschedulable")) == \
        f"HostedCluster is deploying, upgrading, or reconfiguring, and cannot go on: {WHY}"


def test_progressing_keeps_hypershifts_sentence_otherwise():
    assert progressing_message(None) == PROGRESSING
    assert progressing_message(available("False", "ComponentsNotAvailable", "Waiting for etcd")) == PROGRESSING
    assert progressing_message(available("True", "AsExpected", "The hosted control plane is available")) == PROGRESSING
