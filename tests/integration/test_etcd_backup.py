"""HCPEtcdBackup end to end: a hosted cluster's etcd snapshot in the embedded object store, as a user sees it.

One KWOK hosted cluster holds a ConfigMap; an HCPEtcdBackup in its control-plane
namespace is completed by the operator (a Job that snapshots a live member and
uploads it), its snapshotURL and the HostedCluster's last backup URL agree, the
object in the store is a real etcd snapshot holding the ConfigMap, the hosted
API answered throughout, and the Job is gone. Bad input: credentials that do not
exist fail with a reason and no Job.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hcp.backup.credentials import decode_secret_data, parse_credentials
from hcp.backup.storage import S3Storage
from hcp.management import object_store
from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, wait_for
from tests.integration.nodepool.conftest import HostedCluster, create_hosted_cluster, delete_hosted_cluster

pytestmark = pytest.mark.integration

NAMESPACE = "backups"
CLUSTER = "bk"
CONTROL_PLANE = f"{NAMESPACE}-{CLUSTER}"


@pytest.fixture(scope="module")
def hosted(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[HostedCluster]:
    cluster = create_hosted_cluster(operator_installed, NAMESPACE, CLUSTER, tmp_path_factory.mktemp("bk"),
                                    toolset="kubernetes")
    try:
        yield cluster
    finally:
        delete_hosted_cluster(operator_installed, NAMESPACE, CLUSTER)


def backup_manifest(name: str, credentials: str = object_store.SECRET_NAME) -> str:
    return json.dumps({
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HCPEtcdBackup",
        "metadata": {"name": name, "namespace": CONTROL_PLANE},
        "spec": {"storage": {"storageType": "S3", "s3": {
            "bucket": object_store.BUCKET, "region": object_store.REGION, "keyPrefix": CONTROL_PLANE,
            "credentials": {"name": credentials}}}},
    })


def completed(hosted: HostedCluster, name: str) -> dict:
    backup = json.loads(hosted.kubectl("get", "hcpetcdbackup", name, "-n", CONTROL_PLANE, "-o", "json").stdout)
    return next((c for c in backup.get("status", {}).get("conditions", []) if c["type"] == "BackupCompleted"), {})


def test_a_backup_of_a_live_cluster_lands_in_the_object_store(hosted, tmp_path):
    hosted.hosted("create", "configmap", "precious", "--from-literal=kept=yes")
    failures: list[str] = []
    stop = threading.Event()

    def probe() -> None:  # the hosted API must answer all the while
        while not stop.is_set():
            result = hosted.hosted("get", "--raw", "/readyz", check=False)
            if result.returncode != 0:
                failures.append(result.stderr.strip())
            stop.wait(0.5)

    watcher = threading.Thread(target=probe, daemon=True)
    watcher.start()
    try:
        hosted.kubectl("apply", "-f", "-", input=backup_manifest("first"))
        condition = wait_for(lambda: (c := completed(hosted, "first")).get("reason") in
                             ("BackupSucceeded", "BackupFailed", "BackupRejected") and c, 300, "the backup to end")
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert condition["status"] == "True", condition
    backup = json.loads(hosted.kubectl("get", "hcpetcdbackup", "first", "-n", CONTROL_PLANE, "-o", "json").stdout)
    url = backup["status"]["snapshotURL"]
    assert url.startswith(f"s3://{object_store.BUCKET}/{CONTROL_PLANE}/") and url.endswith(".db")
    wait_for(lambda: hosted.kubectl("get", "hostedcluster", CLUSTER, "-n", NAMESPACE, "-o",
                                    "jsonpath={.status.lastSuccessfulEtcdBackupURL}").stdout == url, 60,
             "the HostedCluster's last backup URL")
    assert not failures, f"the hosted API did not answer during the backup: {failures[:3]}"
    wait_for(lambda: not hosted.kubectl("get", "jobs", "-n", CONTROL_PLANE, "-o", "name").stdout.strip(), 120,
             "the backup Job to be removed")

    # The stored object is a real snapshot of that etcd, and it holds the ConfigMap.
    secret = json.loads(hosted.kubectl("get", "secret", "-n", object_store.NAMESPACE, object_store.SECRET_NAME,
                                       "-o", "json").stdout)
    credentials = parse_credentials(decode_secret_data(secret["data"]))
    (tmp_path / "ca.crt").write_bytes(credentials.ca_pem or b"")
    storage = S3Storage(credentials.s3_config(object_store.REGION, tmp_path / "ca.crt"), object_store.BUCKET, "")
    key = url.removeprefix(f"s3://{object_store.BUCKET}/")
    snapshot = tmp_path / "snapshot.db"
    storage.get(key, snapshot)
    etcdutl = binaries.binary("etcd", "etcdutl")
    status = json.loads(subprocess.run([str(etcdutl), "snapshot", "status", str(snapshot), "-w", "json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert status["totalKey"] > 100 and status["revision"] > 0
    assert f"revision {status['revision']}" in condition["message"] or str(status["revision"]) in condition["message"]
    restored = tmp_path / "restored"
    subprocess.run([str(etcdutl), "snapshot", "restore", str(snapshot), "--data-dir", str(restored)],
                   capture_output=True, text=True, check=True)
    assert b"/configmaps/default/precious" in b"".join(p.read_bytes() for p in restored.rglob("db"))


def test_a_backup_with_credentials_that_do_not_exist_fails_with_a_reason_and_makes_no_job(hosted):
    hosted.kubectl("apply", "-f", "-", input=backup_manifest("nocreds", credentials="no-such-secret"))
    condition = wait_for(lambda: (c := completed(hosted, "nocreds")).get("reason") == "BackupFailed" and c, 60,
                         "the backup to fail")
    assert condition["status"] == "False"
    assert "no-such-secret" in condition["message"]
    assert "etcd-backup-nocreds" not in hosted.kubectl("get", "jobs", "-n", CONTROL_PLANE, "-o", "name").stdout


def _snapshot_url(hosted: HostedCluster, name: str) -> str:
    backup = json.loads(hosted.kubectl("get", "hcpetcdbackup", name, "-n", CONTROL_PLANE, "-o", "json").stdout)
    return backup["status"]["snapshotURL"]


def _stored(cluster: ManagementCluster, url: str) -> Path:
    """Where the embedded object store keeps an object's bytes."""
    return cluster.state_dir / "object-store" / "buckets" / url.removeprefix("s3://")


def test_scheduled_backups_run_and_only_the_newest_are_kept(hosted):
    scheduled = f"hcp.io/scheduled-etcd-backup={CLUSTER}"

    def succeeded() -> list[dict]:
        items = json.loads(hosted.kubectl("get", "hcpetcdbackup", "-n", CONTROL_PLANE, "-l", scheduled,
                                          "-o", "json").stdout)["items"]
        return [b for b in items if any(c["type"] == "BackupCompleted" and c["status"] == "True"
                                        for c in b.get("status", {}).get("conditions", []))]

    hosted.kubectl("annotate", "hostedcluster", CLUSTER, "-n", NAMESPACE, "--overwrite",
                   "hcp.io/etcd-backup-schedule=* * * * *", "hcp.io/etcd-backup-keep=1")
    try:
        seen: set[str] = set()

        def two_runs() -> bool:
            seen.update(b["status"]["snapshotURL"] for b in succeeded())
            return len(seen) >= 2 and len(succeeded()) == 1

        wait_for(two_runs, 300, "two scheduled backups, the older one pruned", interval=3)
        kept = succeeded()[0]["status"]["snapshotURL"]
        for url in seen - {kept}:
            wait_for(lambda: not _stored(hosted.management, url).exists(), 60, f"{url} removed from the store")
        assert _stored(hosted.management, kept).is_file()
        hc = json.loads(hosted.kubectl("get", "hostedcluster", CLUSTER, "-n", NAMESPACE, "-o", "json").stdout)
        scheduled_condition = next(c for c in hc["status"]["conditions"] if c["type"] == "EtcdBackupScheduled")
        assert scheduled_condition["status"] == "True", scheduled_condition
    finally:
        hosted.kubectl("annotate", "hostedcluster", CLUSTER, "-n", NAMESPACE,
                       "hcp.io/etcd-backup-schedule-", "hcp.io/etcd-backup-keep-")


def test_a_cluster_created_from_a_snapshot_holds_what_was_written_before(hosted, tmp_path):
    """restoreSnapshotURL (docs 7.4.2): a new hosted cluster's etcd starts from the first test's backup."""
    cluster = hosted.management
    url = _snapshot_url(hosted, "first")
    name = "restored"
    manifest = hosted_cluster_manifest(cluster, name, NAMESPACE).replace(
        "persistentVolume: {size: 1Gi}}", f"persistentVolume: {{size: 1Gi}}, restoreSnapshotURL: [{url}]}}")
    assert "restoreSnapshotURL" in manifest
    cluster.kubectl("apply", "-f", "-", input=manifest)
    try:
        # The snapshot is read with credentials beside the control plane (docs/backup.md).
        wait_for(lambda: cluster.kubectl("get", "namespace", f"{NAMESPACE}-{name}", check=False).returncode == 0,
                 60, "the control-plane namespace")
        secret = json.loads(cluster.kubectl("get", "secret", "-n", object_store.NAMESPACE, object_store.SECRET_NAME,
                                            "-o", "json").stdout)
        copy = {"apiVersion": "v1", "kind": "Secret", "type": secret.get("type", "Opaque"), "data": secret["data"],
                "metadata": {"name": "etcd-restore-credentials", "namespace": f"{NAMESPACE}-{name}"}}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(copy))
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{name}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        kubeconfig = tmp_path / "restored.kubeconfig"
        kubeconfig.write_text(cluster.hcp("create", "kubeconfig", "--name", name, "--namespace", NAMESPACE,
                                          "--state-dir", str(cluster.state_dir)).stdout)
        restored = HostedCluster(cluster, NAMESPACE, name, kubeconfig)
        value = wait_for(lambda: restored.hosted("get", "configmap", "precious", "-o", "jsonpath={.data.kept}",
                                                 check=False).stdout, 120, "the ConfigMap in the restored cluster")
        assert value == "yes"
        logs = cluster.kubectl("logs", "-n", f"{NAMESPACE}-{name}", "etcd-0", "-c", "restore-fetch").stdout
        assert logs.strip(), "restore-fetch said nothing"
    finally:
        delete_hosted_cluster(cluster, NAMESPACE, name)


def test_verify_restores_a_backup_and_refuses_a_corrupted_one(hosted):
    cluster = hosted.management
    url = _snapshot_url(hosted, "first")
    flags = ("--state-dir", str(cluster.state_dir))
    good = cluster.hcp("backup", "verify", "--from", url, "--json", *flags)
    report = json.loads(good.stdout)
    assert report["source"] == url and report["revision"] > 0 and report["totalKey"] > 100, report

    stored = _stored(cluster, url)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    bad = cluster.hcp("backup", "verify", "--from", url, *flags, check=False)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), bad.stderr
