"""Benchmark of NodePools of simulated (KWOK) machines; prints JSON.

On a fresh embedded management cluster with the operator installed and one
hosted cluster (or on an existing one with --state-dir):
- seconds from `kubectl scale nodepool --replicas=100` to 100 Ready nodes in
  the hosted cluster, and from `--replicas=0` to none left (median of --runs);
- memory (RSS) of the hosted kube-apiserver, and of kwok and the operator,
  with 100 and with 500 simulated nodes, after --settle seconds at that size,
  as kubelet reports them (stats/summary).

Run as root from the repository: `.venv/bin/python bench/nodepool.py`.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lightkube import Client, KubeConfig  # noqa: E402
from lightkube.resources.core_v1 import Node  # noqa: E402

from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "npbench"
NAMESPACE = "np-bench"
CLUSTER = "bench"
POOL = "bench-workers"




def ready_nodes(hosted: Client) -> tuple[int, int]:
    """(Ready nodes, all nodes) of the pool."""
    nodes = list(hosted.list(Node, labels={"hypershift.openshift.io/nodePool": POOL}))
    ready = sum(1 for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or ()))
    return ready, len(nodes)


def scale(cluster: ManagementCluster, replicas: int) -> float:
    cluster.kubectl("scale", f"nodepool/{POOL}", "-n", NAMESPACE, f"--replicas={replicas}")
    return time.monotonic()


def scale_and_wait(cluster: ManagementCluster, hosted: Client, replicas: int, timeout: float = 900) -> float:
    started = scale(cluster, replicas)
    if replicas:
        done = wait_until(lambda: ready_nodes(hosted)[0] >= replicas, timeout, f"{replicas} Ready nodes")
    else:
        done = wait_until(lambda: ready_nodes(hosted)[1] == 0, timeout, "no nodes")
    return done - started


def rss(cluster: ManagementCluster, namespaces: set[str]) -> dict[str, float]:
    """MiB of RSS per pod of the given namespaces, keyed namespace/name."""
    node = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    summary = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary").stdout)
    return {f"{p['podRef']['namespace']}/{p['podRef']['name']}":
            round(p.get("memory", {}).get("rssBytes", 0) / 2**20, 1)
            for p in summary["pods"] if p["podRef"]["namespace"] in namespaces}


def memory_at(cluster: ManagementCluster, hosted: Client, nodes: int, settle: float) -> dict[str, float]:
    scale_and_wait(cluster, hosted, nodes)
    time.sleep(settle)
    usage = rss(cluster, {f"{NAMESPACE}-{CLUSTER}", "hypershift"})
    pick = {"kube_apiserver": "/kube-apiserver-", "kwok": "/kwok-", "operator": "hypershift/operator-"}
    return {f"{label}_rss_mib": next((v for k, v in usage.items() if fragment in k), 0.0)
            for label, fragment in pick.items()}


def setup(cluster: ManagementCluster, work: Path) -> Client:
    """The hosted cluster and an empty NodePool; a client of the hosted API."""
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, CLUSTER, NAMESPACE))
    cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{CLUSTER}", "--for=condition=Available",
                    "--timeout=600s", timeout=700)
    release = json.loads(cluster.kubectl("get", "-n", NAMESPACE, f"hostedcluster/{CLUSTER}", "-o", "json").stdout)[
        "spec"]["release"]["image"]
    pool = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
            "metadata": {"name": POOL, "namespace": NAMESPACE},
            "spec": {"clusterName": CLUSTER, "replicas": 0, "release": {"image": release},
                     "management": {"upgradeType": "Replace"},
                     "platform": {"type": "KWOK", "kwok": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}}}}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pool))
    encoded = cluster.kubectl("get", "secret", "-n", NAMESPACE, f"{CLUSTER}-admin-kubeconfig",
                              "-o", "jsonpath={.data.kubeconfig}").stdout
    path = work / "hosted.kubeconfig"
    path.write_bytes(base64.b64decode(encoded))
    return Client(config=KubeConfig.from_file(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--large", type=int, default=500)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds at a size before measuring memory")
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-np-"))
    cluster = ManagementCluster(NAME, options.state_dir or work / "state")
    try:
        if options.state_dir is None:
            cluster.mc("up", "--name", NAME)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        hosted = setup(cluster, work)
        up, down = [], []
        for _ in range(options.runs):
            up.append(scale_and_wait(cluster, hosted, options.nodes))
            down.append(scale_and_wait(cluster, hosted, 0))
        result = {
            "benchmark": "nodepool",
            "platform": "KWOK",
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "runs": options.runs,
            f"scale_0_to_{options.nodes}_ready_s": round(statistics.median(up), 2),
            f"scale_{options.nodes}_to_0_gone_s": round(statistics.median(down), 2),
            "samples": {"up_s": [round(s, 2) for s in up], "down_s": [round(s, 2) for s in down]},
            "settle_s": options.settle,
            f"memory_at_{options.nodes}_nodes": memory_at(cluster, hosted, options.nodes, options.settle),
            f"memory_at_{options.large}_nodes": memory_at(cluster, hosted, options.large, options.settle),
        }
        scale_and_wait(cluster, hosted, 0)
        print(json.dumps(result, indent=2))
    finally:
        cluster.kubectl("delete", "hostedcluster", CLUSTER, "-n", NAMESPACE, "--ignore-not-found", "--wait=true",
                        "--timeout=300s", check=False, timeout=400)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        if options.state_dir is None:
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
