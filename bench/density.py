"""Benchmark of density: how many hosted control planes one management node holds; prints JSON.

On a fresh embedded management cluster with the operator installed (or an
existing one with --state-dir):

- baseline: after --idle-s seconds of rest, the management node's CPU and
  memory (kubelet's stats/summary: the node, and the sum of its pods) and the
  operator's CPU and RSS (its metrics) over a window of --window-s seconds,
  before any hosted cluster exists;
- then SingleReplica KWOK hosted clusters without NodePools, one after
  another, each in a namespace of its own (density-01, density-02, ...),
  each applied and waited for until Available (`kubectl wait`, a watch, so
  the waiting costs the node nothing), up to --max; the first one that is
  not Available within --limit-s ends the series: its conditions (Available
  says why, e.g. reason Unschedulable, "Insufficient cpu") are reported, and
  it is deleted so its half-started control plane does not count;
- after --idle-s seconds of rest with the Available ones, the same usage
  over the same window again: per control plane = (final − baseline) / control planes, and the
  operator's CPU and RSS with that many hosted clusters;
- each create's time (apply → Available, wall clock) and phases
  (hcp.hostedcluster.phases, from the objects' own timestamps), so a slower
  30th create shows where it is slower.

Every cluster it created is deleted at the end, also after a failure, Ctrl-C
or SIGTERM; without --state-dir the management cluster too.

Run as root from the repository: `.venv/bin/python bench/density.py` (about
--max × (create time + a little) plus 2 × (--idle-s + --window-s), and deleting at the end).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import create_report, create_times, idle_usage, per_control_plane  # noqa: E402

from hcp.api.names import control_plane_namespace  # noqa: E402
from hcp.hostedcluster.phases import PHASES, RESOLUTION_S, durations  # noqa: E402
from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "densbench"
CLUSTER = "bench"
LABEL = "hcp.io/bench"
"""On each namespace this benchmark makes (value `density`), so that a run cleans up what an interrupted one left."""


def namespace_of(index: int) -> str:
    return f"density-{index:02d}"


def conditions(cluster: ManagementCluster, namespace: str) -> list[dict[str, str]]:
    """The HostedCluster's conditions (type, status, reason, message), as its owner would read them."""
    result = cluster.kubectl("get", "hostedcluster", CLUSTER, "-n", namespace, "-o", "json", check=False)
    if result.returncode != 0:
        return []
    return [{key: c.get(key, "") for key in ("type", "status", "reason", "message")}
            for c in (json.loads(result.stdout).get("status") or {}).get("conditions") or ()]


def create(cluster: ManagementCluster, namespace: str, limit: float) -> tuple[bool, float]:
    """Apply one hosted cluster in its own namespace; (Available within `limit`, seconds from apply to that)."""
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("label", "namespace", namespace, f"{LABEL}=density")
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, CLUSTER, namespace,
                                                                      policy="SingleReplica"))
    waited = cluster.kubectl("wait", "-n", namespace, f"hostedcluster/{CLUSTER}", "--for=condition=Available",
                             f"--timeout={limit:.0f}s", check=False, timeout=limit + 120)
    return waited.returncode == 0, time.monotonic() - started


def available_now(cluster: ManagementCluster, namespaces: list[str]) -> int:
    return sum(1 for namespace in namespaces
               if any(c["type"] == "Available" and c["status"] == "True" for c in conditions(cluster, namespace)))


def delete(cluster: ManagementCluster, namespaces: list[str], timeout: float = 900) -> None:
    """Delete the hosted clusters of `namespaces` (all at once: the operator tears them down in parallel), then
    the namespaces, and wait until their control-plane namespaces are gone too."""
    if not namespaces:
        return
    for namespace in namespaces:
        cluster.kubectl("delete", "hostedcluster", "--all", "-n", namespace, "--wait=false", check=False)
    cluster.kubectl("delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true",
                    f"--timeout={timeout:.0f}s", check=False, timeout=timeout + 60)
    targets = [f"namespace/{control_plane_namespace(n, CLUSTER)}" for n in namespaces]
    cluster.kubectl("wait", "--for=delete", *targets, f"--timeout={timeout:.0f}s", check=False, timeout=timeout + 60)


def leftovers(cluster: ManagementCluster) -> list[str]:
    """Namespaces an earlier, interrupted run of this benchmark left behind."""
    names = cluster.kubectl("get", "namespaces", "-l", f"{LABEL}=density", "-o",
                            "jsonpath={.items[*].metadata.name}").stdout.split()
    return sorted(names)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-s", type=float, default=300.0,
                        help="seconds each hosted cluster may take to become Available before the series stops")
    parser.add_argument("--max", type=int, default=40, help="hosted clusters at most")
    parser.add_argument("--idle-s", type=float, default=60.0,
                        help="seconds of rest before usage is measured, before and after the series")
    parser.add_argument("--window-s", type=float, default=30.0,
                        help="seconds over which usage is measured after each rest")
    parser.add_argument("--interval-s", type=float, default=10.0,
                        help="seconds between usage samples in the window (kubelet refreshes about every 10 s)")
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()
    if options.max < 1 or options.limit_s <= 0 or options.idle_s < 0 or options.window_s <= 0:
        parser.error("--max, --limit-s and --window-s must be positive, --idle-s not negative")

    signal.signal(signal.SIGTERM, _interrupted)
    work = Path(tempfile.mkdtemp(prefix="hcp-bench-density-"))
    cluster = ManagementCluster(NAME, options.state_dir or work / "state")
    created: list[str] = []
    try:
        if options.state_dir is None:
            cluster.mc("up", "--name", NAME)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        else:
            delete(cluster, leftovers(cluster))
        time.sleep(options.idle_s)
        baseline = idle_usage(cluster.kubectl, options.window_s, options.interval_s)

        clusters: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        not_available: dict[str, Any] | None = None
        stop_reason = f"reached --max {options.max}"
        for index in range(1, options.max + 1):
            namespace = namespace_of(index)
            created.append(namespace)
            ok, seconds = create(cluster, namespace, options.limit_s)
            report = create_report(cluster.kubectl, namespace, CLUSTER)
            if not ok:
                found = conditions(cluster, namespace)
                available = next((c for c in found if c["type"] == "Available"), {})
                stop_reason = (f"hosted cluster {index} ({namespace}) not Available within {options.limit_s:.0f}s: "
                               f"{available.get('reason', 'no condition')}: {available.get('message', '')}")
                not_available = {"index": index, "namespace": namespace, "waited_s": round(seconds, 2),
                                 "conditions": found, "phases": durations(report),
                                 "components": report["components"]}
                print(f"density: {stop_reason}", file=sys.stderr)
                break
            reports.append(report)
            clusters.append({"index": index, "namespace": namespace, "create_s": round(seconds, 2),
                             "available_after_creation_s": report["phases"][-1]["end_s"],
                             "phases": durations(report)})
            print(f"density: {index} Available after {seconds:.1f}s", file=sys.stderr)
        if not_available is not None:  # its pods that did start would count as idle usage
            delete(cluster, [not_available["namespace"]])
            created.remove(not_available["namespace"])

        time.sleep(options.idle_s)
        final = idle_usage(cluster.kubectl, options.window_s, options.interval_s)
        present = [c["namespace"] for c in clusters]
        count = len(present)
        result = {
            "benchmark": "density",
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "policy": "SingleReplica",
            "platform": "KWOK",
            "limit_s": options.limit_s,
            "max": options.max,
            "idle_s": options.idle_s,
            "window_s": options.window_s,
            "available_at_once": available_now(cluster, present),
            "control_planes": count,
            "stop_reason": stop_reason,
            "create_s": create_times([c["create_s"] for c in clusters]),
            "per_control_plane": {
                **per_control_plane(baseline["node"], final["node"], count),
                "pods": per_control_plane(baseline["pods"], final["pods"], count),
            },
            "operator": {**final["operator"], "baseline": baseline["operator"]},
            "node": {"baseline": baseline["node"], "final": final["node"]},
            "pods": {"baseline": baseline["pods"], "final": final["pods"]},
            "resolution_s": RESOLUTION_S,
            "phase_definitions": PHASES,
            "phases_first": reports[0] if reports else None,
            "phases_last": reports[-1] if reports else None,
            "clusters": clusters,
            "not_available": not_available,
        }
        print(json.dumps(result, indent=2))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the cleanup short
        try:
            delete(cluster, created)
        except (subprocess.SubprocessError, OSError) as error:
            print(f"density: deleting the hosted clusters failed: {error}", file=sys.stderr)
        if options.state_dir is None:
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
