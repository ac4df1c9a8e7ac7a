"""`hcp capacity` on the embedded management cluster: the docs' formulas over the real node, and one fewer after a create."""

from __future__ import annotations

import json
import math
from fractions import Fraction

from lightkube.utils.quantity import parse_quantity

from hcp.capacity.baseline import rendered_requests
from tests.integration.conftest import hosted_cluster_manifest, remove_hosted_cluster, wait_for

POLICY = "SingleReplica"


def capacity(cluster) -> dict:
    result = cluster.hcp("capacity", "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig"),
                         "--availability-policy", POLICY, "--output", "json", "--no-cluster-baseline")
    return json.loads(result.stdout)


def test_capacity_follows_the_node_and_the_render(operator_installed):
    cluster = operator_installed
    node = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]
    allocatable = node["status"]["allocatable"]
    cpu = Fraction(parse_quantity(allocatable["cpu"]))
    memory = Fraction(parse_quantity(allocatable["memory"]))
    pods = int(allocatable["pods"])
    cpu_request, memory_request, pods_per_hcp = rendered_requests(POLICY)

    before = capacity(cluster)
    assert [n["name"] for n in before["nodes"]] == [node["metadata"]["name"]]
    assert before["baseline"]["podsPerHCP"] == pods_per_hcp
    estimates = {e["estimate"]: e for e in before["estimates"]}
    assert estimates["request"]["controlPlanes"] == math.floor(min(cpu / cpu_request, memory / memory_request))
    assert estimates["pod-limit"]["controlPlanes"] == pods // pods_per_hcp
    existing = before["existingControlPlanes"][POLICY]
    assert estimates["pod-limit"]["more"] == max(0, pods // pods_per_hcp - existing)

    try:
        cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, "capacity", "capacity",
                                                                           policy=POLICY))
        wait_for(lambda: cluster.kubectl("get", "hostedcontrolplane", "-n", "capacity-capacity", "-o", "name",
                                         check=False).stdout.strip(), 300, "the HostedControlPlane")
        after = capacity(cluster)
        assert after["existingControlPlanes"][POLICY] == existing + 1
        for name, estimate in ((e["estimate"], e) for e in after["estimates"]):
            assert estimate["controlPlanes"] == estimates[name]["controlPlanes"], name
            if estimates[name]["more"] > 0:
                assert estimate["more"] == estimates[name]["more"] - 1, name
    finally:
        remove_hosted_cluster(cluster, "capacity", "capacity")
