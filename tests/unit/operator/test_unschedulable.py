"""The HostedCluster says why its control plane cannot go on (progressing_message), and carries the
resource-request overrides that size it to the HostedControlPlane (hcp.operator.hostedcluster)."""

from __future__ import annotations

from hcp.api.meta import Condition
from hcp.operator.hostedcluster import (
    PROGRESSING, progressing_message, propagated_annotation, resource_override_problems,
)
from tests.unit.operator import test_certificate_renewal

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


# The resource-request overrides that make a control plane fit, or not: carried to the HostedControlPlane.

OVERRIDE = "resource-request-override.hypershift.openshift.io/kube-apiserver.kube-apiserver"


def test_resource_request_overrides_are_carried_to_the_hosted_control_plane():
    annotations = test_certificate_renewal.manifest({OVERRIDE: "memory=1Gi,cpu=500m", "unrelated": "x"})[
        "metadata"]["annotations"]
    assert annotations[OVERRIDE] == "memory=1Gi,cpu=500m"
    assert "unrelated" not in annotations
    assert propagated_annotation(OVERRIDE) and propagated_annotation("hypershift.openshift.io/restart-date")
    assert not propagated_annotation("resource-request-override.hypershift.openshift.io.example.com/x.y")


def test_an_override_that_cannot_be_read_is_a_problem_of_the_hosted_cluster():
    assert resource_override_problems({OVERRIDE: "memory=1Gi,cpu=500m"}) == []
    assert resource_override_problems(None) == []
    [problem] = resource_override_problems({OVERRIDE: "memory=lots"})
    assert problem.startswith(f"annotation {OVERRIDE}: 'memory=lots' is not a list of resource=quantity")
