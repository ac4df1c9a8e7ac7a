"""`hcp migrate cluster` between two embedded management clusters on this machine (issue 9, requirement 7).

The session's management cluster is the source; a second one (its own name, state dir and
subnet) is the target. A KWOK hosted cluster with 2 nodes is migrated while a writer creates
ConfigMaps through its API: every write the writer saw acknowledged is on the target, the
nodes are Ready there, the source has nothing of the cluster left, and the command reports the
window without a hosted API. Bad input (an unknown cluster, a target without the operator) is
one error line and changes nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, management_cluster_up, one_error_line

pytestmark = pytest.mark.integration

NAMESPACE, NAME = "mig", "moving"


@pytest.fixture(scope="module")
def target(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[ManagementCluster]:
    """A second management cluster (its own name, state dir and subnet), without the operator at first."""
    with management_cluster_up("mt", tmp_path_factory.mktemp("target")) as cluster:
        yield cluster


def _flags(cluster: ManagementCluster) -> list[str]:
    return ["--state-dir", str(cluster.state_dir), "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig")]


def hcp(cluster: ManagementCluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return cluster.hcp(*args, *_flags(cluster), check=check)


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig),
                             "--request-timeout=5s", *args], capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result


class Writer(threading.Thread):
    """Creates ConfigMaps one after another; remembers those the API acknowledged."""

    def __init__(self, kubeconfig: Path):
        super().__init__(daemon=True)
        self.kubeconfig, self.acknowledged, self.failed = kubeconfig, [], 0
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"w-{n:05d}"
            if kubectl(self.kubeconfig, "create", "configmap", name, check=False).returncode == 0:
                self.acknowledged.append(name)
            else:
                self.failed += 1
            self.stop.wait(0.1)


def test_a_migration_keeps_every_acknowledged_write_and_brings_the_nodes_to_the_target(
        operator_installed, target, tmp_path):
    source = operator_installed
    target_kubeconfig = str(target.state_dir / "admin.kubeconfig")
    hcp(source, "create", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE, "--node-pool-replicas", "2",
        "--etcd-storage-size", "1Gi", "--generate-ssh", "--wait", "--timeout", "15m")
    try:
        # Bad input first: nothing changes on either side.
        one_error_line(hcp(source, "migrate", "cluster", "--name", "nosuch", "--namespace", NAMESPACE,
                            "--to-kubeconfig", target_kubeconfig, check=False), f"{NAMESPACE}/nosuch not found")
        one_error_line(hcp(source, "migrate", "cluster", "--name", NAME, "--namespace", NAMESPACE,
                            "--to-kubeconfig", target_kubeconfig, check=False), "no hcp operator", "hcp install")
        assert "pausedUntil" not in json.loads(source.kubectl("get", "hostedcluster", NAME, "-n", NAMESPACE,
                                                              "-o", "json").stdout)["spec"]
        hcp(target, "install")

        kubeconfig = tmp_path / "source.kubeconfig"
        kubeconfig.write_text(hcp(source, "create", "kubeconfig", "--namespace", NAMESPACE, "--name", NAME).stdout)
        writer = Writer(kubeconfig)
        writer.start()
        try:
            moved = hcp(source, "migrate", "cluster", "--name", NAME, "--namespace", NAMESPACE,
                        "--to-kubeconfig", target_kubeconfig, "--timeout", "15m")
        finally:
            writer.stop.set()
            writer.join(timeout=30)
        for step in range(1, 6):
            assert f"step {step}/5" in moved.stderr
        window = re.search(r"unavailable for ([0-9.]+)s", moved.stdout)
        assert window and float(window.group(1)) > 0, moved.stdout
        assert ", 2 node(s)" in moved.stdout
        assert len(writer.acknowledged) >= 5, "the writer wrote too little before the migration stopped the API"
        assert writer.failed > 0, "the writer never saw the API down"

        moved_kubeconfig = tmp_path / "target.kubeconfig"
        moved_kubeconfig.write_text(hcp(target, "create", "kubeconfig", "--namespace", NAMESPACE,
                                        "--name", NAME).stdout)
        names = set(kubectl(moved_kubeconfig, "get", "configmaps", "-o",
                            "jsonpath={.items[*].metadata.name}").stdout.split())
        lost = [name for name in writer.acknowledged if name not in names]
        assert not lost, f"{len(lost)} acknowledged writes lost: {lost[:5]}"
        nodes = json.loads(kubectl(moved_kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]
        ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in n["status"].get("conditions", []))]
        assert len(ready) == 2, [n["metadata"]["name"] for n in nodes]
        kubectl(moved_kubeconfig, "create", "configmap", "after-migration")  # the target takes writes

        assert not source.kubectl("get", "hostedcluster", NAME, "-n", NAMESPACE, "--ignore-not-found",
                                  "-o", "name").stdout.strip()
        assert not source.kubectl("get", "namespace", f"{NAMESPACE}-{NAME}", "--ignore-not-found",
                                  "-o", "name").stdout.strip()
        cluster = json.loads(target.kubectl("get", "hostedcluster", NAME, "-n", NAMESPACE, "-o", "json").stdout)
        assert "pausedUntil" not in cluster["spec"]
    finally:
        hcp(source, "destroy", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE, check=False)
        hcp(target, "destroy", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE, check=False)
