"""A bare kube-apiserver with hcp's CRDs installed: the API server's own answers, in seconds.

Admission is decided by the API server alone (the CRD schemas and their CEL rules),
so tests of what it admits need no management cluster: etcd and kube-apiserver
started as bare processes on loopback, with TLS, on free ports, as hcp builds and
runs them (see bench/bare_control_plane.py). Nothing else runs: no controllers, no
operator, no webhooks, so an object that is admitted just sits in etcd.

Use the session fixture `bare_apiserver` (registered in tests/integration/conftest.py):

    def test_something(bare_apiserver):
        bare_apiserver.client.create(...)          # a lightkube Client, cluster admin
        bare_apiserver.kubeconfig                  # Path of an admin kubeconfig for kubectl

The fixture skips when not run as root or when the binaries cannot be built; it fails
when the API server refuses hcp's CRDs (e.g. a CEL rule over the cost budget).
Tests share the API server: each should work in a namespace of its own and delete it.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lightkube import ApiError, Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from hcp.api import crds
from hcp.upstream import binaries
from hcp.pki import KeyPair, issue, new_ca, new_service_account_key
from hcp.pki.kubeconfig import render
from tests.integration.ports import free_port

READY_TIMEOUT = 120.0
"""Seconds for etcd + kube-apiserver to answer /readyz, and again for the CRDs to be Established."""


@dataclass(frozen=True)
class BareAPIServer:
    """A running kube-apiserver with hcp's CRDs Established."""

    client: Client
    """A lightkube client with cluster-admin rights (group system:masters)."""
    kubeconfig: Path
    """An admin kubeconfig for the same server (for kubectl or other clients)."""
    server: str
    """The server's URL, https://127.0.0.1:<port>."""
    version: str
    """The Kubernetes version of the kube-apiserver binary, e.g. v1.37.1."""


def _write(directory: Path, name: str, pair: KeyPair) -> tuple[str, str]:
    (directory / f"{name}.crt").write_bytes(pair.cert_pem)
    (directory / f"{name}.key").write_bytes(pair.key_pem)
    return str(directory / f"{name}.crt"), str(directory / f"{name}.key")


def _log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


class _Processes:
    """etcd and kube-apiserver, each in its own process group so that stopping them stops all they started."""

    def __init__(self, log: Path):
        self.log = log
        self.running: list[subprocess.Popen] = []

    def start(self, command: list[str]) -> None:
        with self.log.open("ab") as out:
            self.running.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                                 start_new_session=True))

    def stop(self) -> None:
        for process in reversed(self.running):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _start(work: Path, processes: _Processes, kube: Path, etcd: Path) -> tuple[str, Path]:
    """Start etcd and kube-apiserver with certificates of a fresh CA; returns the URL and an admin kubeconfig."""
    ca = new_ca("hcp-test-ca")
    ca_crt, _ = _write(work, "ca", ca)
    server_crt, server_key = _write(work, "server", issue(
        ca, "kube-apiserver", dns_names=("localhost",), ip_addresses=("127.0.0.1",), server=True, client=True))
    sa_crt, sa_key = _write(work, "sa", new_service_account_key())
    admin = issue(ca, "admin", organizations=("system:masters",), client=True)
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    etcd_url, peer_url = f"https://127.0.0.1:{etcd_port}", f"https://127.0.0.1:{peer_port}"
    processes.start([
        str(etcd / "etcd"), "--name", "default", "--data-dir", str(work / "etcd"),
        "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
        "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
        "--initial-cluster", f"default={peer_url}",
        "--cert-file", server_crt, "--key-file", server_key, "--trusted-ca-file", ca_crt, "--client-cert-auth",
        "--peer-cert-file", server_crt, "--peer-key-file", server_key, "--peer-trusted-ca-file", ca_crt,
        "--peer-client-cert-auth",
    ])
    processes.start([
        str(kube / "kube-apiserver"), "--bind-address", "127.0.0.1", "--secure-port", str(api_port),
        "--etcd-servers", etcd_url, "--etcd-cafile", ca_crt, "--etcd-certfile", server_crt,
        "--etcd-keyfile", server_key,
        "--tls-cert-file", server_crt, "--tls-private-key-file", server_key, "--client-ca-file", ca_crt,
        "--service-account-key-file", sa_crt, "--service-account-signing-key-file", sa_key,
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-cluster-ip-range", "10.96.0.0/16", "--authorization-mode", "Node,RBAC",
    ])
    server = f"https://127.0.0.1:{api_port}"
    trust = ssl.create_default_context(cafile=ca_crt)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if httpx.get(f"{server}/readyz", verify=trust, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"kube-apiserver not ready after {READY_TIMEOUT:.0f}s:\n{_log_tail(processes.log)}")
        time.sleep(0.1)
    kubeconfig = work / "admin.kubeconfig"
    kubeconfig.write_text(render(cluster="bare", server=server, ca_pem=ca.cert_pem, user="admin", credentials=admin))
    return server, kubeconfig


def install_crds(client: Client, timeout: float = READY_TIMEOUT) -> None:
    """Create hcp's CRDs (an API server refusing one fails here, with its reason) and wait until each is
    Established, i.e. served."""
    names = []
    for crd in crds():
        client.create(from_dict(crd))
        names.append(crd["metadata"]["name"])
    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            conditions = client.get(CustomResourceDefinition, name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"CRD {name} not Established after {timeout:.0f}s: {conditions}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def bare_apiserver() -> Iterator[BareAPIServer]:
    """etcd + kube-apiserver on loopback with hcp's CRDs; stopped and removed at the end of the session."""
    if os.geteuid() != 0:
        pytest.skip("the bare API server runs as root, as the management cluster does")
    try:
        kube, etcd = binaries.ensure("kubernetes"), binaries.ensure("etcd")
    except (binaries.BuildError, OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"kube-apiserver or etcd cannot be built here: {error}")
    work = Path(tempfile.mkdtemp(prefix="hcp-bare-apiserver-"))
    processes = _Processes(work / "log")
    try:
        server, kubeconfig = _start(work, processes, kube, etcd)
        client = Client(config=KubeConfig.from_file(kubeconfig), field_manager="hcp-tests")
        try:
            install_crds(client)
        except ApiError as error:
            raise RuntimeError(f"the API server refused hcp's CRDs: {error.status.message}") from error
        yield BareAPIServer(client, kubeconfig, server, binaries.TOOLSETS["kubernetes"].version)
    finally:
        processes.stop()
        shutil.rmtree(work, ignore_errors=True)
