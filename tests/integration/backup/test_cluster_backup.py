"""`hcp backup cluster` and `hcp restore cluster` end to end, as a user runs them (issue 9, requirement 6).

A KWOK hosted cluster with 2 nodes holds a ConfigMap and a ServiceAccount whose token was
issued before the backup. It is backed up to a directory and restored under a new name on
the same management cluster: the ConfigMap is there, the old token and the old admin
kubeconfig's client certificate work against the restored API, and the Nodes belong to the
renamed NodePool. Then backed up to the embedded object store and restored from there.
Bad input (an existing name, a corrupted file, an unknown cluster, a directory that is no
backup) is one error line, exit 1, and creates nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, one_error_line, wait_for

pytestmark = pytest.mark.integration

NAMESPACE = "cbk"
SOURCE, COPY, COPY2 = "src", "copy", "copy2"


def _flags(cluster: ManagementCluster) -> list[str]:
    return ["--state-dir", str(cluster.state_dir), "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig")]


def hcp(cluster: ManagementCluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return cluster.hcp(*args, *_flags(cluster), check=check)


def hosted(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig), *args],
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"hosted kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result


def kubeconfig_of(cluster: ManagementCluster, name: str, directory: Path) -> Path:
    path = directory / f"{name}.kubeconfig"
    path.write_text(hcp(cluster, "create", "kubeconfig", "--namespace", NAMESPACE, "--name", name).stdout)
    path.chmod(0o600)
    return path


def location(output: str) -> str:
    found = re.search(r"^backed up \S+ to (\S+) \(", output, re.M)
    assert found, output
    return found.group(1)


@pytest.fixture(scope="module")
def source(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[tuple[ManagementCluster, Path]]:
    cluster = operator_installed
    hcp(cluster, "create", "cluster", "kwok", "--name", SOURCE, "--namespace", NAMESPACE, "--node-pool-replicas", "2",
        "--etcd-storage-size", "1Gi", "--generate-ssh", "--wait", "--timeout", "15m")
    try:
        yield cluster, kubeconfig_of(cluster, SOURCE, tmp_path_factory.mktemp("cbk"))
    finally:
        for name in (COPY2, COPY, SOURCE):
            hcp(cluster, "destroy", "cluster", "kwok", "--name", name, "--namespace", NAMESPACE, check=False)


def test_secrets_are_encrypted_in_etcd_by_default(source):
    """`hcp create cluster` sets spec.secretEncryption with a new aescbc key: etcd holds ciphertext only."""
    cluster, kubeconfig = source
    hosted(kubeconfig, "create", "secret", "generic", "at-rest", "--from-literal=word=plaintext-swordfish")
    hosted(kubeconfig, "create", "configmap", "in-the-clear", "--from-literal=word=plaintext-marlin")
    etcdctl = ["env", "ETCDCTL_API=3", "/usr/bin/etcdctl", "--cacert", "/etc/etcd/tls/etcd-ca/ca.crt",
               "--cert", "/etc/etcd/tls/client/etcd-client.crt", "--key", "/etc/etcd/tls/client/etcd-client.key",
               "--endpoints=https://localhost:2379", "-w", "json", "get"]

    def raw(key: str) -> bytes:
        """The value etcd stores under `key` (JSON output: base64, as the value is binary)."""
        answer = json.loads(cluster.kubectl("exec", "-n", f"{NAMESPACE}-{SOURCE}", "-c", "etcd", "etcd-0", "--",
                                            *etcdctl, key).stdout)
        return base64.b64decode(answer["kvs"][0]["value"])

    secret = raw("/registry/secrets/default/at-rest")
    assert secret.startswith(b"k8s:enc:aescbc:v1:"), secret[:40]
    assert b"plaintext-swordfish" not in secret
    assert b"plaintext-marlin" in raw("/registry/configmaps/default/in-the-clear")  # only Secrets are encrypted


def test_a_cluster_backed_up_to_a_directory_comes_back_under_a_new_name(source, tmp_path):
    cluster, kubeconfig = source
    hosted(kubeconfig, "create", "configmap", "precious", "--from-literal=kept=yes")
    hosted(kubeconfig, "create", "secret", "generic", "sealed", "--from-literal=word=swordfish")  # encrypted in etcd
    hosted(kubeconfig, "create", "serviceaccount", "robot")
    token = hosted(kubeconfig, "create", "token", "robot", "--duration=2h").stdout.strip()

    backups = tmp_path / "backups"
    done = hcp(cluster, "backup", "cluster", "--name", SOURCE, "--namespace", NAMESPACE, "--to", str(backups))
    bundle = Path(location(done.stdout))
    assert bundle.parent == backups / f"{NAMESPACE}-{SOURCE}"
    assert "taking the etcd snapshot" in done.stderr and "restores with etcdutl" in done.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    saved = {(o["kind"], o["name"]) for o in manifest["objects"]}
    assert {("HostedCluster", SOURCE), ("NodePool", SOURCE), ("Secret", f"{SOURCE}-pull-secret"),
            ("Secret", f"{SOURCE}-ssh-key"), ("Secret", "root-ca"), ("Secret", "sa-signing-key")} <= saved
    assert manifest["etcd"]["revision"] > 0 and manifest["etcd"]["totalKey"] > 100
    assert (bundle / manifest["etcd"]["key"]).stat().st_size == manifest["etcd"]["size"]
    assert bundle.stat().st_mode & 0o777 == 0o700
    assert (bundle / "secrets.yaml").stat().st_mode & 0o777 == 0o600
    staging = cluster.state_dir / "object-store" / "buckets" / "hcp-backups" / "hcp-staging"
    assert not [p for p in staging.rglob("*.db")] if staging.exists() else True, "the staged snapshot was left"

    restored = hcp(cluster, "restore", "cluster", "--from", str(bundle), "--name", COPY, "--timeout", "15m")
    assert f"restored {NAMESPACE}/{COPY}: API server at https://" in restored.stdout
    assert ", 2 node(s)" in restored.stdout
    assert "relabelled 2 Node(s) of NodePool src as copy" in restored.stderr

    copy = kubeconfig_of(cluster, COPY, tmp_path)
    assert hosted(copy, "get", "configmap", "precious", "-o", "jsonpath={.data.kept}").stdout == "yes"
    # The key `hcp create cluster` made came along (renamed), and decrypts the Secrets in the snapshot.
    assert ("Secret", f"{SOURCE}-etcd-encryption-key") in saved
    word = hosted(copy, "get", "secret", "sealed", "-o", "jsonpath={.data.word}").stdout
    assert base64.b64decode(word) == b"swordfish"
    # Credentials issued before the backup still work against the restored API.
    server = yaml.safe_load(copy.read_text())["clusters"][0]["cluster"]["server"]
    ca = tmp_path / "ca.crt"
    ca.write_bytes(base64.b64decode(yaml.safe_load(copy.read_text())["clusters"][0]["cluster"]
                                    ["certificate-authority-data"]))
    whoami = subprocess.run([str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", os.devnull,
                             "--server", server, "--certificate-authority", str(ca), "--token", token,
                             "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
                            capture_output=True, text=True, timeout=60)
    assert whoami.stdout == "system:serviceaccount:default:robot", whoami.stderr
    assert hosted(kubeconfig, "--server", server, "get", "configmap", "precious", "-o", "name").stdout.strip() \
        == "configmap/precious"
    # The nodes are the renamed pool's and Ready; the restore left no credentials behind.
    wait_for(lambda: len(ready(copy, COPY)) == 2, 120, "2 Ready nodes of NodePool copy")
    live = json.loads(cluster.kubectl("get", "hostedcluster", COPY, "-n", NAMESPACE, "-o", "json").stdout)
    assert live["metadata"]["annotations"]["hcp.io/restored-from"] == str(bundle)
    assert "pausedUntil" not in live["spec"]
    assert live["spec"]["pullSecret"]["name"] == f"{COPY}-pull-secret"
    assert live["spec"]["secretEncryption"]["aescbc"]["activeKey"]["name"] == f"{COPY}-etcd-encryption-key"
    assert not cluster.kubectl("get", "secret", "etcd-restore-credentials", "-n", f"{NAMESPACE}-{COPY}",
                               "--ignore-not-found", "-o", "name").stdout.strip()


def ready(kubeconfig: Path, pool: str) -> list[str]:
    nodes = json.loads(hosted(kubeconfig, "get", "nodes", "-l", f"hypershift.openshift.io/nodePool={pool}",
                              "-o", "json").stdout)["items"]
    return [n["metadata"]["name"] for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]


def test_bad_input_is_one_line_and_creates_nothing(source, tmp_path):
    cluster, _ = source
    backups = tmp_path / "backups"
    bundle = Path(location(hcp(cluster, "backup", "cluster", "--name", SOURCE, "--namespace", NAMESPACE,
                               "--to", str(backups)).stdout))

    taken = hcp(cluster, "restore", "cluster", "--from", str(bundle), check=False)  # its own name: taken
    one_error_line(taken, f"HostedCluster {NAMESPACE}/{SOURCE} already exists")

    corrupt = tmp_path / "corrupt"
    shutil.copytree(bundle, corrupt)
    with (corrupt / "cluster.yaml").open("a") as out:
        out.write("# changed\n")
    refused = hcp(cluster, "restore", "cluster", "--from", str(corrupt), "--name", "broken", check=False)
    one_error_line(refused, "cluster.yaml", "sha256")

    one_error_line(hcp(cluster, "restore", "cluster", "--from", str(backups), "--name", "broken", check=False),
                    "no manifest.json", f"the newest backup there is {bundle}")
    one_error_line(hcp(cluster, "backup", "cluster", "--name", "nosuch", "--namespace", NAMESPACE,
                        "--to", str(backups), check=False), f"HostedCluster {NAMESPACE}/nosuch not found")
    one_error_line(hcp(cluster, "backup", "cluster", "--name", SOURCE, "--namespace", NAMESPACE,
                        "--to", "s3://no-such-bucket-hcp/x", check=False), "no-such-bucket-hcp")
    assert not cluster.kubectl("get", "hostedcluster", "broken", "-n", NAMESPACE, "--ignore-not-found",
                               "-o", "name").stdout.strip()
    assert not cluster.kubectl("get", "secret", "broken-pull-secret", "-n", NAMESPACE, "--ignore-not-found",
                               "-o", "name").stdout.strip()


def test_a_cluster_backed_up_to_the_object_store_comes_back_from_it(source, tmp_path):
    cluster, kubeconfig = source
    hcp(cluster, "destroy", "cluster", "kwok", "--name", COPY, "--namespace", NAMESPACE, check=False)  # CPU
    hosted(kubeconfig, "create", "configmap", "second", "--from-literal=round=2")
    done = hcp(cluster, "backup", "cluster", "--name", SOURCE, "--namespace", NAMESPACE,
               "--to", "s3://hcp-backups/cluster-backups")
    url = location(done.stdout)
    assert url.startswith(f"s3://hcp-backups/cluster-backups/{NAMESPACE}-{SOURCE}/")
    stored = cluster.state_dir / "object-store" / "buckets" / url.removeprefix("s3://")
    manifest = json.loads((stored / "manifest.json").read_text())
    verified = hcp(cluster, "backup", "verify", "--from", f"{url}/{manifest['etcd']['key']}", "--json")
    assert json.loads(verified.stdout)["revision"] == manifest["etcd"]["revision"]

    restored = hcp(cluster, "restore", "cluster", "--from", url, "--name", COPY2, "--timeout", "15m")
    assert f"restored {NAMESPACE}/{COPY2}" in restored.stdout and "staged" not in restored.stderr
    copy2 = kubeconfig_of(cluster, COPY2, tmp_path)
    assert hosted(copy2, "get", "configmap", "second", "-o", "jsonpath={.data.round}").stdout == "2"
    assert hosted(copy2, "get", "configmap", "precious", "-o", "jsonpath={.data.kept}").stdout == "yes"


ETCD_DATA = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: etcd-data
spec:
  replicas: 1
  selector:
    matchLabels:
      app: etcd-data
  template:
    metadata:
      labels:
        app: etcd-data
    spec:
      containers:
      - name: access
        image: {image}
        volumeMounts:
        - name: data
          mountPath: /var/lib
        command:
        - /usr/bin/bash
        args:
        - -c
        - |-
          while true; do
            sleep 1000
          done
      volumes:
      - name: data
        persistentVolumeClaim:
          claimName: data-etcd-0
"""


def test_the_docs_manual_etcd_backup_and_restore_work_with_kubectl(source, tmp_path):
    """Docs 7.3, command for command (kubectl for oc; one etcd member, so no PVCs to delete and 1 replica)."""
    cluster, kubeconfig = source
    cp = f"{NAMESPACE}-{SOURCE}"

    def k(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return cluster.kubectl(*args, **kwargs)

    hosted(kubeconfig, "create", "configmap", "before-manual", "--from-literal=state=old")
    etcdctl = ["env", "ETCDCTL_API=3", "/usr/bin/etcdctl"]
    k("exec", "-n", cp, "-c", "etcd", "-t", "etcd-0", "--", *etcdctl,
      "--cacert", "/etc/etcd/tls/etcd-ca/ca.crt", "--cert", "/etc/etcd/tls/client/etcd-client.crt",
      "--key", "/etc/etcd/tls/client/etcd-client.key", "--endpoints=https://localhost:2379",
      "snapshot", "save", "/var/lib/snapshot.db")
    status = k("exec", "-n", cp, "-c", "etcd", "-t", "etcd-0", "--", *etcdctl, "-w", "table", "snapshot", "status",
               "/var/lib/snapshot.db").stdout
    assert "TOTAL KEYS" in status.upper()
    local = tmp_path / "etcd.snapshot.db"
    k("cp", "-c", "etcd", f"{cp}/etcd-0:/var/lib/snapshot.db", str(local))
    assert local.stat().st_size > 100_000
    hosted(kubeconfig, "create", "configmap", "after-snapshot", "--from-literal=state=new")  # the restore undoes it

    k("patch", "-n", NAMESPACE, f"hostedclusters/{SOURCE}", "-p", '{"spec":{"pausedUntil":"true"}}', "--type=merge")
    k("scale", "-n", cp, "deployment/kube-apiserver", "--replicas=0")
    k("scale", "-n", cp, "statefulset/etcd", "--replicas=0")
    image = k("get", "-n", cp, "statefulset/etcd", "-o", "jsonpath={ .spec.template.spec.containers[0].image }").stdout
    wait_for(lambda: not k("get", "-n", cp, "pods", "-l", "app=etcd", "-o", "name").stdout.strip(), 120,
             "the etcd pod to stop")
    k("apply", "-n", cp, "-f", "-", input=ETCD_DATA.format(image=image))
    k("rollout", "status", "-n", cp, "deployment/etcd-data", "--timeout=120s", timeout=150)
    data_pod = k("get", "-n", cp, "pods", "--no-headers", "-l", "app=etcd-data", "-o", "name").stdout.split("/")[1]
    data_pod = data_pod.strip()
    k("cp", str(local), f"{cp}/{data_pod}:/var/lib/restored.snap.db")
    k("exec", "-n", cp, data_pod, "--", "rm", "-rf", "/var/lib/data")
    k("exec", "-n", cp, data_pod, "--", "mkdir", "-p", "/var/lib/data")
    peer = f"https://etcd-0.etcd-discovery.{cp}.svc:2380"
    k("exec", "-n", cp, data_pod, "--", "etcdutl", "snapshot", "restore", "/var/lib/restored.snap.db",
      "--data-dir=/var/lib/data", "--skip-hash-check", "--name", "etcd-0", "--initial-cluster-token=etcd-cluster",
      "--initial-cluster", f"etcd-0={peer}", "--initial-advertise-peer-urls", peer)
    k("exec", "-n", cp, data_pod, "--", "rm", "/var/lib/restored.snap.db")
    k("delete", "-n", cp, "deployment/etcd-data", "--wait=true")
    k("scale", "-n", cp, "statefulset/etcd", "--replicas=1")
    k("rollout", "status", "-n", cp, "statefulset/etcd", "--timeout=180s", timeout=200)
    k("scale", "deployment", "-n", cp, "--replicas=1", "kube-apiserver")
    k("patch", "-n", NAMESPACE, f"hostedclusters/{SOURCE}", "-p", '{"spec":{"pausedUntil":""}}', "--type=merge")

    wait_for(lambda: hosted(kubeconfig, "get", "configmap", "before-manual", check=False).returncode == 0, 240,
             "the hosted API to answer from the restored etcd")
    assert hosted(kubeconfig, "get", "configmap", "after-snapshot", "--ignore-not-found", "-o", "name").stdout == ""
    wait_for(lambda: "True" in k("get", "hostedcluster", SOURCE, "-n", NAMESPACE, "-o",
                                 "jsonpath={.status.conditions[?(@.type=='Available')].status}").stdout, 240,
             "the HostedCluster to be Available again")
