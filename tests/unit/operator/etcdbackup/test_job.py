"""The backup Job: beside etcd, with the etcd client certificate, hcp's image for the upload, least privilege."""

from __future__ import annotations

import re

import pytest

from hcp.images.python_app import PYTHON
from hcp.operator.etcdbackup import job as backup_job
from hcp.operator.etcdbackup.job import job_name, render_credentials_copy, render_job
from tests.unit.operator.etcdbackup.objects import (
    BACKUP_UID, ETCD_IMAGE, NAMESPACE, OPERATOR_IMAGE, backup, control_plane,
)


@pytest.fixture
def job() -> dict:
    return render_job(backup(), control_plane(), backup_uid=BACKUP_UID, etcd_image=ETCD_IMAGE,
                      operator_image=OPERATOR_IMAGE)


def containers(job: dict) -> dict[str, dict]:
    pod = job["spec"]["template"]["spec"]
    return {c["name"]: c for c in [*pod["initContainers"], *pod["containers"]]}


def test_the_job_is_named_and_owned_by_its_backup(job):
    metadata = job["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("etcd-backup-nightly", NAMESPACE)
    assert metadata["ownerReferences"] == [{
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HCPEtcdBackup", "name": "nightly",
        "uid": BACKUP_UID, "controller": True, "blockOwnerDeletion": False}]
    assert metadata["labels"]["hcp.io/etcd-backup"] == BACKUP_UID
    assert metadata["labels"]["hypershift.openshift.io/hosted-control-plane"] == NAMESPACE
    assert job["spec"]["template"]["metadata"]["labels"]["hcp.io/etcd-backup"] == BACKUP_UID
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] == 900
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_long_names_fit_the_job_name_label():
    long = "nightly-" + "x" * 240
    name = job_name(long)
    assert len(name) == 63 and name.startswith("etcd-backup-nightly-xxx")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name)
    assert job_name(long) == name and job_name(long + "y") != name
    assert job_name("x" * 39 + "." + "y" * 40).startswith("etcd-backup-" + "x" * 39 + "-")  # the cut fell after the dot
    assert job_name("nightly") == "etcd-backup-nightly" and len(job_name("n" * 51)) == 63


def test_the_snapshot_is_taken_from_a_live_member_through_the_client_service(job):
    snapshot = containers(job)["snapshot"]
    assert snapshot["image"] == ETCD_IMAGE
    script = snapshot["command"][2]
    assert snapshot["command"][:2] == ["/bin/sh", "-c"] and script.startswith("set -eu\n")
    assert "etcdctl --endpoints=https://etcd-client:2379" in script
    assert "--cacert=/etc/etcd/tls/client/etcd-client-ca.crt" in script
    assert "--cert=/etc/etcd/tls/client/etcd-client.crt" in script
    assert "--key=/etc/etcd/tls/client/etcd-client.key" in script
    assert "snapshot save /var/lib/etcd-backup/snapshot.db" in script
    assert "etcdutl snapshot status /var/lib/etcd-backup/snapshot.db -w json > /var/lib/etcd-backup/status.json" \
        in script
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["client-tls"]["secret"]["secretName"] == "etcd-client-tls"
    assert volumes["backup"] == {"name": "backup", "emptyDir": {}}


def test_the_upload_runs_hcp_from_the_operator_image_with_the_backups_target(job):
    upload = containers(job)["upload"]
    assert upload["image"] == OPERATOR_IMAGE
    assert upload["command"] == [
        PYTHON, "-m", "hcp.backup.upload",
        "--snapshot=/var/lib/etcd-backup/snapshot.db", "--snapshot-status=/var/lib/etcd-backup/status.json",
        "--bucket=hcp-backups", "--region=us-east-1", "--key-prefix=clusters-demo",
        "--credentials-dir=/etc/etcd-backup/credentials",
    ]
    assert upload["terminationMessagePolicy"] == "FallbackToLogsOnError"
    mounts = {m["name"]: m for m in upload["volumeMounts"]}
    assert mounts["backup"]["mountPath"] == "/var/lib/etcd-backup" and not mounts["backup"].get("readOnly")
    assert mounts["credentials"] == {"name": "credentials", "mountPath": "/etc/etcd-backup/credentials",
                                     "readOnly": True}
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["credentials"]["secret"]["secretName"] == "etcd-backup-nightly-credentials"


def test_the_pod_gets_what_every_control_plane_pod_gets_and_no_privilege(job):
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["nodeSelector"] == {"pool": "control-plane"}
    assert not any(key in pod for key in ("hostNetwork", "hostPID", "hostIPC"))
    assert not any("hostPath" in volume for volume in pod["volumes"])
    for container in containers(job).values():
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                "capabilities": {"drop": ["ALL"]}}
        assert container["resources"]["requests"]


def test_rendering_is_pure_and_repeatable(job):
    again = render_job(backup(), control_plane(), backup_uid=BACKUP_UID, etcd_image=ETCD_IMAGE,
                       operator_image=OPERATOR_IMAGE)
    assert again == job
    assert backup_job._template()["metadata"]["name"] == "etcd-backup"


def test_the_credentials_copy_sits_beside_the_job_and_goes_with_it(job):
    served = {**job, "metadata": {**job["metadata"], "uid": "job-uid"}}
    source = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "object-store-credentials", "namespace": "hypershift", "uid": "x",
                           "resourceVersion": "7"},
              "data": {"credentials": "W2RlZmF1bHRdCg==", "ca.crt": "LS0t"}}
    copy = render_credentials_copy(served, source)
    assert copy["metadata"]["name"] == "etcd-backup-nightly-credentials"
    assert copy["metadata"]["namespace"] == NAMESPACE
    assert copy["metadata"]["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "Job", "name": "etcd-backup-nightly", "uid": "job-uid",
        "controller": True, "blockOwnerDeletion": False}]
    assert copy["metadata"]["labels"]["hcp.io/etcd-backup"] == BACKUP_UID
    assert copy["data"] == source["data"] and copy["type"] == "Opaque"
    assert "resourceVersion" not in copy["metadata"] and "uid" not in copy["metadata"]
    with pytest.raises(ValueError, match="has no uid"):
        render_credentials_copy(job, source)
