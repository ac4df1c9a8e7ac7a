"""`hcp create cluster --network-type`: HyperShift's flag, with hcp's default Flannel."""

from __future__ import annotations

import pytest
import yaml

ADDRESS = ("--api-server-address", "192.168.126.10")


def _networking(hcp, *flags):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render", *ADDRESS, *flags)
    assert result.code == 0, result.err
    cluster = next(d for d in yaml.safe_load_all(result.out) if d["kind"] == "HostedCluster")
    return cluster["spec"]["networking"]


def test_default_is_flannel_which_hcp_deploys(hcp):
    assert _networking(hcp)["networkType"] == "Flannel"


@pytest.mark.parametrize("network_type", ["Other", "OVNKubernetes", "Calico", "OpenShiftSDN", "Flannel"])
def test_every_network_type_of_the_api_is_accepted(hcp, network_type):
    assert _networking(hcp, "--network-type", network_type)["networkType"] == network_type


def test_an_unknown_network_type_is_refused(hcp):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render", *ADDRESS, "--network-type", "Cilium")
    assert result.code != 0
    assert "--network-type" in result.err
