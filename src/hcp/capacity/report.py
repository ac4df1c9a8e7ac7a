"""One capacity report, shared by `hcp capacity` (table, JSON) and the operator's gauges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from hcp.capacity.formulas import GIB, Baseline, Estimate, estimates
from hcp.capacity.nodes import existing_control_planes, host_nodes, node_capacity


def report(nodes: Iterable[Mapping[str, Any]], control_planes: Iterable[Mapping[str, Any]],
           baselines: Mapping[str, Baseline], policy: str, *, qps: Fraction | None = None,
           node_selector: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON-able report: nodes counted, control planes there, the baseline used, every estimate."""
    hosts = [node_capacity(n) for n in host_nodes(nodes, node_selector)]
    existing = existing_control_planes(control_planes)
    baseline = baselines[policy]
    found = estimates(hosts, baseline, existing=existing, baselines=baselines, qps=qps)
    return {
        "availabilityPolicy": policy,
        "nodes": [{"name": n.name, "cpu": _number(n.cpu), "memoryGiB": _number(n.memory / GIB), "pods": n.pods}
                  for n in hosts],
        "existingControlPlanes": existing,
        "baseline": baseline_json(baseline),
        "estimates": [estimate_json(e) for e in found],
    }


def baseline_json(baseline: Baseline) -> dict[str, Any]:
    return {
        "cpuRequestPerHCP": _number(baseline.cpu_request),
        "memoryRequestPerHCPGiB": _number(baseline.memory_request / GIB),
        "podsPerHCP": baseline.pods,
        "idleCPUUsage": _number(baseline.idle_cpu),
        "idleMemoryUsageGiB": _number(baseline.idle_memory / GIB),
        "incrementalCPUUsagePer1KQPS": _number(baseline.cpu_per_1k_qps),
        "incrementalMemUsagePer1KQPSGiB": _number(baseline.memory_per_1k_qps / GIB),
        "lowQPS": _number(baseline.low_qps),
        "mediumQPS": _number(baseline.medium_qps),
        "highQPS": _number(baseline.high_qps),
        "sources": dict(baseline.sources),
    }


def estimate_json(estimate: Estimate) -> dict[str, Any]:
    out: dict[str, Any] = {"estimate": estimate.name, "controlPlanes": estimate.total, "more": estimate.more,
                           "exact": _number(estimate.value), "limitedBy": estimate.limited_by}
    if estimate.qps is not None:
        out["qps"] = _number(estimate.qps)
    return out


def table(data: Mapping[str, Any]) -> str:
    """The report as `hcp capacity` prints it: one row per estimate, then what it was computed from."""
    rows = [("ESTIMATE", "QPS", "FIT", "MORE", "LIMITED BY")]
    for e in data["estimates"]:
        rows.append((e["estimate"], str(e.get("qps", "")), str(e["controlPlanes"]), str(e["more"]), e["limitedBy"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    nodes, b = data["nodes"], data["baseline"]
    existing = ", ".join(f"{count} {policy}" for policy, count in data["existingControlPlanes"].items())
    lines += [
        "",
        f"{data['availabilityPolicy']} control planes on {len(nodes)} node(s) "
        f"({_total(nodes, 'cpu')} vCPU, {_total(nodes, 'memoryGiB')} GiB, {_total(nodes, 'pods')} pods); "
        f"existing: {existing}",
        f"baseline per control plane: requests {b['cpuRequestPerHCP']} vCPU, {b['memoryRequestPerHCPGiB']} GiB, "
        f"{b['podsPerHCP']} pods; idle {b['idleCPUUsage']} vCPU, {b['idleMemoryUsageGiB']} GiB; "
        f"per 1000 QPS +{b['incrementalCPUUsagePer1KQPS']} vCPU, +{b['incrementalMemUsagePer1KQPSGiB']} GiB",
    ]
    return "\n".join(lines)


def _total(nodes: list[Mapping[str, Any]], key: str) -> Any:
    return _number(sum(Fraction(str(n[key])) for n in nodes))


def _number(value: Fraction | int | float) -> int | float:
    """An exact value as JSON shows it: an int when whole, else rounded to 4 decimals."""
    value = Fraction(value)
    return int(value) if value.denominator == 1 else round(float(value), 4)
