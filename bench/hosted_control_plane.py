"""Benchmark of hosted control planes; prints JSON.

On a fresh embedded management cluster with the operator installed:
- seconds from `kubectl apply` of a HostedCluster to Available, and to the
  first successful call to the hosted API with its admin kubeconfig
  (median of --runs; the cluster is deleted between runs);
- the floor: the same etcd + kube-apiserver binaries started as bare
  processes until /readyz, in the same run, and the ratios to it;
- after --idle seconds, memory (RSS) and CPU of each control-plane pod and of
  the operator, as kubelet reports them (stats/summary).

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bare_control_plane import time_to_ready  # noqa: E402
from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "hcpbench"




def one_run(cluster: ManagementCluster, work: Path) -> dict[str, float]:
    kubectl = str(binaries.binary("kubernetes", "kubectl"))
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, "bench"))

    def available() -> bool:
        result = cluster.kubectl("get", "hostedcluster/bench", "-n", "clusters", "-o",
                                 'jsonpath={.status.conditions[?(@.type=="Available")].status}', check=False)
        return result.stdout == "True"

    def hosted_api_answers() -> bool:
        secret = cluster.kubectl("get", "secret", "-n", "clusters", "bench-admin-kubeconfig",
                                 "-o", "jsonpath={.data.kubeconfig}", check=False)
        if secret.returncode != 0 or not secret.stdout:
            return False
        path = work / "bench.kubeconfig"
        path.write_bytes(base64.b64decode(secret.stdout))
        return subprocess.run([kubectl, "--kubeconfig", str(path), "get", "--raw", "/version"],
                              capture_output=True, timeout=10).returncode == 0

    first_call = wait_until(hosted_api_answers, 600, "the hosted API")
    available_at = wait_until(available, 600, "Available")
    return {"apply_to_first_hosted_api_call_s": first_call - started, "apply_to_available_s": available_at - started}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60.0)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-hcp-"))
    cluster = ManagementCluster(NAME, work / "state")
    try:
        cluster.mc("up", "--name", NAME)
        cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        samples, floor = [], []
        for run in range(options.runs):
            samples.append(one_run(cluster, work))
            if run < options.runs - 1:
                cluster.kubectl("delete", "hostedcluster/bench", "-n", "clusters", "--wait=true", "--timeout=300s",
                                timeout=400)
            floor.append(time_to_ready())
        result = {
            "benchmark": "hosted_control_plane",
            "runs": options.runs,
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "apply_to_available_s": round(statistics.median(s["apply_to_available_s"] for s in samples), 2),
            "apply_to_first_hosted_api_call_s": round(
                statistics.median(s["apply_to_first_hosted_api_call_s"] for s in samples), 2),
            "floor_bare_etcd_apiserver_ready_s": round(statistics.median(floor), 2),
            "samples": samples,
        }
        result["ratio_available_to_floor"] = round(
            result["apply_to_available_s"] / result["floor_bare_etcd_apiserver_ready_s"], 2)
        result["ratio_first_call_to_floor"] = round(
            result["apply_to_first_hosted_api_call_s"] / result["floor_bare_etcd_apiserver_ready_s"], 2)
        time.sleep(options.idle)
        result["idle_after_s"] = options.idle
        result["pods"] = pod_usage(cluster, {"clusters-bench", "hypershift"})
        print(json.dumps(result, indent=2))
    finally:
        cluster.kubectl("delete", "hostedcluster/bench", "-n", "clusters", "--ignore-not-found", "--wait=true",
                        "--timeout=300s", check=False, timeout=400)
        cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
