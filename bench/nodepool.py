"""Benchmark of NodePools of simulated (KWOK) machines at the scale of one large hosted cluster; prints JSON.

On a fresh embedded management cluster with the operator installed and one
hosted cluster (or on an existing one with --state-dir):
- seconds from `kubectl scale nodepool --replicas=--nodes` (100) to that many
  Ready nodes in the hosted cluster, and from `--replicas=0` to none left
  (median of --runs);
- at --nodes nodes, after --settle seconds: memory (RSS, as kubelet's
  stats/summary reports it) of the hosted kube-apiserver, etcd, kwok,
  kube-controller-manager, kube-scheduler and the operator, and the NodePool
  controller's mean reconcile time over a window of --window seconds at that
  size (the baseline of this run);
- then --large nodes (1000): seconds from 0 to that many Ready nodes (one run),
  memory and reconcile time there; then a Deployment of --pods pods (10,000,
  pause containers that kwok runs on the simulated nodes, so no image is ever
  pulled): seconds from its creation to all of them Running, memory and
  reconcile time there, and the ratios of those reconcile times to the
  baseline's.
Reconcile times are the difference of controller_runtime_reconcile_time_seconds
_sum and _count of controller "nodepool" between two scrapes of the operator's
/metrics (through the API server's pod proxy); during a window the NodePool is
annotated every second, so that it has passes to time even when nothing else
happens at that size. The windows of the scale-up and of the pods' creation
are reported too.

Run as root from the repository: `.venv/bin/python bench/nodepool.py`.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lightkube import Client, KubeConfig  # noqa: E402
from lightkube.resources.apps_v1 import Deployment  # noqa: E402
from lightkube.resources.core_v1 import Node, Pod  # noqa: E402

import measure  # noqa: E402
from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest  # noqa: E402

NAME = "npbench"
NAMESPACE = "np-bench"
CLUSTER = "bench"
POOL = "bench-workers"
CONTROL_PLANE = f"{NAMESPACE}-{CLUSTER}"
APP = "bench-pause"
POOL_LABEL = "hypershift.openshift.io/nodePool"
POKE_ANNOTATION = "bench.hcp.io/poke"
COMPONENTS = {"kube_apiserver": f"{CONTROL_PLANE}/kube-apiserver-", "etcd": f"{CONTROL_PLANE}/etcd-",
              "kwok": f"{CONTROL_PLANE}/kwok-", "kube_controller_manager": f"{CONTROL_PLANE}/kube-controller-manager-",
              "kube_scheduler": f"{CONTROL_PLANE}/kube-scheduler-", "operator": "hypershift/operator-"}


def note(message: str) -> None:
    """Progress on stderr (the JSON goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def ready_nodes(hosted: Client) -> tuple[int, int]:
    """(Ready nodes, all nodes) of the pool."""
    nodes = list(hosted.list(Node, labels={POOL_LABEL: POOL}))
    ready = sum(1 for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or ()))
    return ready, len(nodes)


def scale(cluster: ManagementCluster, replicas: int) -> float:
    cluster.kubectl("scale", f"nodepool/{POOL}", "-n", NAMESPACE, f"--replicas={replicas}")
    return time.monotonic()


def scale_and_wait(cluster: ManagementCluster, hosted: Client, replicas: int, timeout: float = 1800) -> float:
    """Seconds from the scale to `replicas` Ready nodes (to none left for 0). Large pools are looked at less
    often: listing a thousand Nodes takes the benchmark's Python a while, on the machine being measured."""
    interval = 0.25 if replicas <= 200 else 2.0
    note(f"scaling to {replicas}")
    started = scale(cluster, replicas)
    if replicas:
        done = wait_until(lambda: ready_nodes(hosted)[0] >= replicas, timeout, f"{replicas} Ready nodes", interval)
    else:
        done = wait_until(lambda: ready_nodes(hosted)[1] == 0, timeout, "no nodes", interval)
    return done - started


def rss(cluster: ManagementCluster) -> dict[str, float]:
    """MiB of RSS of the measured components and of the whole control-plane namespace, from kubelet."""
    summary = measure.node_summary(cluster.kubectl)
    usage = {f"{p['podRef']['namespace']}/{p['podRef']['name']}": p.get("memory", {}).get("rssBytes", 0)
             for p in summary["pods"]}
    result = {f"{label}_rss_mib": round(next((v for k, v in usage.items() if k.startswith(prefix)), 0) / 2**20, 1)
              for label, prefix in COMPONENTS.items()}
    result["control_plane_namespace_rss_mib"] = round(
        sum(v for k, v in usage.items() if k.startswith(f"{CONTROL_PLANE}/")) / 2**20, 1)
    return result


class Reconciles:
    """Windows of the NodePool controller's reconciles, from the leading operator's metrics."""

    def __init__(self, cluster: ManagementCluster) -> None:
        self.cluster = cluster
        self.pod = measure.operator_pod(cluster.kubectl)

    def scrape(self) -> str:
        return measure.operator_metrics_text(self.cluster.kubectl, self.pod)

    def since(self, before: str) -> dict[str, Any]:
        """The nodepool controller's passes since the scrape `before`, and the operator's CPU seconds meanwhile."""
        after = self.scrape()
        cpu = [measure.prometheus_values(text).get("process_cpu_seconds_total") for text in (before, after)]
        return {**measure.reconcile_window(before, after, "nodepool"),
                "operator_cpu_s": round(cpu[1] - cpu[0], 1) if None not in cpu else None}

    def steady(self, seconds: float) -> dict[str, Any]:
        """Passes over `seconds` at the present size, the NodePool annotated every second to have some."""
        before = self.scrape()
        deadline = time.monotonic() + seconds
        poke = 0
        while time.monotonic() < deadline:
            poke += 1
            self.cluster.kubectl("annotate", "--overwrite", f"nodepool/{POOL}", "-n", NAMESPACE,
                                 f"{POKE_ANNOTATION}={poke}")
            time.sleep(1.0)
        return {**self.since(before), "window_s": seconds}


def at_size(cluster: ManagementCluster, reconciles: Reconciles, settle: float, window: float) -> dict[str, Any]:
    """Memory after `settle` seconds, then the reconciles of a `window`."""
    note(f"settling {settle:.0f}s, then memory and {window:.0f}s of reconciles")
    time.sleep(settle)
    return {"memory": rss(cluster), "reconcile": reconciles.steady(window)}


def pause_deployment(replicas: int) -> dict[str, Any]:
    """Pods that only kwok runs: on the pool's nodes (kwok's own taint tolerated, should a node carry it)."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": APP, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": APP}},
            "template": {
                "metadata": {"labels": {"app": APP}},
                "spec": {
                    "nodeSelector": {POOL_LABEL: POOL, "type": "kwok"},
                    "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
                },
            },
        },
    }


def pods_running(hosted: Client) -> tuple[int, int]:
    """(Running, of those Ready) pods of the Deployment, by a list."""
    pods = list(hosted.list(Pod, namespace="default", labels={"app": APP}, fields={"status.phase": "Running"},
                            chunk_size=1000))
    ready = sum(1 for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or ()))
    return len(pods), ready


def create_pods(hosted: Client, replicas: int, timeout: float = 3600) -> dict[str, Any]:
    """Seconds from creating the Deployment to `replicas` pods Running, with the times at which each tenth was
    ready (the Deployment's count, cheap to poll: kwok makes a pod Running and Ready in one status update).
    Running is the pods' phase, listed once all are created: a pod kube-controller-manager marked not Ready
    (its node's Lease looked stale for a moment) is Running still, and kwok does not make it Ready again."""
    note(f"creating {replicas} pods")
    started = time.monotonic()
    hosted.create(Deployment.from_dict(pause_deployment(replicas)))
    marks: dict[str, float] = {}

    def running() -> bool:
        status = hosted.get(Deployment, APP, namespace="default").status
        ready = (status.readyReplicas or 0) if status else 0
        for tenth in range(1, 11):
            mark = replicas * tenth // 10
            if ready >= mark and str(mark) not in marks:
                marks[str(mark)] = round(time.monotonic() - started, 1)
        if ready >= replicas:
            return True
        return bool(status and (status.replicas or 0) >= replicas and pods_running(hosted)[0] >= replicas)

    done = wait_until(running, timeout, f"{replicas} pods Running", 2.0)
    count, ready = pods_running(hosted)
    return {"seconds": round(done - started, 2), "running": count, "ready": ready, "ready_at_s": marks}


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value is not None and base else None


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
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10000, help="pods at --large nodes (0: none)")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds at a size before measuring memory")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of reconciles measured at a size")
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()

    signal.signal(signal.SIGTERM, _interrupted)  # `kill` cleans up too (a background job ignores SIGINT)
    work = Path(tempfile.mkdtemp(prefix="hcp-bench-np-"))
    cluster = ManagementCluster(NAME, options.state_dir or work / "state")
    try:
        if options.state_dir is None:
            cluster.mc("up", "--name", NAME)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        note("creating the hosted cluster")
        hosted = setup(cluster, work)
        reconciles = Reconciles(cluster)
        up, down, scaling = [], [], []
        for _ in range(options.runs):
            before = reconciles.scrape()
            up.append(scale_and_wait(cluster, hosted, options.nodes))
            scaling.append(reconciles.since(before))
            down.append(scale_and_wait(cluster, hosted, 0))
        small, large = f"{options.nodes}_nodes", f"{options.large}_nodes"
        pods = f"{large}_{options.pods}_pods"
        result: dict[str, Any] = {
            "benchmark": "nodepool",
            "platform": "KWOK",
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "runs": options.runs,
            f"scale_0_to_{options.nodes}_ready_s": round(statistics.median(up), 2),
            f"scale_{options.nodes}_to_0_gone_s": round(statistics.median(down), 2),
            "samples": {"up_s": [round(s, 2) for s in up], "down_s": [round(s, 2) for s in down]},
            "settle_s": options.settle,
            "window_s": options.window,
        }
        scale_and_wait(cluster, hosted, options.nodes)
        measured = {small: at_size(cluster, reconciles, options.settle, options.window)}
        scale_and_wait(cluster, hosted, 0)

        before = reconciles.scrape()
        result[f"scale_0_to_{options.large}_ready_s"] = round(scale_and_wait(cluster, hosted, options.large), 2)
        scale_up_reconciles = reconciles.since(before)
        measured[large] = at_size(cluster, reconciles, options.settle, options.window)
        if options.pods:
            before = reconciles.scrape()
            created = create_pods(hosted, options.pods)
            result[f"pods_0_to_{options.pods}_running_s"] = created["seconds"]
            result["pods"] = created
            pods_reconciles = reconciles.since(before)
            measured[pods] = at_size(cluster, reconciles, options.settle, options.window)
        result["memory"] = {size: values["memory"] for size, values in measured.items()}
        base = measured[small]["reconcile"]["mean_s"]
        result["nodepool_reconcile"] = {
            **{f"at_{size}": values["reconcile"] for size, values in measured.items()},
            f"scaling_0_to_{options.nodes}": scaling,
            f"scaling_0_to_{options.large}": scale_up_reconciles,
            **({f"creating_{options.pods}_pods": pods_reconciles} if options.pods else {}),
            f"ratio_{large}_to_{small}": ratio(measured[large]["reconcile"]["mean_s"], base),
            **({f"ratio_{pods}_to_{small}": ratio(measured[pods]["reconcile"]["mean_s"], base)}
               if options.pods else {}),
        }
        print(json.dumps(result, indent=2), flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the cleanup short
        note("deleting the hosted cluster")
        cluster.kubectl("delete", "hostedcluster", CLUSTER, "-n", NAMESPACE, "--ignore-not-found", "--wait=true",
                        "--timeout=600s", check=False, timeout=700)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        if options.state_dir is None:
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
