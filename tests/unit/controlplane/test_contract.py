"""Every control-plane component keeps its contract (hcp.controlplane.components.contract)."""

from __future__ import annotations

import dataclasses

import pytest

from hcp.controlplane import Endpoint
from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.ordering import is_workload, update_order
from hcp.controlplane.render import leftovers, render, render_component
from hcp.kube.leftovers import LiveObject, object_key
from tests.unit.controlplane.conftest import HIGHLY_AVAILABLE, SINGLE_REPLICA, make_context, make_hcp

BY_NAME = {component.name: component for component in COMPONENTS}
UNMANAGED_ETCD = {"managementType": "Unmanaged", "unmanaged": {
    "endpoint": "https://etcd.example.com:2379", "tls": {"clientSecret": {"name": "etcd-client"}}}}


def contexts() -> dict[str, object]:
    """Representative HostedControlPlanes: KWOK and None platforms, single and HA, unmanaged etcd, and the
    provisional render the controller makes before any endpoint is published."""
    ha = make_context(make_hcp(HIGHLY_AVAILABLE), Endpoint("api.example.com", 6443),
                      ignition_endpoint=Endpoint("ignition.example.com", 443), operator_image="operator:1")
    return {
        "kwok-single": make_context(make_hcp(SINGLE_REPLICA)),
        "none-ha": ha,
        "none-ha-unpublished": dataclasses.replace(ha, ignition_endpoint=None),
        "kwok-unmanaged-etcd": make_context(make_hcp(SINGLE_REPLICA, etcd=UNMANAGED_ETCD)),
        "none-unmanaged-etcd": dataclasses.replace(ha, hcp=make_hcp(HIGHLY_AVAILABLE, etcd=UNMANAGED_ETCD)),
    }


CONTEXTS = contexts()


@pytest.mark.parametrize("case", CONTEXTS)
def test_a_component_renders_workloads_only_among_those_it_declares_and_nothing_when_disabled(case):
    ctx = CONTEXTS[case]
    for component in COMPONENTS:
        rendered = render_component(ctx, component)
        workloads = {(o["kind"], o["metadata"]["name"]) for o in rendered if is_workload(o)}
        assert workloads <= set(component.workloads), f"{component.name} renders undeclared workloads"
        if not component.enabled(ctx):
            assert rendered == [], f"{component.name} is disabled but renders"


def test_every_declared_workload_is_rendered_for_some_representative_control_plane():
    seen = {(component.name, workload) for ctx in CONTEXTS.values() for component in COMPONENTS
            for workload in component.workloads
            if workload in {(o["kind"], o["metadata"]["name"]) for o in render_component(ctx, component)}}
    assert seen == {(component.name, workload) for component in COMPONENTS for workload in component.workloads}


def test_enabled_components_render_their_workloads_once_the_endpoints_are_known():
    ha = CONTEXTS["none-ha"]
    for component in COMPONENTS:
        if component.enabled(ha):
            rendered = {(o["kind"], o["metadata"]["name"]) for o in render_component(ha, component)}
            assert set(component.workloads) <= rendered, component.name


def test_the_components_dependencies_resolve_and_say_what_each_waits_for():
    assert [c.name for c in update_order(COMPONENTS)]  # no cycle, no unknown name (DependencyError otherwise)
    assert BY_NAME["kube-apiserver"].depends_on == ("etcd",)
    for name in ("kube-controller-manager", "kube-scheduler", "kwok", "ignition-server"):
        assert BY_NAME[name].depends_on == ("kube-apiserver",)
    assert BY_NAME["etcd"].depends_on == () and BY_NAME["hosted-cluster-config"].workloads == ()
    # The hosted cluster's components follow the control plane: their settings wait for the controllers.
    assert set(BY_NAME["hosted-cluster-config"].depends_on) == {"kube-apiserver", "kube-controller-manager",
                                                                 "kube-scheduler"}
    assert BY_NAME["hosted-cluster-config"].gates == (("ConfigMap", "hosted-cluster-config"),)


def test_etcd_is_disabled_for_an_unmanaged_etcd_renders_nothing_and_what_it_rendered_is_pruned():
    managed, unmanaged = CONTEXTS["kwok-single"], CONTEXTS["kwok-unmanaged-etcd"]
    etcd = BY_NAME["etcd"]
    assert etcd.enabled(managed) and not etcd.enabled(unmanaged)
    assert render_component(unmanaged, etcd) == []
    before = render(managed)
    live = [LiveObject(object_key(o), o["metadata"]["labels"]["hcp.io/control-plane-component"]) for o in before]
    removed = leftovers({object_key(o) for o in render(unmanaged)}, live)
    assert {obj.component for obj in removed} == {"etcd"}
    assert ("StatefulSet", "etcd") in {(obj.key[0], obj.key[2]) for obj in removed}


def test_platform_decides_kwok_ignition_server_and_hosted_cluster_config():
    kwok, none = CONTEXTS["kwok-single"], CONTEXTS["none-ha"]
    assert BY_NAME["kwok"].enabled(kwok) and not BY_NAME["kwok"].enabled(none)
    assert BY_NAME["ignition-server"].enabled(none) and not BY_NAME["ignition-server"].enabled(kwok)
    assert BY_NAME["hosted-cluster-config"].enabled(none) and not BY_NAME["hosted-cluster-config"].enabled(kwok)
