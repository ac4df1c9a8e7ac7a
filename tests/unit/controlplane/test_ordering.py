"""Control-plane updates follow the components' dependencies: etcd, then kube-apiserver, then the rest (docs 6.7)."""

from __future__ import annotations

import dataclasses

import pytest

from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.components.contract import Component
from hcp.controlplane.labels import RENDERED_BY_LABEL
from hcp.controlplane.ordering import DependencyError, by_component, held, is_workload, update_order, waiting_for


def component(name: str, *depends_on: str) -> Component:
    return Component(name, lambda ctx: [], depends_on=depends_on)


def names(components) -> list[str]:
    return [c.name for c in components]


def obj(kind: str, name: str, component_name: str) -> dict:
    return {"kind": kind, "metadata": {"name": name, "labels": {RENDERED_BY_LABEL: component_name}}}


def test_the_control_planes_update_order_is_etcd_then_kube_apiserver_then_the_rest_in_render_order():
    # The NetworkPolicies first: a new namespace is closed before its first pod starts.
    assert names(update_order(COMPONENTS)) == [
        "network-policy", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "ignition-server",
        "hosted-cluster-config",
    ]


def test_every_dependency_comes_before_its_dependents_whatever_the_order_given():
    given = [component("scheduler", "api"), component("config"), component("api", "store"), component("store")]
    assert names(update_order(given)) == ["store", "api", "scheduler", "config"]


def test_a_cycle_an_unknown_dependency_or_a_name_given_twice_is_refused():
    with pytest.raises(DependencyError, match="cycle: a -> b -> a"):
        update_order([component("a", "b"), component("b", "a")])
    with pytest.raises(DependencyError, match="cycle: a -> a"):
        update_order([component("a", "a")])
    with pytest.raises(DependencyError, match="a depends on etcd, which is no component"):
        update_order([component("a", "etcd")])
    with pytest.raises(DependencyError, match="two components are named a"):
        update_order([component("a"), component("a")])


def test_a_component_waits_for_its_dependencies_that_are_not_settled_and_not_for_disabled_ones():
    api = component("kube-apiserver", "etcd")
    assert waiting_for(api, {"etcd": False}) == ("etcd",)
    assert waiting_for(api, {"etcd": True}) == ()
    assert waiting_for(api, {}) == ()  # etcd not enabled (unmanaged): nothing to wait for
    assert waiting_for(component("kube-scheduler", "kube-apiserver"), {"etcd": False, "kube-apiserver": True}) == ()


def test_an_existing_workload_is_held_while_waiting_and_a_new_one_only_if_it_starts_after_its_dependencies():
    scheduler = component("kube-scheduler", "kube-apiserver")
    kwok = dataclasses.replace(scheduler, name="kwok", starts_after_dependencies=True)
    waits = ("kube-apiserver",)
    assert held(scheduler, waits, exists=True) and held(kwok, waits, exists=True)
    assert not held(scheduler, waits, exists=False)  # created at once, to have started when the API serves
    assert held(kwok, waits, exists=False)  # created once kube-apiserver is settled
    assert not held(kwok, (), exists=False) and not held(scheduler, (), exists=True)


def test_the_render_is_grouped_by_component_in_render_order():
    rendered = [obj("StatefulSet", "etcd", "etcd"), obj("Service", "kube-apiserver", "kube-apiserver"),
                obj("ConfigMap", "etcd-config", "etcd"), obj("Deployment", "kube-apiserver", "kube-apiserver")]
    grouped = {name: [o["kind"] for o in objects] for name, objects in by_component(rendered).items()}
    assert grouped == {"etcd": ["StatefulSet", "ConfigMap"], "kube-apiserver": ["Service", "Deployment"]}


def test_only_deployments_and_statefulsets_are_held():
    assert is_workload(obj("Deployment", "a", "a")) and is_workload(obj("StatefulSet", "a", "a"))
    assert not is_workload(obj("PodDisruptionBudget", "a", "a"))
