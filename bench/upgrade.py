"""Benchmark of NodePool rollouts of simulated (KWOK) machines; prints JSON.

On a fresh embedded management cluster with the operator installed and one
hosted cluster on the newer supported release (or an existing management
cluster with --state-dir), for each pool size (--sizes, default 10 and 100):

- baseline: seconds from `kubectl scale nodepool --replicas=N` to N Ready
  nodes (making N machines from nothing, the floor of any rollout);
- seconds from `kubectl patch nodepool` of spec.release.image (older <-> newer
  release, alternating) to every machine Ready on the new version with
  UpdatingVersion=False, for `upgradeType: Replace` (HyperShift's defaults:
  maxSurge 1, maxUnavailable 0) and `InPlace` (maxUnavailable 10%);

medians of --runs, and each rollout's ratio to the baseline measured in the
same run; and for a HighlyAvailable control plane (3 etcd members, 3 API
servers), while a client reads from the hosted API at --rate requests a second:

- baseline: seconds from applying the HostedCluster to Available;
- seconds from patching spec.release.image (older -> newer, then back, forced
  with hypershift.openshift.io/force-upgrade-to, alternating) to the history's
  Completed entry, and how many of the client's requests failed meanwhile.

Run as root from the repository: `.venv/bin/python bench/upgrade.py`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lightkube import Client, KubeConfig  # noqa: E402
from lightkube.resources.core_v1 import Namespace, Node  # noqa: E402

from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from hcp.management.layout import Layout  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "upgbench"
NAMESPACE = "upgrade-bench"
CLUSTER = "bench"
OLDER = "kubernetes-1.36"
NEWER = "kubernetes"
STRATEGIES = {
    "replace": {"upgradeType": "Replace"},
    "inplace": {"upgradeType": "InPlace", "inPlace": {"maxUnavailable": "10%"}},
}


def release(cluster: ManagementCluster, toolset: str) -> str:
    return f"{Layout(cluster.state_dir).load_config().registry}/hcp/release:{binaries.TOOLSETS[toolset].version}"


def pool_nodes(hosted: Client, pool: str) -> list[Node]:
    return list(hosted.list(Node, labels={"hypershift.openshift.io/nodePool": pool}))


def on_version(hosted: Client, pool: str, version: str, replicas: int) -> bool:
    nodes = pool_nodes(hosted, pool)
    ready = [n for n in nodes if not n.spec.unschedulable and n.status.nodeInfo.kubeletVersion == version
             and any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or ())]
    return len(nodes) == len(ready) == replicas


def updating(cluster: ManagementCluster, pool: str) -> str:
    status = json.loads(cluster.kubectl("get", "nodepool", pool, "-n", NAMESPACE, "-o", "json").stdout).get("status", {})
    return next((c["status"] for c in status.get("conditions", []) if c["type"] == "UpdatingVersion"), "")


def create_pool(cluster: ManagementCluster, pool: str, management: dict, toolset: str) -> None:
    manifest = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
                "metadata": {"name": pool, "namespace": NAMESPACE},
                "spec": {"clusterName": CLUSTER, "replicas": 0, "release": {"image": release(cluster, toolset)},
                         "management": management,
                         "platform": {"type": "KWOK", "kwok": {"capacity": {"cpu": "4", "memory": "16Gi"}}}}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def scale(cluster: ManagementCluster, hosted: Client, pool: str, replicas: int, version: str) -> float:
    started = time.monotonic()
    cluster.kubectl("scale", f"nodepool/{pool}", "-n", NAMESPACE, f"--replicas={replicas}")
    if replicas:
        done = wait_until(lambda: on_version(hosted, pool, version, replicas), 900, f"{replicas} Ready nodes")
    else:
        done = wait_until(lambda: not pool_nodes(hosted, pool), 900, "no nodes")
    return done - started


def roll(cluster: ManagementCluster, hosted: Client, pool: str, toolset: str, replicas: int) -> float:
    version = binaries.TOOLSETS[toolset].version
    started = time.monotonic()
    cluster.kubectl("patch", "nodepool", pool, "-n", NAMESPACE, "--type=merge",
                    "-p", json.dumps({"spec": {"release": {"image": release(cluster, toolset)}}}))
    done = wait_until(lambda: on_version(hosted, pool, version, replicas) and updating(cluster, pool) == "False",
                      1800, f"{replicas} machines on {version}")
    return done - started


def delete_pool(cluster: ManagementCluster, pool: str) -> None:
    cluster.kubectl("delete", "nodepool", pool, "-n", NAMESPACE, "--wait=true", "--timeout=300s", timeout=400)


class Reader(threading.Thread):
    """Reads namespace default from the hosted API `rate` times a second; counts requests and failures."""

    def __init__(self, client: Client, rate: float) -> None:
        super().__init__(daemon=True)
        self.client, self.interval = client, 1 / rate
        self.requests = self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.client.get(Namespace, "default")
            except Exception:  # noqa: BLE001 - any failure is what a user would see fail
                self.failures += 1
            self.requests += 1
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))


def completed(cluster: ManagementCluster, name: str, version: str) -> bool:
    status = json.loads(cluster.kubectl("get", "hostedcluster", name, "-n", NAMESPACE, "-o", "json").stdout).get(
        "status", {})
    history = (status.get("version") or {}).get("history") or [{}]
    return history[0].get("version") == version and history[0].get("state") == "Completed"


def control_plane_updates(cluster: ManagementCluster, work: Path, runs: int, rate: float) -> dict:
    """The HA control plane: create (the baseline), then `runs` updates with a reader throughout."""
    name = "ha"
    manifest = hosted_cluster_manifest(cluster, name, NAMESPACE, release=release(cluster, OLDER),
                                       policy="HighlyAvailable")
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=manifest)
    cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{name}", "--for=condition=Available",
                    "--timeout=900s", timeout=1000)
    create = time.monotonic() - started
    path = work / "ha.kubeconfig"
    path.write_text(cluster.kubectl("get", "secret", "-n", NAMESPACE, f"{name}-admin-kubeconfig",
                                    "-o", "go-template={{.data.kubeconfig | base64decode}}").stdout)
    reader = Reader(Client(config=KubeConfig.from_file(path), timeout=5), rate)
    wait_until(lambda: completed(cluster, name, binaries.TOOLSETS[OLDER].version.lstrip("v")), 300,
               "the first release Completed")
    reader.start()
    durations, failures = [], []
    for run in range(runs):
        toolset = (NEWER, OLDER)[run % 2]
        image, version = release(cluster, toolset), binaries.TOOLSETS[toolset].version.lstrip("v")
        if toolset == OLDER:  # going back is a downgrade: forced, as docs 6 say
            cluster.kubectl("annotate", "--overwrite", "hostedcluster", name, "-n", NAMESPACE,
                            f"hypershift.openshift.io/force-upgrade-to={image}")
        before = reader.failures
        started = time.monotonic()
        cluster.kubectl("patch", "hostedcluster", name, "-n", NAMESPACE, "--type=merge",
                        "-p", json.dumps({"spec": {"release": {"image": image}}}))
        durations.append(wait_until(lambda: completed(cluster, name, version), 1200, f"{version} Completed")
                         - started)
        failures.append(reader.failures - before)
    reader.stop.set()
    reader.join(10)
    cluster.kubectl("delete", "hostedcluster", name, "-n", NAMESPACE, "--wait=true", "--timeout=300s", timeout=400)
    return {"create_baseline_s": round(create, 2), "update_s": round(statistics.median(durations), 2),
            "update_ratio_to_create": round(statistics.median(durations) / create, 2),
            "failed_requests_median": statistics.median(failures), "failed_requests_total": sum(failures),
            "requests_total": reader.requests, "rate_per_s": rate,
            "samples": {"update_s": [round(d, 2) for d in durations], "failed_requests": failures}}


def setup(cluster: ManagementCluster, work: Path) -> Client:
    manifest = hosted_cluster_manifest(cluster, CLUSTER, NAMESPACE, release=release(cluster, NEWER))
    cluster.kubectl("apply", "-f", "-", input=manifest)
    cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{CLUSTER}", "--for=condition=Available",
                    "--timeout=600s", timeout=700)
    path = work / "hosted.kubeconfig"
    path.write_text(cluster.kubectl("get", "secret", "-n", NAMESPACE, f"{CLUSTER}-admin-kubeconfig",
                                    "-o", "go-template={{.data.kubeconfig | base64decode}}").stdout)
    return Client(config=KubeConfig.from_file(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--rate", type=float, default=20.0, help="hosted API reads a second during updates")
    parser.add_argument("--skip-control-plane", action="store_true")
    parser.add_argument("--skip-nodepools", action="store_true")
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-upgrade-"))
    cluster = ManagementCluster(NAME, options.state_dir or work / "state")
    try:
        if options.state_dir is None:
            cluster.mc("up", "--name", NAME)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        results: dict[str, dict] = {}
        older, newer = binaries.TOOLSETS[OLDER].version, binaries.TOOLSETS[NEWER].version
        if not options.skip_control_plane:
            cluster.kubectl("create", "namespace", NAMESPACE, check=False)
            results["ha_control_plane"] = control_plane_updates(cluster, work, options.runs, options.rate)
        hosted = setup(cluster, work) if not options.skip_nodepools else None
        for size in [] if options.skip_nodepools else options.sizes:
            figures: dict[str, list[float]] = {"create": []}
            create_pool(cluster, f"base-{size}", STRATEGIES["replace"], OLDER)
            for _ in range(options.runs):  # the baseline: N machines from nothing
                figures["create"].append(scale(cluster, hosted, f"base-{size}", size, older))
                scale(cluster, hosted, f"base-{size}", 0, older)
            delete_pool(cluster, f"base-{size}")
            for strategy, management in STRATEGIES.items():
                pool = f"{strategy}-{size}"
                create_pool(cluster, pool, management, OLDER)
                scale(cluster, hosted, pool, size, older)
                # Older -> newer, newer -> older, ...: every run is a full rollout.
                figures[strategy] = [roll(cluster, hosted, pool, (NEWER, OLDER)[run % 2], size)
                                     for run in range(options.runs)]
                scale(cluster, hosted, pool, 0, older)
                delete_pool(cluster, pool)
            baseline = statistics.median(figures["create"])
            results[f"{size}_machines"] = {
                "create_baseline_s": round(baseline, 2),
                **{f"{s}_rollout_s": round(statistics.median(figures[s]), 2) for s in STRATEGIES},
                **{f"{s}_ratio_to_create": round(statistics.median(figures[s]) / baseline, 2) for s in STRATEGIES},
                "samples_s": {k: [round(v, 2) for v in values] for k, values in figures.items()},
            }
        print(json.dumps({"benchmark": "upgrade", "platform": "KWOK", "runs": options.runs,
                          "from_to": [older, newer],
                          "strategies": STRATEGIES, **results}, indent=2))
    finally:
        cluster.kubectl("delete", "hostedcluster", CLUSTER, "-n", NAMESPACE, "--ignore-not-found", "--wait=true",
                        "--timeout=300s", check=False, timeout=400)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        if options.state_dir is None:
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
