"""hcp's own sizing baseline: measured or computed defaults, and how a user overrides them.

Defaults, per availability policy, and where each comes from:

- requests and pods: computed by rendering a sample control plane with hcp's own renderer
  (`rendered_requests`), so they follow the manifests whenever a component's requests or
  replicas change. The sample is a KWOK-platform control plane, as `hcp create cluster kwok`
  and bench/hosted_control_plane.py make.
- idle usage and the increment per 1000 QPS: measured by bench/sizing.py (2026-12-07, medians of
  3 runs, one SingleReplica KWOK control plane on the embedded management cluster with hcp's
  Prometheus scraping it under the Telemetry set; loads of 100 and 200 QPS of GETs and LISTs,
  the increment scaled to 1000 QPS; bench/results/sizing-defaults.json): 50.6 mCPU and 345 MiB
  idle, +2.04 vCPU and +26 MiB per 1000 QPS. A 2-core machine cannot drive 1000 QPS, so the
  increment is extrapolated linearly from 100 and 200 QPS. HighlyAvailable has not been
  measured here yet: its idle usage is the SingleReplica one scaled by the ratio of the two
  policies' requests, and its increment is the SingleReplica one (estimates, marked so in
  `sources`).
- load levels: the docs' 50 (low, their minimumQPSPerHCP), 1000 (medium) and 2000 (high) QPS.

Overrides (later wins): the ConfigMap hypershift/hcp-sizing-baseline (BASELINE_CONFIGMAP), a
file given to `hcp capacity --baseline`, `hcp capacity`'s flags. Keys are the docs' (2.3.1):
a key sets both policies; `singleReplica.<key>` or `highlyAvailable.<key>` sets one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from lightkube.utils.quantity import parse_quantity

from hcp.capacity.formulas import GIB, HIGHLY_AVAILABLE, POLICIES, SINGLE_REPLICA, Baseline

BASELINE_CONFIGMAP = "hcp-sizing-baseline"
BASELINE_NAMESPACE = "hypershift"

KEYS: dict[str, str] = {
    "cpuRequestPerHCP": "cpu_request",
    "memoryRequestPerHCP": "memory_request",
    "podsPerHCP": "pods",
    "idleCPUUsage": "idle_cpu",
    "idleMemoryUsage": "idle_memory",
    "incrementalCPUUsagePer1KQPS": "cpu_per_1k_qps",
    "incrementalMemUsagePer1KQPS": "memory_per_1k_qps",
    "minimumQPSPerHCP": "low_qps",
    "mediumQPSPerHCP": "medium_qps",
    "highQPSPerHCP": "high_qps",
}
"""ConfigMap/file key (the docs' names, 2.3.1) -> Baseline field. CPU in cores, memory in GiB
(as the docs write them), or either as a Kubernetes quantity ("500m", "18Gi")."""
POLICY_PREFIXES = {"singleReplica": SINGLE_REPLICA, "highlyAvailable": HIGHLY_AVAILABLE}
MEMORY_FIELDS = ("memory_request", "idle_memory", "memory_per_1k_qps")
CPU_FIELDS = ("cpu_request", "idle_cpu", "cpu_per_1k_qps")

IDLE_SOURCE = "measured: bench/sizing.py 2026-12-07, idle SingleReplica KWOK control plane, median of 3 runs " \
              "(bench/results/sizing-defaults.json)"
IDLE_SINGLE_REPLICA_CPU = Fraction(506, 10000)
IDLE_SINGLE_REPLICA_MEMORY = Fraction(361521152)
PER_1K_QPS_SOURCE = "measured: bench/sizing.py 2026-12-07, SingleReplica, 100 and 200 QPS scaled to 1000, median " \
                    "of 3 runs (bench/results/sizing-defaults.json)"
PER_1K_QPS_HA_SOURCE = "estimated, not measured: the SingleReplica increment (bench/sizing.py)"
CPU_PER_1K_QPS = Fraction(2036, 1000)
MEMORY_PER_1K_QPS = Fraction(27447083)
DOCS_CPU_PER_1K_QPS = Fraction(9)
DOCS_MEMORY_PER_1K_QPS = Fraction(5, 2) * GIB
"""The docs' figures (2.2.3, OpenShift's HighlyAvailable control plane), for reference and the docs' worked example."""


def _sample_control_plane(policy: str):
    """A HostedControlPlane as `hcp create cluster kwok` makes it, for rendering only."""
    from hcp.api import HostedControlPlane
    node_port = {"type": "NodePort", "nodePort": {"address": "192.0.2.10"}}
    return HostedControlPlane.model_validate({
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
        "metadata": {"name": "sizing", "namespace": "clusters-sizing"},
        "spec": {
            "releaseImage": "sizing.invalid/release:0", "pullSecret": {"name": "pull-secret"}, "issuerURL": "",
            "sshKey": {"name": "ssh-key"}, "infraID": "sizing", "platform": {"type": "KWOK"},
            "dns": {"baseDomain": "sizing.invalid"}, "controllerAvailabilityPolicy": policy,
            "services": [{"service": s, "servicePublishingStrategy": node_port}
                         for s in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")],
            "etcd": {"managementType": "Managed",
                     "managed": {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}}},
        },
    })


def pod_requests(pod_spec: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
    """(cpu cores, memory bytes) the scheduler reserves for a pod: its containers and sidecars
    (restartable init containers) together, or its largest ordinary init container if that is more."""
    def of(container: Mapping[str, Any]) -> tuple[Fraction, Fraction]:
        requests = (container.get("resources") or {}).get("requests") or {}
        return (Fraction(parse_quantity(requests.get("cpu", "0"))),
                Fraction(parse_quantity(requests.get("memory", "0"))))
    inits = pod_spec.get("initContainers") or []
    running = [of(c) for c in pod_spec.get("containers") or []] + \
              [of(c) for c in inits if c.get("restartPolicy") == "Always"]
    cpu, memory = sum((c for c, _ in running), Fraction(0)), sum((m for _, m in running), Fraction(0))
    for init in (of(c) for c in inits if c.get("restartPolicy") != "Always"):
        cpu, memory = max(cpu, init[0]), max(memory, init[1])
    return cpu, memory


def workload_requests(objects: list[Mapping[str, Any]]) -> tuple[Fraction, Fraction, int]:
    """(cpu, memory, pods) of every Deployment and StatefulSet among `objects`, times their replicas."""
    cpu, memory, pods = Fraction(0), Fraction(0), 0
    for obj in objects:
        if obj.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        replicas = obj["spec"].get("replicas", 1)
        pod_cpu, pod_memory = pod_requests(obj["spec"]["template"]["spec"])
        cpu, memory, pods = cpu + replicas * pod_cpu, memory + replicas * pod_memory, pods + replicas
    return cpu, memory, pods


@functools.lru_cache(maxsize=None)
def rendered_requests(policy: str) -> tuple[Fraction, Fraction, int]:
    """(cpu cores, memory bytes, pods) one control plane of `policy` requests, from hcp's own render."""
    from hcp.controlplane.context import COMPONENT_IMAGES, RenderContext
    from hcp.controlplane.render import render
    ctx = RenderContext.for_hcp(_sample_control_plane(policy),
                                images={c: f"sizing.invalid/{c}:0" for c in COMPONENT_IMAGES},
                                kubernetes_version="1.37.1", api_endpoint=("192.0.2.10", 30443))
    return workload_requests(render(ctx))


@functools.lru_cache(maxsize=None)
def default_baseline(policy: str) -> Baseline:
    """hcp's default baseline for `policy` (see the module's docstring for where each number comes from)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown availability policy {policy!r}; use one of {', '.join(POLICIES)}")
    cpu, memory, pods = rendered_requests(policy)
    rendered = f"computed: a rendered {policy} KWOK control plane's Deployments and StatefulSets (requests × replicas)"
    idle_cpu, idle_memory, idle_source = IDLE_SINGLE_REPLICA_CPU, IDLE_SINGLE_REPLICA_MEMORY, IDLE_SOURCE
    if policy == HIGHLY_AVAILABLE:
        single_cpu, single_memory, _ = rendered_requests(SINGLE_REPLICA)
        idle_cpu, idle_memory = idle_cpu * cpu / single_cpu, idle_memory * memory / single_memory
        idle_source = ("estimated, not measured: the SingleReplica idle usage (bench/hosted_control_plane.py) "
                       "scaled by the ratio of HighlyAvailable to SingleReplica requests")
    sources = {"cpu_request": rendered, "memory_request": rendered, "pods": rendered,
               "idle_cpu": idle_source, "idle_memory": idle_source,
               "cpu_per_1k_qps": PER_1K_QPS_SOURCE if policy == SINGLE_REPLICA else PER_1K_QPS_HA_SOURCE,
               "memory_per_1k_qps": PER_1K_QPS_SOURCE if policy == SINGLE_REPLICA else PER_1K_QPS_HA_SOURCE,
               "low_qps": "docs 2.2.3 (low load, minimumQPSPerHCP)", "medium_qps": "docs 2.2.3 (medium load)",
               "high_qps": "docs 2.2.3 (high load)"}
    return Baseline(cpu_request=cpu, memory_request=memory, pods=pods, idle_cpu=idle_cpu, idle_memory=idle_memory,
                    cpu_per_1k_qps=CPU_PER_1K_QPS, memory_per_1k_qps=MEMORY_PER_1K_QPS, sources=sources)


def parse_value(field_name: str, value: Any) -> Fraction:
    """A number as the docs write it (cores; GiB for memory) or a Kubernetes quantity."""
    text = str(value).strip()
    try:
        number = Fraction(Decimal(text))
        return number * GIB if field_name in MEMORY_FIELDS else number
    except (InvalidOperation, ValueError):
        pass
    try:
        parsed = parse_quantity(text)
    except ValueError:
        parsed = None
    if parsed is None or field_name in ("pods", "low_qps", "medium_qps", "high_qps"):
        raise ValueError(f"sizing baseline: {field_name} {value!r} is not a number"
                         + ("" if field_name in ("pods",) or "qps" in field_name else " or a quantity"))
    return Fraction(parsed)


def overrides_from_mapping(data: Mapping[str, Any], origin: str) -> dict[str, dict[str, Fraction]]:
    """policy -> Baseline field -> value, from a ConfigMap's data or a file's mapping (keys in KEYS,
    optionally prefixed by singleReplica. or highlyAvailable.). Unknown keys are refused, naming them."""
    result: dict[str, dict[str, Fraction]] = {policy: {} for policy in POLICIES}
    prefixed: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        prefix, _, name = str(key).rpartition(".")
        if name not in KEYS or (prefix and prefix not in POLICY_PREFIXES):
            raise ValueError(f"{origin}: unknown key {key!r}; known: {', '.join(KEYS)} "
                             f"(optionally prefixed by {' or '.join(p + '.' for p in POLICY_PREFIXES)})")
        if prefix:
            prefixed.append((POLICY_PREFIXES[prefix], name, value))
        else:
            for policy in POLICIES:
                result[policy][KEYS[name]] = _parse(origin, name, value)
    for policy, name, value in prefixed:  # a policy's own key wins over the shared one
        result[policy][KEYS[name]] = _parse(origin, name, value)
    return result


def _parse(origin: str, key: str, value: Any) -> Fraction:
    try:
        return parse_value(KEYS[key], value)
    except ValueError as error:
        raise ValueError(f"{origin}: {key}: {str(error).split(': ', 1)[1]}") from None


def with_overrides(baseline: Baseline, overrides: Mapping[str, Fraction], origin: str) -> Baseline:
    """`baseline` with some fields replaced; each replaced field's source names `origin`."""
    if not overrides:
        return baseline
    values = {name: (int(value) if name == "pods" else value) for name, value in overrides.items()}
    if "pods" in values and values["pods"] != overrides["pods"]:
        raise ValueError(f"{origin}: podsPerHCP must be a whole number")
    sources = {**baseline.sources, **{name: f"overridden: {origin}" for name in values}}
    try:
        return dataclasses.replace(baseline, **values, sources=sources)
    except ValueError as error:
        raise ValueError(f"{origin}: {error}") from None


def baselines_from_configmap(data: Mapping[str, Any] | None) -> dict[str, Baseline]:
    """Both policies' baselines: the defaults with the ConfigMap's data (if any) applied."""
    origin = f"ConfigMap {BASELINE_NAMESPACE}/{BASELINE_CONFIGMAP}"
    overrides = overrides_from_mapping(data or {}, origin)
    return {policy: with_overrides(default_baseline(policy), overrides[policy], origin) for policy in POLICIES}
