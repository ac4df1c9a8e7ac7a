"""What the benchmarks read off a running management cluster: a create's phases, the node's and the operator's
usage over an idle window.

The reading is split from the arithmetic so that the arithmetic is unit-tested
(tests/unit/bench) without a cluster: `usage_sample`, `window_usage`,
`prometheus_values`, `operator_usage` and `per_control_plane` are pure; the
functions taking `kubectl` (a `ManagementCluster.kubectl`) fetch.

Usage comes from the management node's kubelet (`/stats/summary` through the
API server's node proxy), the same numbers `kubectl top` shows, so it works on
any management cluster, embedded or not: `node` is the whole node as kubelet
sees it (on the embedded cluster, the machine, host processes included: the
management etcd and API server also grow with every hosted cluster), `pods` is
the sum over the node's pods. CPU is the rate of the cumulative counters
(usageCoreNanoSeconds) between the first and last sample of the window, each
over its own sample time, because kubelet's instantaneous usageNanoCores is a
~10 s rate of whatever moment it was taken; memory is the median working set
over the window's samples. The operator's own numbers come from its
Prometheus endpoint (process_cpu_seconds_total, process_resident_memory_bytes), with
each controller's passes per minute over the window (controller_runtime_reconcile_time_seconds),
which say what an idle operator spends that CPU on.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from hcp.api.names import control_plane_namespace
from hcp.hostedcluster.phases import create_phases, parse_time, split_by_kind

Kubectl = Callable[..., subprocess.CompletedProcess]

MIB = 2 ** 20


# --- pure -------------------------------------------------------------------------------------------------

def usage_sample(summary: dict[str, Any]) -> dict[str, Any]:
    """The cumulative CPU, its sample time and the working set of the node and of each pod of a stats/summary."""
    def entry(stats: dict[str, Any]) -> dict[str, Any]:
        cpu, memory = stats.get("cpu") or {}, stats.get("memory") or {}
        return {"time": cpu.get("time"), "cpu_ns": cpu.get("usageCoreNanoSeconds"),
                "memory_bytes": memory.get("workingSetBytes")}

    pods = {f"{p['podRef']['namespace']}/{p['podRef']['name']}": entry(p) for p in summary.get("pods") or ()}
    return {"node": entry(summary.get("node") or {}), "pods": pods}


def _rate_m(before: dict[str, Any], after: dict[str, Any]) -> float | None:
    """Millicores between two cumulative samples; None when kubelet has not refreshed the counter between them."""
    if before.get("cpu_ns") is None or after.get("cpu_ns") is None:
        return None
    start, end = parse_time(before.get("time")), parse_time(after.get("time"))
    if start is None or end is None or end <= start:
        return None
    return (after["cpu_ns"] - before["cpu_ns"]) / (end - start).total_seconds() / 1e6


def window_usage(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Node and pods (summed) CPU in millicores and working set in MiB over a window of usage_samples."""
    if not samples:
        raise ValueError("no samples")
    first, last = samples[0], samples[-1]
    node_cpu = _rate_m(first["node"], last["node"])
    pod_rates = [_rate_m(first["pods"][key], last["pods"][key]) for key in first["pods"] if key in last["pods"]]
    known = [rate for rate in pod_rates if rate is not None]
    node_memory = [s["node"]["memory_bytes"] for s in samples if s["node"].get("memory_bytes") is not None]
    pods_memory = [sum(p.get("memory_bytes") or 0 for p in s["pods"].values()) for s in samples]
    return {
        "node": {"cpu_m": _round(node_cpu), "memory_mib": _round(statistics.median(node_memory) / MIB)
                 if node_memory else None},
        "pods": {"cpu_m": _round(sum(known)) if known else None,
                 "memory_mib": _round(statistics.median(pods_memory) / MIB), "count": len(last["pods"])},
        "samples": len(samples),
    }


def prometheus_values(text: str) -> dict[str, float]:
    """The unlabelled series of a Prometheus text exposition (process_*: what the benchmarks read), by name."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "{" in line.split(" ", 1)[0]:
            continue
        parts = line.split()
        if len(parts) >= 2:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return values


def operator_usage(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float | None]:
    """The operator's CPU (millicores over `seconds` between two scrapes) and RSS (MiB, at the second scrape)."""
    cpu = None
    if seconds > 0 and "process_cpu_seconds_total" in before and "process_cpu_seconds_total" in after:
        cpu = _round((after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]) / seconds * 1000)
    rss = after.get("process_resident_memory_bytes")
    return {"cpu_m": cpu, "rss_mib": _round(rss / MIB) if rss is not None else None}


def labelled_value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of series `name` whose labels include `labels` in a Prometheus text exposition; None if absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        series, _, rest = line.partition("} ")
        found = dict(part.split("=", 1) for part in series[len(name) + 1:].split(",") if "=" in part)
        if all(found.get(key) == f'"{value}"' for key, value in labels.items()):
            try:
                return float(rest.split()[0])
            except (IndexError, ValueError):
                return None
    return None


def reconcile_window(before: str, after: str, controller: str) -> dict[str, float | int | None]:
    """A controller's reconciles between two scrapes of controller_runtime_reconcile_time_seconds: how many,
    their mean and total seconds (mean None when there were none)."""
    def read(text: str, suffix: str) -> float:
        return labelled_value(text, f"controller_runtime_reconcile_time_seconds_{suffix}",
                              {"controller": controller}) or 0.0

    count = int(read(after, "count") - read(before, "count"))
    total = read(after, "sum") - read(before, "sum")
    return {"passes": count, "mean_s": round(total / count, 4) if count > 0 else None, "total_s": round(total, 2)}


def controllers(text: str) -> list[str]:
    """The controllers a scrape has reconcile counts of (controller_runtime_reconcile_time_seconds_count)."""
    prefix = "controller_runtime_reconcile_time_seconds_count{"
    found = []
    for line in text.splitlines():
        if line.startswith(prefix):
            labels = dict(part.split("=", 1) for part in line[len(prefix):].partition("}")[0].split(",") if "=" in part)
            name = labels.get("controller", "").strip('"')
            if name and name not in found:
                found.append(name)
    return found


def passes_per_minute(before: str, after: str, seconds: float) -> dict[str, dict[str, float | None]]:
    """Each controller's passes per minute between two scrapes `seconds` apart, and their mean seconds: what an
    idle operator spends its CPU on."""
    result = {}
    for controller in controllers(after):
        window = reconcile_window(before, after, controller)
        result[controller] = {"per_min": round(window["passes"] * 60 / seconds, 2) if seconds > 0 else None,
                              "mean_s": window["mean_s"]}
    return result


def per_control_plane(baseline: dict[str, float | None], final: dict[str, float | None],
                      count: int) -> dict[str, float | None]:
    """(final − baseline) / count for each of cpu_m and memory_mib; None where either is unknown or count is 0."""
    result: dict[str, float | None] = {}
    for key in ("cpu_m", "memory_mib"):
        before, after = baseline.get(key), final.get(key)
        result[key] = _round((after - before) / count) if count and before is not None and after is not None \
            else None
    return result


def create_times(seconds: list[float]) -> dict[str, float | None]:
    """First, last and median of a series of create times, and how much slower the last was than the first."""
    if not seconds:
        return {"first": None, "last": None, "median": None, "ratio_last_to_first": None}
    return {"first": round(seconds[0], 2), "last": round(seconds[-1], 2),
            "median": round(statistics.median(seconds), 2),
            "ratio_last_to_first": round(seconds[-1] / seconds[0], 2) if seconds[0] else None}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- reading the cluster ------------------------------------------------------------------------------------

def _json(kubectl: Kubectl, *args: str) -> dict[str, Any] | None:
    result = kubectl(*args, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout else None


def create_report(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    """hcp.hostedcluster.phases.create_phases of HostedCluster namespace/name, from its objects as they are now."""
    target = control_plane_namespace(namespace, name)
    hosted_cluster = _json(kubectl, "get", "hostedcluster", name, "-n", namespace)
    if hosted_cluster is None:
        raise RuntimeError(f"HostedCluster {namespace}/{name} not found")
    listed = _json(kubectl, "get", "secrets,services,pods,events,hostedcontrolplanes", "-n", target) or {}
    kinds = split_by_kind(listed.get("items") or ())
    for secret in kinds.get("Secret", []):
        secret.pop("data", None)  # only metadata is read; keep keys out of memory and of any dump
    control_planes = kinds.get("HostedControlPlane", [])
    published = _json(kubectl, "get", "secret", f"{name}-admin-kubeconfig", "-n", namespace)
    if published is not None:
        published.pop("data", None)
    return create_phases(hosted_cluster, namespace=_json(kubectl, "get", "namespace", target),
                         hosted_control_plane=control_planes[0] if control_planes else None,
                         secrets=kinds.get("Secret", []), services=kinds.get("Service", []),
                         pods=kinds.get("Pod", []), events=kinds.get("Event", []), published_kubeconfig=published)


def node_summary(kubectl: Kubectl) -> dict[str, Any]:
    """kubelet's stats/summary of the management node (the first node: the embedded cluster has one)."""
    node = kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    return json.loads(kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary").stdout)


def operator_pod(kubectl: Kubectl) -> str:
    """The operator pod that holds the leader Lease (only it runs the controllers), else the first one."""
    holder = kubectl("get", "lease", "hypershift-operator", "-n", "hypershift", "-o",
                     "jsonpath={.spec.holderIdentity}", check=False).stdout.strip()
    pods = kubectl("get", "pods", "-n", "hypershift", "-l", "app=operator", "-o",
                   "jsonpath={.items[*].metadata.name}").stdout.split()
    if holder in pods:
        return holder
    if not pods:
        raise RuntimeError("no operator pod in namespace hypershift")
    return pods[0]


def operator_metrics_text(kubectl: Kubectl, pod: str) -> str:
    """The operator's /metrics (Prometheus text) through the API server's pod proxy."""
    return kubectl("get", "--raw", f"/api/v1/namespaces/hypershift/pods/https:{pod}:9000/proxy/metrics").stdout


def operator_metrics(kubectl: Kubectl, pod: str) -> dict[str, float]:
    return prometheus_values(operator_metrics_text(kubectl, pod))


def idle_usage(kubectl: Kubectl, seconds: float, interval: float = 10.0) -> dict[str, Any]:
    """Usage of the node, its pods and the operator over a window of `seconds` in which the benchmark does
    nothing else (sampled every `interval`; the caller lets things settle first)."""
    pod = operator_pod(kubectl)
    scraped = time.monotonic()
    before_text = operator_metrics_text(kubectl, pod)
    before = prometheus_values(before_text)
    samples = [usage_sample(node_summary(kubectl))]
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(interval, left))
        samples.append(usage_sample(node_summary(kubectl)))
    after_text = operator_metrics_text(kubectl, pod)
    after = prometheus_values(after_text)
    seconds = time.monotonic() - scraped
    usage = window_usage(samples)
    usage["operator"] = {**operator_usage(before, after, seconds),
                         "passes": passes_per_minute(before_text, after_text, seconds)}
    usage["window_s"] = seconds
    return usage
