"""The sizing formulas on the docs' own inputs (2.2.4), hcp's computed requests, and the override keys."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from hcp.capacity.baseline import default_baseline, overrides_from_mapping, rendered_requests, with_overrides
from hcp.capacity.formulas import GIB, Baseline, NodeCapacity, estimates
from hcp.controlplane import RenderContext
from hcp.controlplane.render import render
from tests.unit.controlplane.conftest import IMAGES, SINGLE_REPLICA, make_hcp

DOCS = Baseline(cpu_request=Fraction(5), memory_request=Fraction(18 * GIB), pods=75, idle_cpu=Fraction("2.9"),
                idle_memory=Fraction("11.1") * GIB, cpu_per_1k_qps=Fraction(9), memory_per_1k_qps=Fraction("2.5") * GIB)
"""The docs' baseline (2.2.2, 2.2.3; 75 pods as in 2.2.4's calculation)."""


def workers(cpu: int, memory_gib: int) -> list[NodeCapacity]:
    return [NodeCapacity(f"w{i}", Fraction(cpu), Fraction(memory_gib * GIB), 500) for i in range(3)]


@pytest.mark.parametrize("cpu, memory, per_worker, total, limited_by", [
    # Table 2.5: server 1 (64 vCPU, 128 GiB) and server 2 (128 vCPU, 256 GiB), three workers, maxPods 500, 1000 QPS.
    (64, 128, {"cpu requests": "12.8", "cpu usage": "5.4", "memory requests": "7.1", "memory usage": "9.4",
               "pods": "6.7"}, 16, "cpu usage"),
    (128, 256, {"cpu requests": "25.6", "cpu usage": "10.7", "memory requests": "14.2", "memory usage": "18.8",
                "pods": "6.7"}, 20, "pods"),
])
def test_the_docs_worked_example(cpu, memory, per_worker, total, limited_by):
    nodes = workers(cpu, memory)
    node = nodes[0]
    # The docs' per-worker values, to the one decimal the table shows (it rounds 6.67 up and 10.76 down).
    values = {"cpu requests": node.cpu / DOCS.cpu_request, "memory requests": node.memory / DOCS.memory_request,
              "cpu usage": node.cpu / DOCS.cpu_usage(1000), "memory usage": node.memory / DOCS.memory_usage(1000),
              "pods": Fraction(node.pods, DOCS.pods)}
    assert set(values) == set(per_worker)
    assert all(abs(values[k] - Fraction(per_worker[k])) < Fraction(1, 10) for k in values), values
    found = {e.name: e for e in estimates(nodes, DOCS, qps=Fraction(1000))}
    assert found["minimum"].total == total  # "Maximum number of hosted control planes within a management cluster"
    assert found["minimum"].limited_by == limited_by  # "vCPU limiting factor", "maxPods limiting factor"
    assert found["pod-limit"].total == 20
    assert found["medium"].total == min(int(3 * values["cpu usage"]), int(3 * values["memory usage"]))


def test_the_docs_api_rate_table():
    """Table 2.3: usage at 1000 and 2000 QPS (at 50 QPS the docs round the low load down to idle)."""
    assert (DOCS.cpu_usage(1000), DOCS.memory_usage(1000) / GIB) == (Fraction("11.9"), Fraction("13.6"))
    assert (DOCS.cpu_usage(2000), DOCS.memory_usage(2000) / GIB) == (Fraction("20.9"), Fraction("16.1"))
    assert DOCS.cpu_usage(50) == Fraction("3.35")


def test_more_counts_what_existing_control_planes_of_either_policy_use():
    nodes = [NodeCapacity("n", Fraction(10), Fraction(100 * GIB), 100)]
    small = with_overrides(DOCS, {"cpu_request": Fraction(1), "memory_request": Fraction(GIB), "pods": Fraction(5)},
                           "test")
    found = {e.name: e for e in estimates(nodes, DOCS, existing={"HighlyAvailable": 1, "SingleReplica": 2},
                                          baselines={"HighlyAvailable": DOCS, "SingleReplica": small})}
    assert found["request"].total == 2 and found["request"].more == 0  # (10 - 5 - 2) / 5
    assert found["pod-limit"].total == 1 and found["pod-limit"].more == 0  # (100 - 75 - 10) / 75
    assert found["request"].limited_by == "cpu"


def test_nothing_fits_is_zero_not_negative():
    nodes = [NodeCapacity("n", Fraction(1), Fraction(GIB), 10)]
    found = estimates(nodes, DOCS, existing={"HighlyAvailable": 3})
    assert all(e.total == 0 and e.more == 0 for e in found)


def test_requests_follow_the_rendered_manifests():
    """The default requests are the render's: recompute them independently from a KWOK control plane's render."""
    for policy in ("SingleReplica", "HighlyAvailable"):
        hcp = make_hcp(SINGLE_REPLICA, controllerAvailabilityPolicy=policy)
        objects = render(RenderContext.for_hcp(hcp, images=IMAGES, kubernetes_version="1.37.1",
                                               api_endpoint=("10.0.0.1", 30443)))
        workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")]
        assert {o["metadata"]["name"] for o in workloads} >= {"etcd", "kube-apiserver", "kube-controller-manager",
                                                               "kube-scheduler"}
        pods = sum(o["spec"]["replicas"] for o in workloads)
        cpu, memory, counted = rendered_requests(policy)
        assert counted == pods
        millicores = sum(o["spec"]["replicas"] * sum(int(c["resources"]["requests"]["cpu"].rstrip("m"))
                                                      for c in o["spec"]["template"]["spec"]["containers"])
                         for o in workloads)
        assert cpu == Fraction(millicores, 1000)  # no init container asks for more than its pod's containers
        baseline = default_baseline(policy)
        assert (baseline.cpu_request, baseline.memory_request, baseline.pods) == (cpu, memory, pods)
    single, highly = rendered_requests("SingleReplica"), rendered_requests("HighlyAvailable")
    assert highly[0] > single[0] and highly[1] > single[1] and highly[2] > single[2]


def test_default_sources_say_what_is_measured_and_what_is_not():
    single = default_baseline("SingleReplica")
    # bench/results/sizing-defaults.json (bench/sizing.py, 2026-12-07): what hcp ships is what was measured.
    measured = json.loads((Path(__file__).parents[3] / "bench" / "results" / "sizing-defaults.json").read_text())
    assert single.idle_cpu == Fraction(str(measured["idle_cpu_cores"]))
    assert single.idle_memory == measured["idle_memory_bytes"]
    assert single.cpu_per_1k_qps == Fraction(str(measured["cpu_per_1k_qps_cores"]))
    assert single.memory_per_1k_qps == measured["memory_per_1k_qps_bytes"]
    assert single.sources["idle_cpu"].startswith("measured:")
    assert single.sources["cpu_per_1k_qps"].startswith("measured: bench/sizing.py")
    highly = default_baseline("HighlyAvailable")
    assert highly.sources["idle_cpu"].startswith("estimated, not measured")
    assert highly.sources["cpu_per_1k_qps"].startswith("estimated, not measured")
    assert (single.low_qps, single.medium_qps, single.high_qps) == (50, 1000, 2000)


def test_override_keys():
    overrides = overrides_from_mapping({"memoryRequestPerHCP": "18", "singleReplica.memoryRequestPerHCP": "640Mi",
                                        "idleCPUUsage": "23m", "minimumQPSPerHCP": "10"}, "test")
    assert overrides["HighlyAvailable"] == {"memory_request": 18 * GIB, "idle_cpu": Fraction(23, 1000),
                                            "low_qps": 10}
    assert overrides["SingleReplica"]["memory_request"] == 640 * 2**20
    with pytest.raises(ValueError, match="unknown key 'triplyAvailable.podsPerHCP'"):
        overrides_from_mapping({"triplyAvailable.podsPerHCP": "3"}, "test")
    with pytest.raises(ValueError, match="test: minimumQPSPerHCP: low_qps '5k' is not a number$"):
        overrides_from_mapping({"minimumQPSPerHCP": "5k"}, "test")
    with pytest.raises(ValueError, match="unknown availability policy"):
        default_baseline("TriplyAvailable")
