"""kube-controller-manager allocates node pod CIDRs when asked to, and whenever hcp deploys flannel."""

from __future__ import annotations

import pytest

from hcp.controlplane.components.kube_controller_manager import adapter
from tests.unit.controlplane.conftest import SINGLE_REPLICA, make_context, make_hcp


def _flags(networking: dict) -> dict[str, str]:
    (deployment,) = [o for o in adapter.render(make_context(make_hcp(SINGLE_REPLICA, networking=networking)))
                     if o["kind"] == "Deployment"]
    (main,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == adapter.NAME]
    return dict(arg.removeprefix("--").split("=", 1) for arg in main["args"] if arg.startswith("--"))


@pytest.mark.parametrize("network_type", ["OVNKubernetes", "Calico", "OpenShiftSDN", "Other"])
def test_no_allocation_for_a_cni_that_brings_its_own_ipam(network_type):
    flags = _flags({"networkType": network_type, "clusterNetwork": [{"cidr": "10.132.0.0/14", "hostPrefix": 23}]})
    assert flags["allocate-node-cidrs"] == "false"
    assert "node-cidr-mask-size" not in flags


def test_flannel_allocates_node_cidrs_without_allocate_node_cidrs():
    flags = _flags({"networkType": "Flannel", "clusterNetwork": [{"cidr": "10.244.0.0/16", "hostPrefix": 24}]})
    assert flags["allocate-node-cidrs"] == "true"
    assert flags["cluster-cidr"] == "10.244.0.0/16"
    assert flags["node-cidr-mask-size"] == "24"


def test_flannel_without_host_prefix_leaves_the_mask_to_the_controller_default():
    flags = _flags({"networkType": "Flannel"})
    assert flags["allocate-node-cidrs"] == "true"
    assert flags["cluster-cidr"] == "10.132.0.0/14"
    assert not any(name.startswith("node-cidr-mask-size") for name in flags)


def test_other_with_allocate_node_cidrs_enabled_still_allocates():
    flags = _flags({"networkType": "Other", "allocateNodeCIDRs": "Enabled",
                    "clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}]})
    assert (flags["allocate-node-cidrs"], flags["node-cidr-mask-size"]) == ("true", "23")


def test_dual_stack_gets_one_mask_per_family():
    flags = _flags({"networkType": "Flannel", "clusterNetwork": [
        {"cidr": "10.244.0.0/16", "hostPrefix": 24}, {"cidr": "fd00:10:244::/56", "hostPrefix": 64}]})
    assert flags["cluster-cidr"] == "10.244.0.0/16,fd00:10:244::/56"
    assert (flags["node-cidr-mask-size-ipv4"], flags["node-cidr-mask-size-ipv6"]) == ("24", "64")
    assert "node-cidr-mask-size" not in flags
