"""Benchmark: seconds from changing a mounted Secret to the new file in a running pod; prints JSON.

Two pods mount the same Secret in one namespace labelled as a hosted control
plane's: one is labelled as a control-plane component, so the operator's
hcp.kube.refresh marks it (annotation hcp.io/mounted-content) when the Secret
changes; the other is not, and waits for the kubelet's periodic resync. Each
run changes the Secret once and times both pods until `cat` shows the new
value: the baseline and hcp's path in the same run, on the same kubelet.
Medians of --runs, and their ratio.

On a fresh embedded management cluster with the operator installed (or an
existing one with --state-dir). Run as root from the repository:
`.venv/bin/python bench/mounted_files.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cluster import management_cluster  # noqa: E402
from polling import wait_until  # noqa: E402

from hcp.api.names import HOSTED_CONTROL_PLANE_LABEL  # noqa: E402
from hcp.controlplane.components.component import COMPONENT_LABEL  # noqa: E402
from tests.integration.conftest import ManagementCluster  # noqa: E402

NAME = "hcpmounts"
NAMESPACE = "hcp-bench-mounts"
SECRET = "watched"
PODS = {"refreshed": {COMPONENT_LABEL: "bench"}, "baseline": {}}
"""Pod name -> extra labels: the component label is what makes the operator refresh a pod."""
LIMIT_S = 300


def pod(name: str, labels: dict[str, str], image: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name, **labels}},
            "spec": {"automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
                     "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                         "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "c", "image": image, "command": ["sleep", "86400"],
                                     "securityContext": {"allowPrivilegeEscalation": False,
                                                         "capabilities": {"drop": ["ALL"]}},
                                     "volumeMounts": [{"name": "s", "mountPath": "/s"}]}],
                     "volumes": [{"name": "s", "secret": {"secretName": SECRET}}]}}


def secret(value: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "hcp"}},
            "stringData": {"value": value}}


def one_run(cluster: ManagementCluster, value: str) -> dict[str, float]:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(secret(value)))
    changed = time.monotonic()

    def seen(name: str) -> float:
        def has_it() -> bool:
            return cluster.kubectl("exec", "-n", NAMESPACE, name, "--", "cat", "/s/value",
                                   check=False).stdout == value
        return round(wait_until(has_it, LIMIT_S, f"{name} to see {value}") - changed, 2)

    with ThreadPoolExecutor(len(PODS)) as pool:
        return dict(zip(PODS, pool.map(seen, PODS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--state-dir", type=Path, help="use this running management cluster (operator installed)")
    options = parser.parse_args()

    with management_cluster(NAME, options.state_dir) as (cluster, _):
        image = cluster.image("hcp/busybox")
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=300)
        cluster.kubectl("create", "namespace", NAMESPACE)
        cluster.kubectl("label", "namespace", NAMESPACE, f"{HOSTED_CONTROL_PLANE_LABEL}=true")
        try:
            cluster.kubectl("apply", "-f", "-", input=json.dumps(secret("0")))
            for name, labels in PODS.items():
                cluster.kubectl("apply", "-f", "-", input=json.dumps(pod(name, labels, image)))
            cluster.kubectl("wait", "-n", NAMESPACE, "pod", "--all", "--for=condition=Ready", "--timeout=180s",
                            timeout=240)
            time.sleep(5)  # past the operator's first mark of the new pod
            samples = [one_run(cluster, str(run)) for run in range(1, options.runs + 1)]
        finally:
            cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
    medians = {name: statistics.median(sample[name] for sample in samples) for name in PODS}
    print(json.dumps({
        "benchmark": "mounted_files",
        "runs": options.runs,
        "secret_change_to_file_in_pod_s": {"with_hcp_refresh": medians["refreshed"],
                                           "baseline_kubelet_resync": medians["baseline"]},
        "ratio_baseline_to_refresh": round(medians["baseline"] / max(medians["refreshed"], 0.01), 1),
        "samples": samples,
    }, indent=1))


if __name__ == "__main__":
    main()
