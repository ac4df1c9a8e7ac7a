"""Benchmark of hosted control planes; prints JSON.

On a fresh embedded management cluster with the operator installed (or an
existing one with --state-dir):
- seconds from `kubectl apply` of a HostedCluster to Available, and to the
  first successful call to the hosted API with its admin kubeconfig
  (median of --runs; the cluster is deleted between runs);
- the phases of each create (hcp.hostedcluster.phases: namespace, Service
  and endpoint, PKI, image pulls, etcd, API server, controllers, Available
  observed, from the objects' own timestamps and events, 1-second
  resolution) and their medians. The medians are of runs whose images were
  all already on the node; a run that pulled any (the first on a fresh
  management cluster) is reported apart as `first_pull`, and one more run
  is made in its place;
- the floor: the same etcd + kube-apiserver binaries started as bare
  processes until /readyz, in the same run, and the ratios to it;
- after --idle seconds, memory (RSS) and CPU of each control-plane pod and of
  the operator, as kubelet reports them (stats/summary), their sum for the
  control plane, and the idle floor: the bare etcd + kube-apiserver processes
  --idle seconds after /readyz (anonymous memory, CPU over 30 s), with the
  ratio of the control plane's idle usage to it.

Run as root from the repository: `.venv/bin/python bench/hosted_control_plane.py`.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bare_control_plane import idle_usage, time_to_ready  # noqa: E402
from measure import create_report  # noqa: E402
from polling import wait_until  # noqa: E402

from hcp.hostedcluster.phases import PHASES, RESOLUTION_S, median_phases, pulled_images  # noqa: E402

from hcp.api.names import control_plane_namespace  # noqa: E402
from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "hcpbench"
NAMESPACE = "hcp-bench"
"""The HostedCluster's namespace: its own, so that --state-dir never touches a user's clusters."""
CLUSTER = "bench"
EXTRA_RUNS = 2
"""Runs beyond --runs allowed for pulling images (normally one: the first on a fresh management cluster)."""




def one_run(cluster: ManagementCluster, work: Path) -> dict[str, Any]:
    """One create: its wall-clock times and its phases (read once it is Available)."""
    kubectl = str(binaries.binary("kubernetes", "kubectl"))
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, CLUSTER, NAMESPACE))

    def available() -> bool:
        result = cluster.kubectl("get", f"hostedcluster/{CLUSTER}", "-n", NAMESPACE, "-o",
                                 'jsonpath={.status.conditions[?(@.type=="Available")].status}', check=False)
        return result.stdout == "True"

    def hosted_api_answers() -> bool:
        secret = cluster.kubectl("get", "secret", "-n", NAMESPACE, f"{CLUSTER}-admin-kubeconfig",
                                 "-o", "jsonpath={.data.kubeconfig}", check=False)
        if secret.returncode != 0 or not secret.stdout:
            return False
        path = work / "bench.kubeconfig"
        path.write_bytes(base64.b64decode(secret.stdout))
        return subprocess.run([kubectl, "--kubeconfig", str(path), "get", "--raw", "/version"],
                              capture_output=True, timeout=10).returncode == 0

    first_call = wait_until(hosted_api_answers, 600, "the hosted API")
    available_at = wait_until(available, 600, "Available")
    return {"apply_to_first_hosted_api_call_s": round(first_call - started, 2),
            "apply_to_available_s": round(available_at - started, 2),
            "phases": create_report(cluster.kubectl, NAMESPACE, CLUSTER)}


def delete_hosted_cluster(cluster: ManagementCluster, check: bool = True) -> None:
    """Delete the HostedCluster and wait until its control-plane namespace is gone too, so that the next create
    starts from nothing rather than waiting for a namespace still terminating."""
    cluster.kubectl("delete", f"hostedcluster/{CLUSTER}", "-n", NAMESPACE, "--ignore-not-found", "--wait=true",
                    "--timeout=300s", check=check, timeout=400)
    cluster.kubectl("wait", "--for=delete", f"namespace/{control_plane_namespace(NAMESPACE, CLUSTER)}",
                    "--timeout=300s", check=False, timeout=400)  # kubectl may call a namespace already gone an error


def pod_usage(cluster: ManagementCluster, namespaces: set[str]) -> dict[str, dict[str, float]]:
    node = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    summary = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary").stdout)
    usage = {}
    for pod in summary["pods"]:
        ref = pod["podRef"]
        if ref["namespace"] in namespaces:
            usage[f"{ref['namespace']}/{ref['name']}"] = {
                "rss_mib": round(pod.get("memory", {}).get("rssBytes", 0) / 2**20, 1),
                "cpu_millicores": round(pod.get("cpu", {}).get("usageNanoCores", 0) / 1e6, 1),
            }
    return usage


USAGE_KEYS = ("rss_mib", "cpu_millicores")


def usage_sum(usages) -> dict[str, float]:
    """The sum of usages ({rss_mib, cpu_millicores} each), rounded."""
    usages = list(usages)
    return {key: round(sum(usage[key] for usage in usages), 1) for key in USAGE_KEYS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-hcp-"))
    cluster = ManagementCluster(NAME, options.state_dir or work / "state")
    try:
        if options.state_dir is None:
            cluster.mc("up", "--name", NAME)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        else:
            delete_hosted_cluster(cluster, check=False)  # an interrupted run's, if any
        samples, first_pull, floor = [], [], []
        for attempt in range(options.runs + EXTRA_RUNS):
            if attempt:
                delete_hosted_cluster(cluster)
            run = one_run(cluster, work)
            if pulled_images(run["phases"]):
                first_pull.append(run)
                continue
            samples.append(run)
            floor.append(time_to_ready())
            if len(samples) == options.runs:
                break
        if not samples:
            raise SystemExit(f"every one of {options.runs + EXTRA_RUNS} runs pulled images: no warm run to report")
        result = {
            "benchmark": "hosted_control_plane",
            "runs": options.runs,
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "apply_to_available_s": round(statistics.median(s["apply_to_available_s"] for s in samples), 2),
            "apply_to_first_hosted_api_call_s": round(
                statistics.median(s["apply_to_first_hosted_api_call_s"] for s in samples), 2),
            "floor_bare_etcd_apiserver_ready_s": round(statistics.median(floor), 2),
            "resolution_s": RESOLUTION_S,
            "phase_definitions": PHASES,
            "phases": median_phases([s["phases"] for s in samples]),
            "first_pull": first_pull[0] if first_pull else None,
            "samples": samples,
        }
        if len(first_pull) > 1:
            result["more_pulls"] = first_pull[1:]
        result["ratio_available_to_floor"] = round(
            result["apply_to_available_s"] / result["floor_bare_etcd_apiserver_ready_s"], 2)
        result["ratio_first_call_to_floor"] = round(
            result["apply_to_first_hosted_api_call_s"] / result["floor_bare_etcd_apiserver_ready_s"], 2)
        time.sleep(options.idle)
        result["idle_after_s"] = options.idle
        plane = control_plane_namespace(NAMESPACE, CLUSTER)
        result["pods"] = pod_usage(cluster, {plane, "hypershift"})
        idle = usage_sum(v for k, v in result["pods"].items() if k.startswith(f"{plane}/"))
        # The idle floor, measured after the control plane's idle: its own CPU would otherwise be in the window.
        floor_usage = idle_usage(settle=options.idle)
        floor_usage["total"] = usage_sum(floor_usage.values())
        result["idle_control_plane"] = idle
        result["idle_floor_bare_etcd_apiserver"] = floor_usage
        result["idle_ratio_to_floor"] = {key: round(idle[key] / floor_usage["total"][key], 2) for key in USAGE_KEYS}
        print(json.dumps(result, indent=2))
    finally:
        delete_hosted_cluster(cluster, check=False)
        if options.state_dir is None:
            cluster.mc("delete", check=False)
        else:
            cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
