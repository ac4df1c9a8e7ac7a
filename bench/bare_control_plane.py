"""The floor for control-plane benchmarks: etcd + kube-apiserver started as bare processes.

Same binaries, TLS and flags as hcp gives them, on loopback with free ports,
with nothing in between: no supervisor, no kubelet, no pods. The time from
start to a ready `/readyz` is what any orchestration of them is compared to.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from hcp.upstream import binaries
from hcp.pki import issue, new_ca, new_service_account_key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write(directory: Path, name: str, pair) -> tuple[str, str]:
    (directory / f"{name}.crt").write_bytes(pair.cert_pem)
    (directory / f"{name}.key").write_bytes(pair.key_pem)
    return str(directory / f"{name}.crt"), str(directory / f"{name}.key")


@contextmanager
def bare_control_plane(timeout: float = 120.0) -> Iterator[tuple[float, dict[str, int]]]:
    """Start etcd and kube-apiserver; yield (seconds until /readyz answered 200, {name: pid}); kill both after."""
    kube = binaries.ensure("kubernetes")
    etcd = binaries.ensure("etcd")
    work = Path(tempfile.mkdtemp(prefix="hcp-bare-"))
    processes: dict[str, subprocess.Popen] = {}
    try:
        ca = new_ca("bare-ca")
        ca_crt, _ = _write(work, "ca", ca)
        server_crt, server_key = _write(work, "server", issue(
            ca, "bare", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True, client=True))
        sa_crt, sa_key = _write(work, "sa", new_service_account_key())
        etcd_port, peer_port, api_port = _free_port(), _free_port(), _free_port()
        etcd_url = f"https://127.0.0.1:{etcd_port}"
        started = time.monotonic()
        log = open(work / "log", "wb")
        processes["etcd"] = subprocess.Popen([
            str(etcd / "etcd"), "--data-dir", str(work / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"https://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"https://127.0.0.1:{peer_port}",
            "--initial-cluster", f"default=https://127.0.0.1:{peer_port}",
            "--cert-file", server_crt, "--key-file", server_key, "--trusted-ca-file", ca_crt,
            "--client-cert-auth", "--peer-cert-file", server_crt, "--peer-key-file", server_key,
            "--peer-trusted-ca-file", ca_crt, "--peer-client-cert-auth",
        ], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        processes["kube-apiserver"] = subprocess.Popen([
            str(kube / "kube-apiserver"), "--bind-address", "127.0.0.1", "--secure-port", str(api_port),
            "--etcd-servers", etcd_url, "--etcd-cafile", ca_crt,
            "--etcd-certfile", server_crt, "--etcd-keyfile", server_key,
            "--tls-cert-file", server_crt, "--tls-private-key-file", server_key, "--client-ca-file", ca_crt,
            "--service-account-key-file", sa_crt, "--service-account-signing-key-file", sa_key,
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-cluster-ip-range", "10.96.0.0/16", "--authorization-mode", "Node,RBAC",
        ], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline, ready_s = started + timeout, None
        while ready_s is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"https://127.0.0.1:{api_port}/readyz", verify=ca_crt, timeout=1).status_code == 200:
                    ready_s = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        if ready_s is None:
            raise RuntimeError(f"bare kube-apiserver not ready after {timeout}s; see {work / 'log'}")
        yield ready_s, {name: process.pid for name, process in processes.items()}
    finally:
        for process in processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


def time_to_ready(timeout: float = 120.0) -> float:
    """Seconds from starting etcd and kube-apiserver until /readyz answers 200."""
    with bare_control_plane(timeout) as (ready_s, _):
        return ready_s


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_anon_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_usage(settle: float = 60.0, window: float = 30.0) -> dict[str, dict[str, float]]:
    """Anonymous memory (what kubelet reports as a container's RSS) and CPU of bare etcd and kube-apiserver
    at rest: `settle` seconds after /readyz, CPU averaged over the next `window` seconds."""
    with bare_control_plane() as (_, pids):
        time.sleep(settle)
        before = {name: _cpu_ticks(pid) for name, pid in pids.items()}
        time.sleep(window)
        hertz = os.sysconf("SC_CLK_TCK")
        return {name: {"rss_mib": round(_rss_anon_mib(pid), 1),
                       "cpu_millicores": round((_cpu_ticks(pid) - before[name]) / hertz / window * 1000, 1)}
                for name, pid in pids.items()}
