"""Benchmark of real nodes (platform Container: machines as pods); prints JSON.

On a fresh embedded management cluster with the operator installed, one
hosted cluster of platform KWOK (the baseline), then one of platform Container,
each with a NodePool of one machine, median of --runs, each run:
- seconds from `kubectl scale nodepool --replicas=2` to the new Node Ready in
  the hosted cluster;
- seconds from `kubectl apply` of a Deployment of --replicas busybox web
  servers (hcp/busybox from the management registry, spread over the two
  nodes) to that many pods Running on the pool's nodes: once right after the
  scale-up (the new machine pulls the image) and once more after deleting it
  (every node has the image);
- then the Deployment is deleted and the pool scaled back to one machine (not
  after the last run).
The KWOK cluster is measured first and destroyed before the Container one is
created: the same steps with simulated machines are the floor of the control
plane's part (NodePool controller, scheduler, kube-controller-manager), and
the ratios of the Container numbers to it are reported.

After the runs, with the Container pool at two machines idle for --idle
seconds: the RSS of each machine, the sum over every process whose cgroup is
in the machine pod's (found from the host's /proc by the pod's UID: the
machine's containerd, kubelet, shims and the hosted pods on it), against the
baseline of the management node's own kubelet + containerd (the host
processes of hcp.management.supervisor, by the pids in its status file).

Run as root from the repository: `.venv/bin/python bench/nodes.py`.
"""

from __future__ import annotations

import argparse
import glob
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

import httpx  # noqa: E402
from lightkube import ApiError, Client, KubeConfig  # noqa: E402
from lightkube.operators import exists  # noqa: E402
from lightkube.resources.core_v1 import Node, Pod  # noqa: E402

from management_cluster import rss_kib  # noqa: E402
from polling import wait_until  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from hcp.management.layout import Layout  # noqa: E402
from tests.integration.conftest import ManagementCluster  # noqa: E402

NAME = "nodebench"
NAMESPACE = "nodes-bench"
CLUSTER = "nodes"
"""The hosted cluster of platform Container; its default NodePool has its name."""
BASELINE = "kwokbase"
"""The hosted cluster of platform KWOK measured as the floor."""
POOL_LABEL = "hypershift.openshift.io/nodePool"
MACHINE_LABEL = "hcp.io/machine"
APP = "bench-web"
BASE_MACHINES = 1

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {app}, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
          labelSelector: {{matchLabels: {{app: {app}}}}}}}
      containers:
      - name: web
        image: {image}
        command: [sh, -c, 'exec httpd -f -p 8080 -h /']
        ports: [{{containerPort: 8080}}]
"""


class Hosted:
    """One hosted cluster: kubectl with its admin kubeconfig, and a client for the polls (cheaper than kubectl)."""

    def __init__(self, cluster: ManagementCluster, name: str, work: Path) -> None:
        self.name = name
        self.kubeconfig = work / f"{name}.kubeconfig"
        self.kubeconfig.write_text(cluster.hcp("create", "kubeconfig", "--name", name, "--namespace", NAMESPACE,
                                               "--state-dir", str(cluster.state_dir)).stdout)
        self.kubeconfig.chmod(0o600)
        self.client = Client(config=KubeConfig.from_file(self.kubeconfig))

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(self.kubeconfig), *args]
        result = subprocess.run(command, capture_output=True, text=True, input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise SystemExit(f"hosted kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result


def listed(client: Client, kind: type, **kwargs: Any) -> list[Any] | None:
    """The objects, or None when the API did not answer this time (a poll tries again)."""
    try:
        return list(client.list(kind, **kwargs))
    except (ApiError, httpx.HTTPError):
        return None


def _ready(node: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or ())


def pool_nodes(hosted: Hosted) -> tuple[set[str], int] | None:
    """(names of the pool's Ready, schedulable nodes, number of all its nodes)."""
    nodes = listed(hosted.client, Node, labels={POOL_LABEL: hosted.name})
    if nodes is None:
        return None
    ready = {n.metadata.name for n in nodes if _ready(n) and not n.spec.unschedulable}
    return ready, len(nodes)


def ready_count(hosted: Hosted) -> int:
    nodes = pool_nodes(hosted)
    return len(nodes[0]) if nodes else 0


def machine_pods(management: Client, pool: str) -> list[Any] | None:
    """The pool's machine pods (platform Container) in the control-plane namespace."""
    return listed(management, Pod, namespace=f"{NAMESPACE}-{pool}", labels={POOL_LABEL: pool, MACHINE_LABEL: exists()})


def scale(cluster: ManagementCluster, pool: str, replicas: int) -> float:
    cluster.kubectl("scale", f"nodepool/{pool}", "-n", NAMESPACE, f"--replicas={replicas}")
    return time.monotonic()


def scale_up(cluster: ManagementCluster, hosted: Hosted, replicas: int, timeout: float = 900) -> float:
    """Seconds from the scale to `replicas` Ready nodes of the pool."""
    started = scale(cluster, hosted.name, replicas)
    done = wait_until(lambda: ready_count(hosted) >= replicas, timeout, f"{replicas} Ready nodes")
    return done - started


def scale_down(cluster: ManagementCluster, management: Client, hosted: Hosted, replicas: int,
               timeout: float = 600) -> None:
    """Back to `replicas` nodes, and (platform Container) that many machine pods."""
    scale(cluster, hosted.name, replicas)

    def done() -> bool:
        nodes, pods = pool_nodes(hosted), machine_pods(management, hosted.name)
        return nodes is not None and nodes[1] == replicas and pods is not None and len(pods) <= replicas

    wait_until(done, timeout, f"{replicas} nodes left")


def app_pods(hosted: Hosted) -> list[Any] | None:
    return listed(hosted.client, Pod, namespace="default", labels={"app": APP})


def running_pods(hosted: Hosted, nodes: set[str]) -> int:
    return sum(1 for p in app_pods(hosted) or () if p.status.phase == "Running" and not p.metadata.deletionTimestamp
               and p.spec.nodeName in nodes)


def deployment(hosted: Hosted, image: str, replicas: int, timeout: float = 600) -> float:
    """Seconds from applying the Deployment to `replicas` pods Running on the pool's Ready nodes."""
    nodes = (pool_nodes(hosted) or (set(), 0))[0]
    manifest = DEPLOYMENT.format(app=APP, replicas=replicas, image=image)
    hosted.kubectl("apply", "-f", "-", input=manifest)
    started = time.monotonic()
    done = wait_until(lambda: running_pods(hosted, nodes) >= replicas, timeout, f"{replicas} pods Running")
    return done - started


def delete_deployment(hosted: Hosted, timeout: float = 300) -> None:
    hosted.kubectl("delete", "deployment", APP, "-n", "default", "--ignore-not-found", "--wait=true", timeout=timeout)
    wait_until(lambda: app_pods(hosted) == [], timeout, "the pods gone")


def settle(hosted: Hosted) -> None:
    """Wait for the hosted components (CNI, kube-proxy, CoreDNS, ...) to be Ready before measuring."""
    result = hosted.kubectl("wait", "pods", "--all", "--all-namespaces", "--for=condition=Ready", "--timeout=300s",
                            check=False, timeout=330)
    if result.returncode != 0:
        print(f"note: not every hosted pod of {hosted.name} is Ready: {result.stderr.strip()}", file=sys.stderr)


def measure(cluster: ManagementCluster, management: Client, hosted: Hosted, image: str, runs: int,
            replicas: int) -> dict[str, list]:
    """The runs on one hosted cluster whose pool has BASE_MACHINES Ready nodes; the pool ends at one more."""
    samples: dict[str, list] = {"scale_up_s": [], "deploy_new_node_s": [], "deploy_s": []}
    for run in range(runs):
        samples["scale_up_s"].append(scale_up(cluster, hosted, BASE_MACHINES + 1))
        samples["deploy_new_node_s"].append(deployment(hosted, image, replicas))
        delete_deployment(hosted)
        samples["deploy_s"].append(deployment(hosted, image, replicas))
        delete_deployment(hosted)
        if run < runs - 1:
            scale_down(cluster, management, hosted, BASE_MACHINES)
    return {key: [round(s, 2) for s in values] for key, values in samples.items()}


def create_cluster(cluster: ManagementCluster, platform: str, name: str, work: Path) -> Hosted:
    cluster.hcp("create", "cluster", platform, "--name", name, "--namespace", NAMESPACE,
                "--node-pool-replicas", str(BASE_MACHINES), "--wait", "--timeout", "15m",
                "--state-dir", str(cluster.state_dir), timeout=1200)
    hosted = Hosted(cluster, name, work)
    wait_until(lambda: ready_count(hosted) >= BASE_MACHINES, 600, f"{BASE_MACHINES} Ready nodes of {name}")
    settle(hosted)
    return hosted


def destroy_cluster(cluster: ManagementCluster, platform: str, name: str, check: bool = True) -> None:
    cluster.hcp("destroy", "cluster", platform, "--name", name, "--namespace", NAMESPACE,
                "--state-dir", str(cluster.state_dir), check=check, timeout=900)


# Memory.

def pod_pids(uid: str, cgroup_root: str) -> list[int]:
    """Host pids of every process in the cgroup of pod `uid` (cgroupfs or systemd naming) of this management node."""
    marks = (f"pod{uid}", f"pod{uid.replace('-', '_')}")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            lines = (entry / "cgroup").read_text().splitlines()
        except OSError:
            continue  # exited meanwhile
        if any(cgroup_root + "/" in line and any(mark in line for mark in marks) for line in lines):
            pids.append(int(entry.name))
    return pids


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def cgroup_rss_mib(uid: str, cgroup_root: str) -> float | None:
    """What the kernel charges the pod's memory cgroup as RSS (total_rss of v1, anon of v2), for comparison."""
    for pattern, key in ((f"/sys/fs/cgroup/memory{cgroup_root}/**/pod{uid}", "total_rss"),
                         (f"/sys/fs/cgroup/unified{cgroup_root}/**/pod{uid}", "anon"),
                         (f"/sys/fs/cgroup{cgroup_root}/**/pod{uid}", "anon")):
        for directory in glob.glob(pattern, recursive=True):
            try:
                stat = dict(line.split() for line in Path(directory, "memory.stat").read_text().splitlines())
            except (OSError, ValueError):
                continue
            if key in stat:
                return round(int(stat[key]) / 2**20, 1)
    return None


def machine_memory(pod: Any, hosted: Hosted, cgroup_root: str) -> dict[str, Any]:
    """RSS of one machine pod: the sum over its processes, by command name, and the hosted pods on it."""
    uid = pod.metadata.uid
    by_command: dict[str, int] = {}
    pids = pod_pids(uid, cgroup_root)
    for pid in pids:
        kib = rss_kib(pid)
        if kib:
            by_command[comm(pid)] = by_command.get(comm(pid), 0) + kib
    on_node = listed(hosted.client, Pod, namespace="*", fields={"spec.nodeName": pod.metadata.name}) or []
    hosted_pods = sorted(f"{p.metadata.namespace}/{p.metadata.name}" for p in on_node)
    return {
        "rss_mib": round(sum(by_command.values()) / 1024, 1),
        "kubelet_containerd_rss_mib": round((by_command.get("kubelet", 0) + by_command.get("containerd", 0)) / 1024, 1),
        "cgroup_rss_mib": cgroup_rss_mib(uid, cgroup_root),
        "processes": len(pids),
        "rss_mib_by_command": {c: round(k / 1024, 1) for c, k in sorted(by_command.items(), key=lambda i: -i[1])},
        "hosted_pods": hosted_pods,
    }


def management_baseline(cluster: ManagementCluster) -> dict[str, float | None]:
    """RSS of the management node's kubelet and containerd, by the supervisor's status file."""
    layout = Layout(cluster.state_dir)
    components = json.loads(layout.status_file(layout.load_config()).read_text())["components"]
    found: dict[str, float | None] = {}
    for name in ("kubelet", "containerd"):
        pid = components.get(name, {}).get("pid")
        kib = rss_kib(pid) if pid else None
        found[f"{name}_rss_mib"] = round(kib / 1024, 1) if kib else None
    found["total_rss_mib"] = round(sum(v for v in found.values() if v), 1)
    return found


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=4, help="pods of the Deployment")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds the two machines idle before measuring RSS")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-nodes-"))
    cluster = ManagementCluster(NAME, work / "state")
    try:
        cluster.mc("up", "--name", NAME)
        cluster.hcp("install", "--state-dir", str(cluster.state_dir))
        image = cluster.image("hcp/busybox")
        cgroup_root = Layout(cluster.state_dir).load_config().cgroup_root
        management = Client(config=KubeConfig.from_file(cluster.state_dir / "admin.kubeconfig"))

        kwok = create_cluster(cluster, "kwok", BASELINE, work)
        floor = measure(cluster, management, kwok, image, options.runs, options.replicas)
        destroy_cluster(cluster, "kwok", BASELINE)

        hosted = create_cluster(cluster, "container", CLUSTER, work)
        samples = measure(cluster, management, hosted, image, options.runs, options.replicas)

        time.sleep(options.idle)
        machines = {pod.metadata.name: machine_memory(pod, hosted, cgroup_root)
                    for pod in machine_pods(management, CLUSTER) or ()}
        baseline = management_baseline(cluster)
        # The machine with the fewest hosted pods: a worker with only the node agents (DaemonSets) on it.
        idle = min(machines, key=lambda m: (len(machines[m]["hosted_pods"]), m)) if machines else None

        result: dict[str, Any] = {
            "benchmark": "nodes",
            "platform": "Container",
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "runs": options.runs,
            "replicas": options.replicas,
            "scale_up_to_node_ready_s": median(samples["scale_up_s"]),
            "deployment_apply_to_running_s": median(samples["deploy_s"]),
            "deployment_apply_to_running_new_node_pulls_s": median(samples["deploy_new_node_s"]),
            "baseline_kwok": {
                "scale_up_to_node_ready_s": median(floor["scale_up_s"]),
                "deployment_apply_to_running_s": median(floor["deploy_s"]),
                "deployment_apply_to_running_after_scale_up_s": median(floor["deploy_new_node_s"]),
            },
            "samples": {"container": samples, "kwok": floor},
            "idle_after_s": options.idle,
            "idle_node": idle,
            "idle_node_rss_mib": machines[idle]["rss_mib"] if idle else None,
            "machines": machines,
            "baseline_management_node": baseline,
        }
        kwok_floor = result["baseline_kwok"]
        result["ratio_scale_up_to_kwok"] = ratio(result["scale_up_to_node_ready_s"],
                                                 kwok_floor["scale_up_to_node_ready_s"])
        result["ratio_deployment_to_kwok"] = ratio(result["deployment_apply_to_running_s"],
                                                   kwok_floor["deployment_apply_to_running_s"])
        result["ratio_node_rss_to_management_kubelet_containerd"] = ratio(result["idle_node_rss_mib"],
                                                                          baseline["total_rss_mib"])
        result["ratio_node_kubelet_containerd_to_management_kubelet_containerd"] = ratio(
            machines[idle]["kubelet_containerd_rss_mib"] if idle else None, baseline["total_rss_mib"])
        print(json.dumps(result, indent=2))
    finally:
        for platform, name in (("container", CLUSTER), ("kwok", BASELINE)):
            try:
                destroy_cluster(cluster, platform, name, check=False)
            except subprocess.TimeoutExpired:
                print(f"note: destroying hosted cluster {name} timed out; the management cluster goes anyway",
                      file=sys.stderr)
        try:
            cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        except (subprocess.TimeoutExpired, OSError):
            pass
        cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
