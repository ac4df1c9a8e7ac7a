"""Keeps a management node's host processes running after the CLI has exited.

Runs inside the node's network and mount namespaces (see `launch`). Starts the
processes in order, each once the one before it is healthy; restarts a process
that exits, with backoff; writes what it sees to a status file the CLI reads;
on SIGTERM stops everything in reverse order, including the pods' containers,
so nothing of the node keeps running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from hcp.backup import objectstore
from hcp.management import cgroups
from hcp.upstream import binaries
from hcp.management.host_processes import Binaries, HealthCheck, HostProcess, processes
from hcp.management.layout import ClusterConfig, Layout

log = logging.getLogger("hcp.supervisor")

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
MAX_BACKOFF = 30.0
HEALTH_EVERY = 3
"""Health is probed every this many one-second passes; exits are noticed every pass."""

MOUNT_SETUP = """set -e
mkdir -p "$1"
mount --rbind /sys/fs/cgroup "$1"
umount -l /sys
mount -t sysfs sysfs /sys
mount --move "$1" /sys/fs/cgroup
rmdir "$1" || true
mkdir -p "$2" /var/log/containers
mount --bind "$2" /var/log/containers
shift 2
exec "$@"
"""
"""Runs as `sh -c MOUNT_SETUP hcp-node <cgroup staging dir> <container log links dir> <command...>`.

The staging dir is only a mount's stepping stone; if it cannot be removed at
once it is left for `down` (which removes the run dir) rather than failing the
node. kubelet keeps a symlink per container in the fixed /var/log/containers;
binding the node's own directory there keeps two nodes' links apart and lets
them go with the state dir instead of dangling on the host.
"""


def launch(layout: Layout, config: ClusterConfig) -> int:
    """Start the supervisor detached, inside the node's namespaces; returns its pid.

    The mount namespace is private to the node, so every mount kubelet and
    containerd make vanishes with it. /sys is remounted so it shows the node's
    network devices, with the host's cgroup hierarchies carried over, and the
    node's own container log links are bound over /var/log/containers.
    """
    layout.logs_dir.mkdir(parents=True, exist_ok=True)
    run_dir = layout.run_dir(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.log("supervisor"), "ab") as out:
        child = subprocess.Popen(
            [
                "nsenter", f"--net=/run/netns/{config.netns}", "--",
                "unshare", "--mount", "--propagation", "slave", "--",
                "sh", "-c", MOUNT_SETUP, "hcp-node", str(run_dir / "cgroup-move"), str(layout.container_logs),
                sys.executable, "-m", "hcp.management.supervisor", str(layout.state_dir),
            ],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return child.pid


def resolve_binaries(config: ClusterConfig) -> Binaries:
    """The binaries `up` ensured; the supervisor never builds."""
    def directory(toolset: str) -> Path:
        found = binaries.cached(toolset)
        if found is None:
            raise binaries.BuildError(f"{toolset} binaries are missing from the cache")
        return found

    return Binaries(
        kubernetes=directory("kubernetes"),
        etcd=directory("etcd"),
        registry=directory("registry"),
        containerd=binaries.host_binary("containerd", "containerd"),
        pause_image=f"{config.registry}/hcp/pause:{binaries.TOOLSETS['kubernetes'].version}",
        versitygw=directory(objectstore.TOOLSET),
        kube_router=directory("kube-router"),
    )


class HealthProbe:
    """Checks one process's health, reusing its HTTP connection: probes run every few seconds for days."""

    def __init__(self, check: HealthCheck):
        self.check = check
        verify: bool | str = False if check.insecure else (str(check.ca_file) if check.ca_file else True)
        self._client = httpx.Client(verify=verify, timeout=2.0) if check.url else None

    def __call__(self) -> bool:
        if self._client is None:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(2)
                try:
                    probe.connect(str(self.check.socket))
                    return True
                except OSError:
                    return False
        try:
            return self._client.get(self.check.url).status_code == 200
        except httpx.HTTPError:
            return False


@dataclass
class Running:
    spec: HostProcess
    log_file: IO[bytes]
    probe: HealthProbe
    process: subprocess.Popen | None = None
    restarts: int = 0
    last_exit: int | None = None
    next_start: float = 0.0
    healthy: bool = False


class Supervisor:
    def __init__(self, layout: Layout, config: ClusterConfig, specs: list[HostProcess]):
        self.layout, self.config = layout, config
        layout.logs_dir.mkdir(parents=True, exist_ok=True)
        self.running = [Running(spec, open(layout.log(spec.name), "ab"), probe=HealthProbe(spec.health))
                        for spec in specs]
        self.stopping = False

    def _start(self, item: Running) -> None:
        item.log_file.write(f"--- hcp supervisor: starting {item.spec.name} ---\n".encode())
        item.log_file.flush()
        item.process = subprocess.Popen(
            item.spec.argv, stdin=subprocess.DEVNULL, stdout=item.log_file, stderr=subprocess.STDOUT,
            env={**os.environ, **item.spec.env}, start_new_session=True,
        )
        log.info("started %s (pid %d)", item.spec.name, item.process.pid)

    def _wait_healthy(self, item: Running) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.stopping and time.monotonic() < deadline:
            if item.process.poll() is not None:
                log.error("%s exited with code %s while starting", item.spec.name, item.process.returncode)
                return
            if item.probe():
                item.healthy = True
                return
            time.sleep(0.25)
        if not self.stopping:
            log.error("%s not healthy after %.0fs; continuing", item.spec.name, START_TIMEOUT)

    def _write_status(self) -> None:
        status = {
            "updated": time.time(),
            "supervisor_pid": os.getpid(),
            "components": {
                item.spec.name: {
                    "pid": item.process.pid if item.process else None,
                    "running": bool(item.process and item.process.poll() is None),
                    "healthy": item.healthy,
                    "restarts": item.restarts,
                    "last_exit": item.last_exit,
                    "log": str(self.layout.log(item.spec.name)),
                }
                for item in self.running
            },
        }
        target = self.layout.status_file(self.config)
        staging = target.with_suffix(".tmp")
        staging.write_text(json.dumps(status, indent=2))
        staging.replace(target)

    def _watch_once(self, probe: bool) -> None:
        now = time.monotonic()
        for item in self.running:
            if item.process and item.process.poll() is not None:
                item.last_exit = item.process.returncode
                item.healthy = False
                backoff = min(MAX_BACKOFF, 2.0 ** min(item.restarts, 5))
                log.warning("%s exited with code %s; restarting in %.0fs",
                            item.spec.name, item.last_exit, backoff)
                item.process = None
                item.next_start = now + backoff
            elif item.process is None and now >= item.next_start:
                item.restarts += 1
                self._start(item)
            elif item.process is not None and probe:
                item.healthy = item.probe()

    def _stop(self, item: Running) -> None:
        if item.process is None or item.process.poll() is not None:
            return
        item.process.terminate()
        try:
            item.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", item.spec.name, STOP_TIMEOUT)
            item.process.kill()
            item.process.wait()
        log.info("stopped %s", item.spec.name)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        self.layout.supervisor_pid(self.config).write_text(f"{os.getpid()}\n")
        try:
            for item in self.running:
                if self.stopping:
                    break
                self._start(item)
                self._wait_healthy(item)
                self._write_status()
            passes = 0
            while not self.stopping:
                probe = passes % HEALTH_EVERY == 0
                self._watch_once(probe)
                if probe:
                    self._write_status()
                passes += 1
                time.sleep(1.0)
        finally:
            self.shutdown()

    def _request_stop(self, signum, frame) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        """Stop in reverse start order; the pods' containers go once kubelet is down."""
        for item in reversed(self.running):
            if item.spec.name == "containerd":
                cgroups.kill_all(self.config)
            self._stop(item)
        kill_shims(self.layout, self.config)
        self.layout.status_file(self.config).unlink(missing_ok=True)
        self.layout.supervisor_pid(self.config).unlink(missing_ok=True)


def kill_shims(layout: Layout, config: ClusterConfig) -> None:
    """containerd's shims outlive containerd; find ours by the socket they serve."""
    address = str(layout.containerd_socket(config))
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"containerd-shim-runc-v2") and address.encode() in cmdline:
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health probe
    layout = Layout(Path(sys.argv[1]))
    config = layout.load_config()
    if config is None:
        sys.exit(f"no management cluster in {layout.state_dir}")
    if not layout.object_store_credentials.exists():
        sys.exit(f"the object store's credentials are missing ({layout.object_store_credentials}); "
                 "run `hcp management-cluster up`")
    credentials = objectstore.load_or_create_credentials(layout.object_store_credentials)
    Supervisor(layout, config, processes(layout, config, resolve_binaries(config), credentials)).run()


if __name__ == "__main__":
    main()
