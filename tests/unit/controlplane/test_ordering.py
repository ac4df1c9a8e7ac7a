"""Control-plane updates go in order: etcd, then kube-apiserver, then the rest (docs 6.7)."""

from __future__ import annotations

from types import SimpleNamespace

from hcp.controlplane.controller import _available, _rolled_out
from hcp.controlplane.labels import RENDERED_BY_LABEL
from hcp.controlplane.ordering import is_workload, stage, stages


def obj(kind: str, name: str, component: str) -> dict:
    return {"kind": kind, "metadata": {"name": name, "labels": {RENDERED_BY_LABEL: component}}}


def test_etcd_then_kube_apiserver_then_everything_else_in_render_order():
    rendered = [obj("Deployment", "kube-scheduler", "kube-scheduler"), obj("Service", "kube-apiserver", "kube-apiserver"),
                obj("StatefulSet", "etcd", "etcd"), obj("Deployment", "kube-apiserver", "kube-apiserver"),
                obj("Deployment", "kube-controller-manager", "kube-controller-manager"),
                obj("ConfigMap", "etcd-config", "etcd")]
    names = [[o["metadata"]["name"] for o in group] for group in stages(rendered)]
    assert names == [["etcd", "etcd-config"], ["kube-apiserver", "kube-apiserver"],
                     ["kube-scheduler", "kube-controller-manager"]]


def test_without_etcd_kube_apiserver_comes_first():
    rendered = [obj("Deployment", "kwok", "kwok"), obj("Deployment", "kube-apiserver", "kube-apiserver")]
    assert [[o["metadata"]["name"] for o in group] for group in stages(rendered)] == [["kube-apiserver"], ["kwok"]]
    assert stage(obj("Deployment", "x", "")) == 2


def test_only_deployments_and_statefulsets_are_held():
    assert is_workload(obj("Deployment", "a", "a")) and is_workload(obj("StatefulSet", "a", "a"))
    assert not is_workload(obj("PodDisruptionBudget", "a", "a"))


def workload(kind: str = "Deployment", *, replicas: int = 3, generation: int = 2, observed: int = 2,
             updated: int = 3, available: int = 3, total: int = 3, max_unavailable: int = 0) -> SimpleNamespace:
    status = SimpleNamespace(observedGeneration=observed, updatedReplicas=updated, availableReplicas=available,
                             readyReplicas=available, replicas=total, conditions=[])
    strategy = SimpleNamespace(rollingUpdate=SimpleNamespace(maxUnavailable=max_unavailable))
    return SimpleNamespace(kind=kind, spec=SimpleNamespace(replicas=replicas, strategy=strategy),
                           metadata=SimpleNamespace(generation=generation), status=status)


def test_a_rolling_workload_still_serving_is_available_but_not_rolled_out():
    rolling = workload(generation=3, observed=3, updated=1, available=3, total=4)
    assert _available(rolling) and not _rolled_out(rolling)


def test_a_workload_whose_new_spec_is_not_observed_is_not_rolled_out():
    assert not _rolled_out(workload(generation=3, observed=2))
    assert _rolled_out(workload())


def test_a_deployment_short_of_its_minimum_availability_or_an_etcd_without_quorum_is_not_available():
    assert not _available(workload(available=2))
    assert _available(workload(available=2, max_unavailable=1))  # 2 of 3 with maxUnavailable 1
    assert not _available(workload(replicas=1, available=0, max_unavailable=1))  # never none at all
    assert not _available(workload("StatefulSet", available=1))
    assert _available(workload("StatefulSet", available=2))  # 2 of 3 etcd members: a quorum
    assert not _available(None)
