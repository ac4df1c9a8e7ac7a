"""A control plane being destroyed: its pods are deleted again without the grace periods meant for rolls."""

from __future__ import annotations

from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod

from hcp.operator.hostedcluster import DESTROY_GRACE_SECONDS, hurried_pods


def pod(name: str, grace: int | None) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, deletionGracePeriodSeconds=grace,
                                   deletionTimestamp=None if grace is None else "2026-12-07T15:00:00Z"))


def test_running_pods_and_pods_deleting_with_their_own_grace_period_are_hurried():
    pods = [pod("kube-apiserver-1", None), pod("etcd-0", 30), pod("kube-scheduler-1", 30)]
    assert hurried_pods(pods) == ["kube-apiserver-1", "etcd-0", "kube-scheduler-1"]


def test_pods_already_hurried_are_left_alone():
    """Each pass of the deletion lists the pods again: a pod deleted with the short grace is not deleted again."""
    assert hurried_pods([pod("etcd-0", DESTROY_GRACE_SECONDS), pod("kwok-1", 0)]) == []

