"""Benchmark of the sizing baseline (docs 2.2.3): idle usage of one control plane and its increment per 1000 QPS.

On a fresh embedded management cluster with the operator installed, one hosted
cluster of --policy; then, per run: usage of its control-plane pods (kubelet's
stats/summary, summed over the pods of clusters-<name>) sampled over --window
seconds idle, then under a load of each --qps rate (an httpx client loop of
--concurrency workers GETting and LISTing ConfigMaps of the hosted API), the
achieved QPS measured, not assumed. Prints JSON: medians over --runs of idle
cpu (cores) and memory (bytes), and of the increment per 1000 QPS (the slope
from idle to each load, scaled by the achieved QPS). The baseline is measured in
the same run as the load, as the other benches do. Copy the result to
bench/results/sizing-defaults.json and the numbers into hcp.capacity.baseline.

Run as root from the repository: `.venv/bin/python bench/sizing.py --runs 3`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2 as httpx  # noqa: E402  (hcp's pinned httpx)

from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "hcpsize"
HOSTED = "sizing"


def usage(cluster: ManagementCluster, namespace: str) -> tuple[float, float]:
    """(cpu cores, working-set bytes) of every pod of `namespace`, from kubelet's stats/summary."""
    node = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    summary = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary").stdout)
    cpu = memory = 0.0
    for pod in summary["pods"]:
        if pod["podRef"]["namespace"] == namespace:
            cpu += pod.get("cpu", {}).get("usageNanoCores", 0) / 1e9
            memory += pod.get("memory", {}).get("workingSetBytes", 0)
    return cpu, memory


def sample(cluster: ManagementCluster, namespace: str, window: float) -> tuple[float, float]:
    """Medians of usage sampled every 10 s over `window` seconds (kubelet's cpu is a ~10 s rate)."""
    samples = []
    deadline = time.monotonic() + window
    while time.monotonic() < deadline:
        time.sleep(10)
        samples.append(usage(cluster, namespace))
    return statistics.median(c for c, _ in samples), statistics.median(m for _, m in samples)


def hosted_client(cluster: ManagementCluster, work: Path) -> tuple[str, dict, ssl.SSLContext]:
    """The hosted API's URL, auth headers and TLS context, from the admin kubeconfig Secret."""
    secret = cluster.kubectl("get", "secret", "-n", "clusters", f"{HOSTED}-admin-kubeconfig",
                             "-o", "jsonpath={.data.kubeconfig}").stdout
    config = yaml.safe_load(base64.b64decode(secret))
    server = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    context = ssl.create_default_context()
    ca = work / "ca.crt"
    ca.write_bytes(base64.b64decode(server["certificate-authority-data"]))
    context.load_verify_locations(str(ca))
    headers = {}
    if "token" in user:
        headers["Authorization"] = f"Bearer {user['token']}"
    else:
        cert, key = work / "client.crt", work / "client.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        context.load_cert_chain(str(cert), str(key))
    return server["server"], headers, context


async def load(url: str, headers: dict, context: ssl.SSLContext, qps: float, seconds: float,
               concurrency: int) -> float:
    """Send about `qps` requests a second for `seconds` (paced per worker); return the achieved QPS."""
    done = 0
    interval = concurrency / qps
    async with httpx.AsyncClient(base_url=url, headers=headers, verify=context, timeout=30) as client:
        await client.post("/api/v1/namespaces/default/configmaps",
                          json={"metadata": {"name": "sizing-load"}, "data": {"k": "v"}})

        async def worker(index: int) -> None:
            nonlocal done
            start = time.monotonic() + index * interval / concurrency
            n = 0
            while (now := time.monotonic()) < started + seconds:
                target = start + n * interval
                if target > now:
                    await asyncio.sleep(target - now)
                path = "/api/v1/namespaces/default/configmaps" + ("" if n % 2 else "/sizing-load")
                response = await client.get(path)
                if response.status_code == 200:
                    done += 1
                n += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return done / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--policy", default="SingleReplica", choices=["SingleReplica", "HighlyAvailable"])
    parser.add_argument("--qps", type=float, nargs="+", default=[100.0, 200.0],
                        help="load rates (a 2-core machine cannot reach the docs' 1000)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds sampled per level")
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-sizing-"))
    cluster = ManagementCluster(NAME, work / "state")
    namespace = f"clusters-{HOSTED}"
    try:
        cluster.mc("up", "--name", NAME)
        cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, HOSTED, policy=options.policy))
        wait_until(lambda: cluster.kubectl(
            "get", f"hostedcluster/{HOSTED}", "-n", "clusters", "-o",
            'jsonpath={.status.conditions[?(@.type=="Available")].status}', check=False).stdout == "True",
            900, "Available")
        url, headers, context = hosted_client(cluster, work)
        runs = []
        for _ in range(options.runs):
            idle_cpu, idle_memory = sample(cluster, namespace, options.window)
            levels = []
            for rate in options.qps:
                loop = asyncio.new_event_loop()
                measured: dict = {}

                def under_load() -> None:
                    measured["usage"] = sample(cluster, namespace, options.window)

                thread = threading.Thread(target=under_load)
                thread.start()
                achieved = loop.run_until_complete(load(url, headers, context, rate, options.window + 5,
                                                        options.concurrency))
                thread.join()
                loop.close()
                cpu, memory = measured["usage"]
                levels.append({"target_qps": rate, "achieved_qps": round(achieved, 1), "cpu": cpu, "memory": memory,
                               "cpu_per_1k_qps": (cpu - idle_cpu) / achieved * 1000,
                               "memory_per_1k_qps": (memory - idle_memory) / achieved * 1000})
            runs.append({"idle_cpu": idle_cpu, "idle_memory": idle_memory, "levels": levels})
        result = {
            "benchmark": "sizing",
            "policy": options.policy,
            "runs": options.runs,
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "idle_cpu_cores": round(statistics.median(r["idle_cpu"] for r in runs), 4),
            "idle_memory_bytes": int(statistics.median(r["idle_memory"] for r in runs)),
            "cpu_per_1k_qps_cores": round(statistics.median(
                level["cpu_per_1k_qps"] for r in runs for level in r["levels"]), 3),
            "memory_per_1k_qps_bytes": int(statistics.median(
                level["memory_per_1k_qps"] for r in runs for level in r["levels"])),
            "samples": runs,
        }
        print(json.dumps(result, indent=2))
    finally:
        cluster.kubectl("delete", f"hostedcluster/{HOSTED}", "-n", "clusters", "--ignore-not-found", "--wait=true",
                        "--timeout=300s", check=False, timeout=400)
        cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
