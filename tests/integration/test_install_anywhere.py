"""Install anywhere (issue 11): releases published to a registry other than the embedded one, an operator on a
second management cluster installed against it, a hosted cluster from it, and uninstall.

The second registry is another instance of the upstream distribution registry hcp
builds for the embedded cluster, on its own port, with its own CA (minted with hcp's
PKI, unknown to the management cluster until trusted) and htpasswd logins, so TLS
trust and pull credentials are both exercised end to end. It listens on the host's
side of the management node's link, which the host (hcp release publish) and the
node and its pods (containerd, the operator) all reach.

Run it as root (the lead's machine): `pytest tests/integration/test_install_anywhere.py -m integration`.
It starts one management cluster of its own and the registry; both are removed after.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hcp.images.credentials import Credentials, docker_config_json, write_private
from hcp.management.layout import Layout
from hcp.pki import issue, new_ca
from hcp.upstream import binaries
from tests.integration.conftest import (
    ManagementCluster, hosted_cluster_manifest, management_cluster_up, stop_process, wait_for,
)
from tests.integration.ports import free_port

pytestmark = pytest.mark.integration

USERNAME = "puller"
PASSWORD = "it-registry-password"
NAME = "anywhere"


def bcrypt(password: str) -> str:
    """An htpasswd line's hash: the distribution registry accepts bcrypt only (libxcrypt's, via ctypes)."""
    library = ctypes.CDLL(ctypes.util.find_library("crypt"))
    library.crypt_gensalt.restype = ctypes.c_char_p
    library.crypt.restype = ctypes.c_char_p
    salt = library.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed = library.crypt(password.encode(), salt)
    assert hashed and hashed.startswith(b"$2b$"), "libcrypt has no bcrypt"
    return hashed.decode()


@dataclass
class SecondRegistry:
    name: str
    """host:port, as images name it"""
    ca_file: Path
    auth_file: Path
    """dockerconfigjson with the login (mode 0600)"""
    log: Path



@pytest.fixture(scope="module")
def second() -> Iterator[ManagementCluster]:
    """A second management cluster, of this test alone (the session's cluster has the embedded install)."""
    directory = Path(subprocess.run(["mktemp", "-d", "/tmp/hcp-ia-XXXXXX"], capture_output=True, text=True,
                                    check=True).stdout.strip())
    try:
        with management_cluster_up("ia", directory) as cluster:
            yield cluster
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def registry(second: ManagementCluster) -> Iterator[SecondRegistry]:
    """The upstream registry again, on the host's address of the second cluster's link, TLS and htpasswd."""
    config = Layout(second.state_dir).load_config()
    address = config.host_ip
    directory = second.state_dir.parent / "second-registry"
    directory.mkdir(parents=True, exist_ok=True)
    ca = new_ca("hcp-it-second-registry-ca")
    server = issue(ca, "second-registry", ip_addresses=(address, "127.0.0.1"), server=True)
    (directory / "ca.crt").write_bytes(ca.cert_pem)
    (directory / "tls.crt").write_bytes(server.cert_pem)
    write_private(directory / "tls.key", server.key_pem)
    write_private(directory / "htpasswd", f"{USERNAME}:{bcrypt(PASSWORD)}\n".encode())
    port = free_port(address)
    name = f"{address}:{port}"
    write_private(directory / "auth.json", docker_config_json(name, Credentials(USERNAME, PASSWORD)))
    (directory / "config.yaml").write_text(yaml.safe_dump({
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(directory / "data")}, "delete": {"enabled": True}},
        "http": {"addr": name, "tls": {"certificate": str(directory / "tls.crt"),
                                       "key": str(directory / "tls.key")}},
        "auth": {"htpasswd": {"realm": "hcp-it", "path": str(directory / "htpasswd")}},
    }))
    log = directory / "registry.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(binaries.ensure("registry") / "registry"), "serve", str(directory / "config.yaml")],
            stdout=output, stderr=subprocess.STDOUT, env={"OTEL_TRACES_EXPORTER": "none", "PATH": "/usr/bin:/bin"})
    try:
        context = ssl.create_default_context(cafile=str(directory / "ca.crt"))

        def serving() -> bool:
            assert process.poll() is None, f"the second registry exited; see {log}"
            try:
                urllib.request.urlopen(f"https://{name}/v2/", context=context, timeout=5)
            except urllib.error.HTTPError as error:
                return error.code == 401  # serving, and asking for a login
            except OSError:
                return False
            return False  # answered without a login: htpasswd is not in force

        wait_for(serving, 60, f"the second registry at {name}")
        yield SecondRegistry(name, directory / "ca.crt", directory / "auth.json", log)
    finally:
        stop_process(process)
        shutil.rmtree(directory, ignore_errors=True)


def kubeconfig(cluster: ManagementCluster) -> str:
    return str(cluster.state_dir / "admin.kubeconfig")


def test_a_hosted_cluster_from_a_registry_other_than_the_embedded_one(second, registry):
    # Without the login the registry refuses, in one line, before anything is built.
    refused = second.hcp("release", "publish", "--registry", registry.name, "--ca", str(registry.ca_file),
                         check=False, timeout=120)
    assert refused.returncode == 1 and "401" in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr

    published = second.hcp("release", "publish", "--registry", registry.name, "--ca", str(registry.ca_file),
                           "--docker-config", str(registry.auth_file), timeout=3600)
    assert PASSWORD not in published.stdout + published.stderr
    release = f"{registry.name}/hcp/release:{binaries.TOOLSETS['kubernetes'].version}"
    assert release in published.stdout

    # The management cluster's nodes trust the registry's CA (an administrator's part on any cluster).
    second.mc("trust-registry", registry.name, "--ca", str(registry.ca_file))
    rendered = second.hcp("install", "--render", "--kubeconfig", kubeconfig(second), "--registry", registry.name,
                          "--ca", str(registry.ca_file), "--pull-secret", str(registry.auth_file))
    assert "registry.hcp.internal" not in rendered.stdout
    second.hcp("install", "--kubeconfig", kubeconfig(second), "--state-dir", str(second.state_dir),
               "--registry", registry.name, "--ca", str(registry.ca_file), "--pull-secret", str(registry.auth_file))
    versions = json.loads(second.kubectl("get", "configmap", "-n", "hypershift", "supported-versions",
                                         "-o", "json").stdout)
    assert json.loads(versions["data"]["supported-versions"])["versions"]

    second.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(second, NAME, release=release))
    second.kubectl("wait", "-n", "clusters", f"hostedcluster/{NAME}", "--for=condition=Available",
                   "--timeout=600s", timeout=700)

    pods = json.loads(second.kubectl("get", "pods", "-n", f"clusters-{NAME}", "-o", "json").stdout)["items"]
    assert pods
    images = {c["image"] for pod in pods for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]}
    assert all(image.startswith(f"{registry.name}/") for image in images), images
    assert all(pod["spec"].get("imagePullSecrets") == [{"name": "pull-secret"}] for pod in pods)
    operator = json.loads(second.kubectl("get", "pods", "-n", "hypershift", "-l", "app=operator",
                                         "-o", "json").stdout)["items"]
    assert operator and all(p["spec"]["containers"][0]["image"].startswith(f"{registry.name}/") for p in operator)

    # Uninstall refuses while the hosted cluster exists, then --force removes it and then hcp.
    kept = second.hcp("install", "--uninstall", "--kubeconfig", kubeconfig(second), check=False, timeout=120)
    assert kept.returncode == 1, kept.stderr
    assert kept.stderr.startswith(f"error: 1 HostedCluster exists (clusters/{NAME})"), kept.stderr
    assert second.kubectl("get", "deployment", "-n", "hypershift", "operator", check=False).returncode == 0

    removed = second.hcp("uninstall", "--force", "--kubeconfig", kubeconfig(second), timeout=1200)
    assert "hcp is uninstalled" in removed.stderr
    assert second.kubectl("get", "namespace", "hypershift", check=False).returncode != 0
    wait_for(lambda: second.kubectl("get", "namespace", f"clusters-{NAME}", check=False).returncode != 0, 300,
             f"namespace clusters-{NAME} to be gone")
    crds = second.kubectl("get", "crd", "-o", "name").stdout
    assert "hypershift.openshift.io" not in crds, crds
