"""`hcp capacity` against a fake API server: the nodes, control planes and override ConfigMap it reads."""

from __future__ import annotations

import json
import math

import pytest

from hcp.capacity.baseline import default_baseline
from hcp.capacity.formulas import GIB


def node(name: str, cpu: str = "8", memory: str = "32Gi", pods: str = "110", *, labels=None, taints=None,
         unschedulable: bool = False, ready: str = "True") -> dict:
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}}, "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def control_plane(name: str, policy: str = "HighlyAvailable") -> dict:
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
            "metadata": {"name": name, "namespace": f"clusters-{name}"},
            "spec": {"controllerAvailabilityPolicy": policy}}


def by_name(data: dict) -> dict:
    return {e["estimate"]: e for e in data["estimates"]}


def test_json_shape_and_numbers_follow_the_formulas(api, hcp):
    api.add(node("a"))
    api.add(node("b"))
    run = hcp("capacity", "--output", "json")
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert set(data) == {"availabilityPolicy", "nodes", "existingControlPlanes", "baseline", "estimates"}
    assert data["availabilityPolicy"] == "HighlyAvailable"
    assert [n["name"] for n in data["nodes"]] == ["a", "b"]
    assert [e["estimate"] for e in data["estimates"]] == ["request", "pod-limit", "low", "medium", "high", "minimum"]
    for e in data["estimates"]:
        assert set(e) >= {"estimate", "controlPlanes", "more", "exact", "limitedBy"}
    b = default_baseline("HighlyAvailable")
    estimates = by_name(data)
    request = min(16 / b.cpu_request, 64 * GIB / b.memory_request)
    assert estimates["request"]["controlPlanes"] == math.floor(request)
    assert estimates["pod-limit"]["controlPlanes"] == 220 // b.pods
    high = min(16 / b.cpu_usage(2000), 64 * GIB / b.memory_usage(2000))
    assert estimates["high"]["controlPlanes"] == math.floor(high)
    assert estimates["request"]["more"] == estimates["request"]["controlPlanes"]  # nothing there yet


def test_existing_control_planes_leave_fewer_more(api, hcp):
    api.add(node("a", cpu="64", memory="256Gi", pods="500"))  # room for several at every load level
    before = by_name(json.loads(hcp("capacity", "-o", "json").out))
    api.add(control_plane("one"))
    after = json.loads(hcp("capacity", "-o", "json").out)
    assert after["existingControlPlanes"] == {"SingleReplica": 0, "HighlyAvailable": 1}
    for name, estimate in by_name(after).items():
        assert estimate["controlPlanes"] == before[name]["controlPlanes"]
        assert before[name]["more"] >= 2, name
        assert estimate["more"] == before[name]["more"] - 1, name


def test_only_nodes_that_can_host_control_planes_count(api, hcp):
    api.add(node("worker"))
    api.add(node("cordoned", unschedulable=True))
    api.add(node("not-ready", ready="False"))
    api.add(node("tainted", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
    api.add(node("one-cluster", taints=[{"key": "hypershift.openshift.io/cluster", "value": "clusters-x",
                                         "effect": "NoSchedule"}]))
    api.add(node("prefer-no", taints=[{"key": "soft", "effect": "PreferNoSchedule"}]))
    data = json.loads(hcp("capacity", "-o", "json").out)
    assert [n["name"] for n in data["nodes"]] == ["prefer-no", "worker"]
    # Once nodes are labelled for control planes (docs 2.2.4), only they count, tainted for them or not.
    api.add(node("cp", labels={"hypershift.openshift.io/control-plane": "true"},
                  taints=[{"key": "hypershift.openshift.io/control-plane", "value": "true", "effect": "NoSchedule"}]))
    assert [n["name"] for n in json.loads(hcp("capacity", "-o", "json").out)["nodes"]] == ["cp"]


def test_node_selector(api, hcp):
    api.add(node("a", labels={"pool": "infra"}))
    api.add(node("b"))
    data = json.loads(hcp("capacity", "-o", "json", "--node-selector", "pool=infra").out)
    assert [n["name"] for n in data["nodes"]] == ["a"]


def test_table(api, hcp):
    api.add(node("a", cpu="64", memory="128Gi", pods="500"))
    run = hcp("capacity", "--availability-policy", "SingleReplica")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["ESTIMATE", "QPS", "FIT", "MORE", "LIMITED", "BY"]
    assert [line.split()[0] for line in lines[1:7]] == ["request", "pod-limit", "low", "medium", "high", "minimum"]
    assert "SingleReplica control planes on 1 node(s) (64 vCPU, 128 GiB, 500 pods)" in run.out


def test_overrides_configmap_file_then_flags(api, hcp, tmp_path):
    """The docs' example baseline (2.2.4, server 1) through each override path gives the docs' numbers."""
    for name in ("a", "b", "c"):
        api.add(node(name, cpu="64", memory="128Gi", pods="500"))
    api.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hypershift"}})
    api.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hcp-sizing-baseline",
                                                                   "namespace": "hypershift"},
             "data": {"cpuRequestPerHCP": "5", "memoryRequestPerHCP": "18", "podsPerHCP": "75",
                      "idleCPUUsage": "2.9", "idleMemoryUsage": "11.1", "incrementalCPUUsagePer1KQPS": "9.0",
                      "incrementalMemUsagePer1KQPS": "2.5"}})
    data = json.loads(hcp("capacity", "-o", "json").out)
    assert by_name(data)["minimum"]["controlPlanes"] == 16
    assert by_name(data)["minimum"]["limitedBy"] == "cpu usage"
    assert data["baseline"]["sources"]["cpu_request"] == "overridden: ConfigMap hypershift/hcp-sizing-baseline"
    # --baseline: server 2's nodes would be bigger; the same with half the requests doubles the request estimate.
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("highlyAvailable.cpuRequestPerHCP: '2.5'\n")
    data = json.loads(hcp("capacity", "-o", "json", "--baseline", str(baseline)).out)
    assert data["baseline"]["cpuRequestPerHCP"] == 2.5
    assert by_name(data)["request"]["limitedBy"] == "memory"
    # A flag wins over both.
    data = json.loads(hcp("capacity", "-o", "json", "--baseline", str(baseline), "--memory-request", "9Gi").out)
    assert data["baseline"]["memoryRequestPerHCPGiB"] == 9
    assert by_name(data)["request"]["controlPlanes"] == 42  # 384 GiB / 9 GiB
    # Ignoring the cluster's ConfigMap brings hcp's own defaults back.
    data = json.loads(hcp("capacity", "-o", "json", "--no-cluster-baseline").out)
    assert data["baseline"]["podsPerHCP"] == default_baseline("HighlyAvailable").pods


@pytest.mark.parametrize("args, message", [
    (["--cpu-request", "lots"], "error: --cpu-request: cpu_request 'lots' is not a number or a quantity"),
    (["--cpu-request", "0"], "error: flags: sizing baseline: cpu_request must be greater than 0"),
    (["--pods-per-hcp", "7.5"], "error: flags: podsPerHCP must be a whole number"),
])
def test_bad_flags(api, hcp, args, message):
    api.add(node("a"))
    run = hcp("capacity", *args)
    assert run.code != 0
    assert run.error == message


def test_bad_baseline_file_and_configmap(api, hcp, tmp_path):
    api.add(node("a"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("cpuRequestsPerHCP: 5\n")
    run = hcp("capacity", "--baseline", str(bad))
    assert run.code == 1
    assert run.error.startswith(f"error: --baseline {bad}: unknown key 'cpuRequestsPerHCP'; known: cpuRequestPerHCP")
    bad.write_text("- 1\n")
    assert hcp("capacity", "--baseline", str(bad)).error == \
        f"error: --baseline {bad}: expected a mapping of baseline keys or a ConfigMap"
    api.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hypershift"}})
    api.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hcp-sizing-baseline",
                                                                   "namespace": "hypershift"},
             "data": {"memoryRequestPerHCP": "a lot"}})
    run = hcp("capacity")
    assert run.code == 1
    assert run.error == ("error: ConfigMap hypershift/hcp-sizing-baseline: memoryRequestPerHCP: memory_request "
                         "'a lot' is not a number or a quantity")


def test_no_usable_node_and_bad_qps(api, hcp):
    api.add(node("a", unschedulable=True))
    run = hcp("capacity")
    assert run.code == 1 and run.error.startswith("error: no node of the management cluster can host")
    run = hcp("capacity", "--qps", "-5")
    assert run.code == 2 and "--qps" in run.err
