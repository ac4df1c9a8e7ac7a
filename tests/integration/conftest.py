"""Integration tests start a real management cluster of their own: own name, state dir and subnet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hcp.management import network
from hcp.upstream import binaries, images
from hcp.management.layout import Layout
from tests.integration.apiserver import bare_apiserver  # noqa: F401  (a fixture, for every test here)

HCP = [sys.executable, "-m", "hcp.cli"]


@dataclass(frozen=True)
class ManagementCluster:
    name: str
    state_dir: Path

    def hcp(self, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run([*HCP, *args], capture_output=True, text=True, timeout=timeout)
        record_wait("hcp " + " ".join(args[:2]), started)
        if check and result.returncode != 0:
            raise AssertionError(f"hcp {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def mc(self, command: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.hcp("management-cluster", command, "--state-dir", str(self.state_dir), *args, **kwargs)

    def image(self, repository: str) -> str:
        config = Layout(self.state_dir).load_config()
        return images.image(repository).ref.on(config.registry)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
        command = [str(binaries.binary("kubernetes", "kubectl")),
                   "--kubeconfig", str(self.state_dir / "admin.kubeconfig"), *args]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, input=input, timeout=timeout)
        if args and args[0] in ("wait", "rollout", "delete"):
            record_wait("kubectl " + " ".join(a for a in args if not a.startswith("--timeout")), started)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result


WAIT_LOG = os.environ.get("HCP_TEST_WAIT_LOG", "")
"""If set, a file that each wait_for, kubectl wait/rollout/delete and hcp command appends a JSON line to
(test and phase, what, seconds): where the suite's time goes, for making it faster. Off by default."""


def record_wait(what: str, started: float) -> None:
    if WAIT_LOG:
        line = {"test": os.environ.get("PYTEST_CURRENT_TEST", ""), "what": what,
                "seconds": round(time.monotonic() - started, 1)}
        with open(WAIT_LOG, "a") as log:
            log.write(json.dumps(line) + "\n")


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        result = check()
        if result:
            record_wait(what, started)
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """End a server a test started on the host: SIGTERM, SIGKILL after `timeout` seconds, reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def leftovers(cluster: ManagementCluster) -> list[str]:
    """Everything of a cluster that must be gone after delete: namespace, processes, cgroups, mounts, dirs,
    subnet reservation. Only this cluster's: a pytest-xdist worker beside this one runs clusters of its own."""
    found = []
    netns = f"hcp-{cluster.name}"
    if Path("/run/netns", netns).exists():
        found.append(f"network namespace {netns}")
    if Path("/run/hcp", cluster.name).exists():
        found.append(f"run dir /run/hcp/{cluster.name}")
    if cluster.state_dir.exists():
        found.append(f"state dir {cluster.state_dir}")
    for controller in Path("/sys/fs/cgroup").iterdir():
        if (controller / f"hcp-{cluster.name}").exists():
            found.append(f"cgroup {controller / f'hcp-{cluster.name}'}")
    mounts = Path("/proc/self/mountinfo").read_text()
    if str(cluster.state_dir) in mounts:
        found.append("mounts under the state dir")
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        if str(cluster.state_dir) in line or f"/run/hcp/{cluster.name}/" in line:
            found.append(f"process {line[:120]}")
    for reservation in sorted(network.RESERVATIONS.glob("[0-9]*")):
        try:
            if reservation.read_text().strip() == str(cluster.state_dir):
                found.append(f"subnet reservation {reservation}")
        except FileNotFoundError:  # released meanwhile by another worker's cluster
            pass
    return found


INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
MIN_INOTIFY_INSTANCES = 512
"""Every kubelet, containerd and kube-apiserver holds inotify instances (a management node about 20, a hosted
kube-apiserver 6), counted per user across the host: with a management cluster per xdist worker, a second
one in some modules, real machines and HA control planes, the kernel's default of 128 is within reach,
and a component that cannot get one fails ("too many open files"). Raised, never lowered, like kind asks."""


def _enough_inotify_instances() -> None:
    try:
        if int(INOTIFY_INSTANCES.read_text()) < MIN_INOTIFY_INSTANCES:
            INOTIFY_INSTANCES.write_text(f"{MIN_INOTIFY_INSTANCES}\n")
    except OSError:  # not writable here (a container without it): the default may do
        pass


@contextmanager
def management_cluster_up(prefix: str, directory: Path) -> Iterator[ManagementCluster]:
    """A management cluster of its own (name `<prefix><random>`, state dir, subnet), deleted with all it made."""
    if os.geteuid() != 0:
        pytest.skip("the management cluster needs root")
    _enough_inotify_instances()
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    cluster = ManagementCluster(name, directory / "state")
    try:
        cluster.mc("up", "--name", name)
        yield cluster
    finally:
        cluster.mc("delete", check=False)
        left = leftovers(cluster)
        shutil.rmtree(cluster.state_dir, ignore_errors=True)
        assert not left, f"management cluster left behind: {left}"


@pytest.fixture(scope="session")
def management_cluster(tmp_path_factory) -> Iterator[ManagementCluster]:
    with management_cluster_up("it", tmp_path_factory.mktemp("mc")) as cluster:
        yield cluster


def one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """The CLI failed as it should on bad input: exit 1 and one `error:` line holding each fragment."""
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def operator_installed(management_cluster: ManagementCluster) -> ManagementCluster:
    """The management cluster with hcp's operator installed from the working tree (`hcp install`)."""
    management_cluster.hcp("install", "--state-dir", str(management_cluster.state_dir))
    return management_cluster


def remove_hosted_cluster(cluster: ManagementCluster, namespace: str, name: str, *extra_namespaces: str) -> None:
    """Delete a test's HostedCluster (waiting for its control plane to go), then its namespace and any others."""
    cluster.kubectl("delete", "-n", namespace, f"hostedcluster/{name}", "--ignore-not-found", "--wait=true",
                    "--timeout=300s", timeout=400)
    cluster.kubectl("delete", "namespace", namespace, *extra_namespaces, "--ignore-not-found", "--timeout=180s",
                    timeout=240)


def hosted_cluster_manifest(cluster: ManagementCluster, name: str, namespace: str = "clusters", *,
                            release: str | None = None, policy: str = "SingleReplica") -> str:
    """A HostedCluster with its Secrets, as a user would write it for the embedded cluster."""
    config = Layout(cluster.state_dir).load_config()
    release = release or f"{config.registry}/hcp/release:{binaries.TOOLSETS['kubernetes'].version}"
    services = "\n".join(
        f"    - service: {service}\n"
        f"      servicePublishingStrategy: {{type: NodePort, nodePort: {{address: {config.node_ip}}}}}"
        for service in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")
    )
    return f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {namespace}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}-pull-secret, namespace: {namespace}}}
type: kubernetes.io/dockerconfigjson
stringData: {{.dockerconfigjson: '{{"auths":{{}}}}'}}
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}-ssh-key, namespace: {namespace}}}
stringData: {{id_rsa.pub: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHcp test"}}
---
apiVersion: hypershift.openshift.io/v1beta1
kind: HostedCluster
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  release: {{image: {release}}}
  pullSecret: {{name: {name}-pull-secret}}
  sshKey: {{name: {name}-ssh-key}}
  controllerAvailabilityPolicy: {policy}
  platform: {{type: KWOK}}
  dns: {{baseDomain: hcp.test}}
  networking:
    clusterNetwork: [{{cidr: 10.132.0.0/14}}]
    serviceNetwork: [{{cidr: 172.31.0.0/16}}]
    networkType: Other
  services:
{services}
  etcd:
    managementType: Managed
    managed: {{storage: {{type: PersistentVolume, persistentVolume: {{size: 1Gi}}}}}}
"""
