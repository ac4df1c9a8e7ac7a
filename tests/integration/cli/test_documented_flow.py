"""The documented flow, end to end, with hcp and kubectl: create, inspect, access, scale, dump, destroy.

Docs: 3.x (create; `kubectl get hostedclusters`), 4.2.1 (`hcp create kubeconfig`), 4.2.2 (scale a
NodePool), 12.1 (must-gather) and 13 (`hcp destroy cluster`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from hcp.upstream import binaries

pytestmark = pytest.mark.integration

NAMESPACE = "e2e"
NAME = "flow"


def test_documented_flow(operator, tmp_path):
    state = ["--state-dir", str(operator.state_dir), "--kubeconfig", str(operator.state_dir / "admin.kubeconfig")]

    def hcp(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return operator.hcp(*args, *state, **kwargs)

    # Create, and wait for the control plane and the default NodePool's 2 nodes.
    created = hcp("create", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE, "--node-pool-replicas", "2",
                  "--etcd-storage-size", "1Gi", "--generate-ssh", "--wait", "--timeout", "15m")
    assert f"hosted cluster {NAMESPACE}/{NAME} is available" in created.stdout
    assert "2 of 2 nodes ready" in created.stderr
    again = hcp("create", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr

    # kubectl get hostedclusters / nodepools, with HyperShift's columns.
    clusters = operator.kubectl("get", "hostedclusters", "-n", NAMESPACE).stdout.splitlines()
    assert clusters[0].split() == ["NAME", "VERSION", "KUBECONFIG", "PROGRESS", "AVAILABLE", "PROGRESSING", "MESSAGE"]
    assert clusters[1].split()[:6] == [NAME, clusters[1].split()[1], f"{NAME}-admin-kubeconfig", "Completed",
                                       "True", "False"]
    assert clusters[1].endswith("The hosted control plane is available")
    pools = operator.kubectl("get", "nodepools", "-n", NAMESPACE).stdout.splitlines()
    assert pools[0].split()[:6] == ["NAME", "CLUSTER", "DESIRED", "NODES", "CURRENT", "NODES"]
    assert pools[1].split()[:4] == [NAME, NAME, "2", "2"]

    # hcp create kubeconfig, then use the hosted API.
    kubeconfig = tmp_path / f"{NAME}.kubeconfig"
    kubeconfig.write_text(hcp("create", "kubeconfig", "--namespace", NAMESPACE, "--name", NAME).stdout)
    hosted_kubectl(kubeconfig, "create", "namespace", "hello")
    assert hosted_kubectl(kubeconfig, "get", "namespace", "hello", "-o", "name").stdout.strip() == "namespace/hello"

    # Scale the NodePool (4.2.2): the hosted cluster gets the nodes.
    operator.kubectl("-n", NAMESPACE, "scale", f"nodepool/{NAME}", "--replicas", "3")
    assert wait_for(lambda: len(ready_nodes(kubeconfig)) == 3, 300), "the NodePool did not scale to 3 ready nodes"

    # Dump (12.1): the files are there, and no Secret value is in them.
    secrets = all_secret_values(operator.kubectl("get", "secrets", "-A", "-o", "json").stdout,
                                hosted_kubectl(kubeconfig, "get", "secrets", "-A", "-o", "json").stdout)
    dump = tmp_path / "dump"
    hcp("dump", "cluster", "--name", NAME, "--namespace", NAMESPACE, "--artifact-dir", str(dump),
        "--dump-guest-cluster", "--archive")
    for path in (f"namespaces/{NAMESPACE}/hypershift.openshift.io/hostedclusters.yaml",
                 f"namespaces/{NAMESPACE}/hypershift.openshift.io/nodepools.yaml",
                 f"namespaces/{NAMESPACE}/core/secrets.yaml",
                 f"namespaces/{NAMESPACE}-{NAME}/hypershift.openshift.io/hostedcontrolplanes.yaml",
                 f"namespaces/{NAMESPACE}-{NAME}/core/events.yaml",
                 "namespaces/hypershift/apps/deployments.yaml",
                 f"hostedcluster-{NAME}/cluster-scoped-resources/core/nodes.yaml",
                 f"hostedcluster-{NAME}/cluster-scoped-resources/core/namespaces.yaml",
                 "hypershift-dump.tar.gz"):
        assert (dump / path).is_file(), f"{path} missing from the dump"
    for pattern in (f"namespaces/{NAMESPACE}-{NAME}/pods/kube-apiserver-*/kube-apiserver/current.log",
                    f"namespaces/{NAMESPACE}-{NAME}/pods/etcd-*/etcd/current.log",
                    "namespaces/hypershift/pods/operator-*/operator/current.log"):
        assert list(dump.glob(pattern)), f"no log matches {pattern}"
    assert any(log.stat().st_size for log in dump.glob(f"namespaces/{NAMESPACE}-{NAME}/pods/*/*/current.log"))
    texts = [p.read_text(errors="replace") for p in dump.rglob("*") if p.is_file() and p.suffix != ".gz"]
    with tarfile.open(dump / "hypershift-dump.tar.gz") as tar:
        texts += [tar.extractfile(m).read().decode(errors="replace") for m in tar.getmembers() if m.isfile()]
    corpus = "\n".join(texts)
    assert not [where for where, value in secrets if value in corpus], "Secret values in the dump"

    # Destroy (13): nothing of the cluster is left.
    destroyed = hcp("destroy", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE,
                    "--cluster-grace-period", "10m")
    assert f"hosted cluster {NAMESPACE}/{NAME} destroyed" in destroyed.stderr
    assert operator.kubectl("get", "hostedclusters,nodepools,secrets", "-n", NAMESPACE,
                            "-o", "name").stdout.strip() == ""
    gone = operator.kubectl("get", "namespace", f"{NAMESPACE}-{NAME}", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def hosted_kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=120, check=True)


def ready_nodes(kubeconfig: Path) -> list[str]:
    nodes = json.loads(hosted_kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]
    return [n["metadata"]["name"] for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]


def wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(3)
    return False


def all_secret_values(*lists: str) -> list[tuple[str, str]]:
    """(namespace/name/key, value) of every Secret value worth searching for, base64 and decoded."""
    values = []
    for text in lists:
        for secret in json.loads(text)["items"]:
            where = f"{secret['metadata']['namespace']}/{secret['metadata']['name']}"
            for key, value in (secret.get("data") or {}).items():
                decoded = base64.b64decode(value).decode(errors="replace")
                values += [(f"{where}/{key}", v) for v in (value, decoded) if len(v) >= 16]
    return values
