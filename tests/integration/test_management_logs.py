"""Each management cluster keeps its pods' logs in its own state dir; a second cluster on the host never touches them.

kubelet garbage-collects every pod log directory under its podLogsDir whose
pod it does not know, once a minute. Two nodes sharing the host's
/var/log/pods would delete each other's logs; with each node's logs in its
own state dir, a second cluster can come, run pods and go while `kubectl
logs` on the first keeps answering.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import ManagementCluster, leftovers

pytestmark = pytest.mark.integration

KUBELET_GC_PERIOD = 60.0
"""kubelet's container (and pod log) garbage collection period; the second node lives through one."""


def _run_logging_pod(cluster: ManagementCluster, namespace: str, line: str) -> Path:
    """A pod that prints `line`; returns its log directory as kubelet named it."""
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: talker, namespace: {namespace}}}
spec:
  terminationGracePeriodSeconds: 1  # sleep ignores SIGTERM; cleanup need not wait 30 s
  containers:
    - name: main
      image: {cluster.image("hcp/busybox")}
      command: [sh, -c, "echo {line}; sleep 3600"]
""")
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/talker", "--timeout=180s", timeout=400)
    uid = cluster.kubectl("get", "pod", "talker", "-n", namespace, "-o", "jsonpath={.metadata.uid}").stdout
    return cluster.state_dir / "pod-logs" / f"{namespace}_talker_{uid}"


def _assert_logs_are_the_clusters_own(cluster: ManagementCluster, log_dir: Path, line: str) -> None:
    log_file = log_dir / "main" / "0.log"
    deadline = time.monotonic() + 30
    while not (log_file.exists() and line in log_file.read_text()):
        assert time.monotonic() < deadline, f"{line!r} not in {log_file}"
        time.sleep(1)
    assert not (Path("/var/log/pods") / log_dir.name).exists()
    namespace, pod = log_dir.name.split("_")[:2]
    prefix = f"{pod}_{namespace}_main-"
    links = [p for p in (cluster.state_dir / "container-logs").iterdir() if p.name.startswith(prefix)]
    assert [link.resolve() for link in links] == [log_file.resolve()]
    host_links = Path("/var/log/containers")
    assert not (host_links.is_dir() and any(p.name.startswith(f"{pod}_{namespace}_") for p in host_links.iterdir()))
    assert line in cluster.kubectl("logs", "-n", namespace, pod).stdout


def test_kubelet_takes_every_config_field(management_cluster):
    kubelet_log = (management_cluster.state_dir / "logs" / "kubelet.log").read_text()
    assert "strict decoding" not in kubelet_log and "unknown field" not in kubelet_log


def test_a_second_cluster_coming_and_going_leaves_the_first_clusters_pod_logs_alone(management_cluster,
                                                                                  tmp_path_factory):
    first_line = f"first-{uuid.uuid4().hex[:8]}"
    first_logs = _run_logging_pod(management_cluster, "pod-logs", first_line)
    try:
        _assert_logs_are_the_clusters_own(management_cluster, first_logs, first_line)

        second = ManagementCluster(f"it{uuid.uuid4().hex[:6]}", tmp_path_factory.mktemp("mc-logs") / "state")
        try:
            second.mc("up", "--name", second.name)
            up_at = time.monotonic()
            second_line = f"second-{uuid.uuid4().hex[:8]}"
            second_logs = _run_logging_pod(second, "pod-logs", second_line)
            _assert_logs_are_the_clusters_own(second, second_logs, second_line)
            assert not (management_cluster.state_dir / "pod-logs" / second_logs.name).exists()
            # short-lived pods until both kubelets have run their log GC with the other's pods on the host
            second.kubectl("apply", "-f", "-", input=f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: short-lived, namespace: pod-logs}}
spec:
  completions: 6
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: main, image: {second.image("hcp/busybox")}, command: [sh, -c, "echo done"]}}]
""")
            second.kubectl("wait", "-n", "pod-logs", "--for=condition=Complete", "job/short-lived",
                           "--timeout=240s", timeout=400)
            time.sleep(max(0.0, up_at + KUBELET_GC_PERIOD + 10 - time.monotonic()))
            assert second_line in second.kubectl("logs", "-n", "pod-logs", "talker").stdout

            deleted = second.mc("delete", check=False)
            assert deleted.returncode == 0 and "Traceback" not in deleted.stderr, deleted.stderr
        finally:
            second.mc("delete", check=False)
            left = leftovers(second)
            shutil.rmtree(second.state_dir, ignore_errors=True)
        assert not left, f"second management cluster left behind: {left}"

        assert first_line in management_cluster.kubectl("logs", "-n", "pod-logs", "talker").stdout
        assert (first_logs / "main" / "0.log").exists()
    finally:
        management_cluster.kubectl("delete", "namespace", "pod-logs", "--wait=true", "--timeout=120s", check=False)
