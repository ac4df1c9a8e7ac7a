"""The docs' sizing formulas (OCP 4.17 hosted control planes, 2.2.1-2.2.4), pure and exact.

How many hosted control planes fit on the nodes that may host them:

- request-based (2.2.2): Σ allocatable vCPU ÷ vCPU requests per control plane, and
  Σ allocatable memory ÷ memory requests per control plane; the smaller one;
- pod-limit (2.2.1): Σ maxPods (allocatable pods) ÷ pods per control plane;
- load-based at a QPS (2.2.3): Σ vCPU ÷ (idle vCPU + QPS/1000 × vCPU per 1000 QPS), and
  the same for memory; the smaller one. The docs' load levels are low (50 QPS, their
  minimumQPSPerHCP), medium (1000 QPS) and high (2000 QPS);
- "minimum of previously mentioned maximums" (2.2.4): the smallest of all of them at the
  expected QPS (the docs' example expects medium).

The docs work per worker then multiply by the number of workers; summing over the
nodes is the same for identical nodes and says what a mixed cluster holds in total
(it ignores that a control plane's pods cannot be split across leftover crumbs of
several nodes, as the docs' own gauges do). Arithmetic is in Fractions, so that
"20 fit" is never 19.999... floored to 19; the docs floor only the final number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

SINGLE_REPLICA = "SingleReplica"
HIGHLY_AVAILABLE = "HighlyAvailable"
POLICIES = (SINGLE_REPLICA, HIGHLY_AVAILABLE)

GIB = 2**30

REQUEST = "request"
POD_LIMIT = "pod-limit"
LOW, MEDIUM, HIGH = "low", "medium", "high"
MINIMUM = "minimum"
ESTIMATES = (REQUEST, POD_LIMIT, LOW, MEDIUM, HIGH, MINIMUM)
"""Every estimate, in the order reports list them (the label values of hcp_capacity_control_planes)."""


@dataclass(frozen=True)
class Baseline:
    """What one hosted control plane of one availability policy needs (the docs' "baseline measurements").

    CPU in cores, memory in bytes, QPS in requests per second. `sources` says where each
    number came from (a bench result, the render, the docs, an override), so a report can
    tell a measured number from a borrowed one.
    """

    cpu_request: Fraction
    memory_request: Fraction
    pods: int
    idle_cpu: Fraction
    idle_memory: Fraction
    cpu_per_1k_qps: Fraction
    memory_per_1k_qps: Fraction
    low_qps: Fraction = Fraction(50)
    medium_qps: Fraction = Fraction(1000)
    high_qps: Fraction = Fraction(2000)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("cpu_request", "memory_request", "pods", "idle_cpu", "idle_memory"):
            if getattr(self, name) <= 0:
                raise ValueError(f"sizing baseline: {name} must be greater than 0")
        for name in ("cpu_per_1k_qps", "memory_per_1k_qps", "low_qps", "medium_qps", "high_qps"):
            if getattr(self, name) < 0:
                raise ValueError(f"sizing baseline: {name} must not be negative")

    def qps(self, level: str) -> Fraction:
        return {LOW: self.low_qps, MEDIUM: self.medium_qps, HIGH: self.high_qps}[level]

    def cpu_usage(self, qps: Fraction) -> Fraction:
        """Docs 2.2.4: idle vCPU usage + (QPS ÷ 1000) × vCPU usage per 1000 QPS."""
        return self.idle_cpu + Fraction(qps) / 1000 * self.cpu_per_1k_qps

    def memory_usage(self, qps: Fraction) -> Fraction:
        """Docs 2.2.4: idle memory usage + (QPS ÷ 1000) × memory usage per 1000 QPS."""
        return self.idle_memory + Fraction(qps) / 1000 * self.memory_per_1k_qps


@dataclass(frozen=True)
class NodeCapacity:
    """What one node can give to control planes: its allocatable CPU (cores), memory (bytes) and pods."""

    name: str
    cpu: Fraction
    memory: Fraction
    pods: int


@dataclass(frozen=True)
class Estimate:
    """One estimate: how many control planes fit in total (`value`, exact; `total`, floored), how many
    more fit beside the existing ones (`more`), and which resource limits it ("cpu", "memory", "pods")."""

    name: str
    value: Fraction
    total: int
    more: int
    limited_by: str
    qps: Fraction | None = None


@dataclass(frozen=True)
class Totals:
    cpu: Fraction
    memory: Fraction
    pods: int

    @classmethod
    def of(cls, nodes: Iterable[NodeCapacity]) -> Totals:
        nodes = list(nodes)
        return cls(sum((n.cpu for n in nodes), Fraction(0)), sum((n.memory for n in nodes), Fraction(0)),
                   sum(n.pods for n in nodes))


def _fits(limits: Mapping[str, tuple[Fraction, Fraction, Fraction]]) -> tuple[Fraction, int, str]:
    """resource -> (capacity, used by existing control planes, need per control plane): the exact number that
    fits in total, the whole number that still fits, and the resource that runs out first."""
    value, limited_by = min(((capacity / need, name) for name, (capacity, _, need) in limits.items()),
                            key=lambda pair: pair[0])
    more = min(math.floor((capacity - used) / need) for capacity, used, need in limits.values())
    return value, max(0, more), limited_by


def estimates(nodes: Iterable[NodeCapacity], baseline: Baseline, *,
              existing: Mapping[str, int] | None = None, baselines: Mapping[str, Baseline] | None = None,
              qps: Fraction | None = None) -> list[Estimate]:
    """Every estimate (ESTIMATES order) of how many control planes of `baseline` fit on `nodes`.

    `existing` counts the control planes already there by availability policy; what they use is
    taken from `baselines` (their own policy's; `baseline` when missing), so "more" is what the
    remaining room holds. `qps` is the expected API rate of the "minimum" estimate (default: the
    baseline's medium, as in the docs' example).
    """
    totals = Totals.of(nodes)
    existing = existing or {}
    baselines = baselines or {}
    owners = [(baselines.get(policy, baseline), count) for policy, count in existing.items()]

    def used(need) -> Fraction:
        return sum((need(b) * count for b, count in owners), Fraction(0))

    def request_limits() -> dict:
        return {"cpu": (totals.cpu, used(lambda b: b.cpu_request), baseline.cpu_request),
                "memory": (totals.memory, used(lambda b: b.memory_request), baseline.memory_request)}

    def pod_limits() -> dict:
        return {"pods": (Fraction(totals.pods), used(lambda b: Fraction(b.pods)), Fraction(baseline.pods))}

    def load_limits(rate: Fraction) -> dict:
        # Existing control planes are taken to make the same QPS as the ones the estimate is about.
        return {"cpu": (totals.cpu, used(lambda b: b.cpu_usage(rate)), baseline.cpu_usage(rate)),
                "memory": (totals.memory, used(lambda b: b.memory_usage(rate)), baseline.memory_usage(rate))}

    result = []

    def add(name: str, limits: dict, rate: Fraction | None = None) -> None:
        value, more, limited_by = _fits(limits)
        result.append(Estimate(name, value, math.floor(value), more, limited_by, rate))

    add(REQUEST, request_limits())
    add(POD_LIMIT, pod_limits())
    for level in (LOW, MEDIUM, HIGH):
        add(level, load_limits(baseline.qps(level)), baseline.qps(level))
    target = baseline.medium_qps if qps is None else Fraction(qps)
    add(MINIMUM, {**{f"{k} requests": v for k, v in request_limits().items()}, **pod_limits(),
                  **{f"{k} usage": v for k, v in load_limits(target).items()}}, target)
    return result
