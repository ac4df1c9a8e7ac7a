"""The HCPEtcdBackup controller against a small fake of the API server: what it writes, in which order,
and that a restart between any two steps repeats the step, never the backup."""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
from typing import Any

import pytest
from lightkube.codecs import from_dict
from lightkube.core import resource as lk

from hcp.api import KINDS
from hcp.backup.credentials import render_credentials_file
from hcp.kube.apply import resource_of
from hcp.operator.etcdbackup.controller import EtcdBackupController, backup_keys
from tests.unit.nodepool.test_batches import api_error
from tests.unit.operator.etcdbackup.objects import (
    BACKUP_UID, CLUSTER_UID, ETCD_IMAGE, NAMESPACE, OPERATOR_IMAGE, REPORT, backup_body, control_plane_body,
    job_status, pod, statefulset, terminated,
)

KEY = f"{NAMESPACE}/nightly"
for _kind in KINDS:
    resource_of(_kind)  # registers hcp's kinds with lightkube, as the operator's informers do


def kind_of(resource: Any) -> str:
    return lk.api_info(resource).resource.kind


def is_status(resource: Any) -> bool:
    return lk.api_info(resource).action == "status"


class World:
    """Objects by (kind, namespace, name), as dicts; the fake client and informers read and write them."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict] = {}
        self.writes: list[tuple] = []
        self.uids = (f"uid-{n}" for n in itertools.count(1))
        self.fail_next: dict[str, Exception] = {}
        self.refuse_create: Exception | None = None

    def put(self, body: dict) -> dict:
        body = copy.deepcopy(body)
        body["metadata"].setdefault("uid", next(self.uids))
        self.objects[(body["kind"], body["metadata"].get("namespace"), body["metadata"]["name"])] = body
        return body

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        return self.objects.get((kind, namespace, name))

    def of_kind(self, kind: str) -> list[dict]:
        return [body for (k, _, _), body in self.objects.items() if k == kind]


class FakeInformer:
    def __init__(self, world: World, kind: str) -> None:
        self.world, self.kind = world, kind

    def get(self, namespace, name):
        body = self.world.get(self.kind, namespace, name)
        return from_dict(copy.deepcopy(body)) if body else None

    def list(self, namespace=None):
        return [from_dict(copy.deepcopy(b)) for b in self.world.of_kind(self.kind)
                if namespace is None or b["metadata"].get("namespace") == namespace]


class FakeClient:
    def __init__(self, world: World) -> None:
        self.world = world

    def _maybe_fail(self, what: str) -> None:
        error = self.world.fail_next.pop(what, None)
        if error is not None:
            raise error

    async def patch(self, resource, name, body, *, namespace=None, patch_type=None, field_manager=None, force=False):
        kind = kind_of(resource)
        status = is_status(resource)
        what = f"{kind}/status" if status else kind
        self._maybe_fail(what)
        self.world.writes.append(("apply", what, namespace, name, field_manager))
        current = self.world.get(kind, namespace, name)
        if status:
            assert current is not None, f"status of a missing {kind}"
            current.setdefault("status", {}).update(copy.deepcopy(body["status"]))
            return from_dict(copy.deepcopy(current))
        merged = {**(current or {}), **copy.deepcopy(body)}
        if current:
            merged["metadata"] = {**current["metadata"], **body["metadata"]}
        return from_dict(self.world.put(merged))

    async def create(self, obj):
        body = obj.to_dict()
        kind, namespace, name = body["kind"], body["metadata"].get("namespace"), body["metadata"]["name"]
        if self.world.refuse_create is not None:
            raise self.world.refuse_create
        if self.world.get(kind, namespace, name) is not None:
            raise api_error(409, f"{kind} {name} already exists")
        self.world.writes.append(("create", kind, namespace, name, None))
        return from_dict(self.world.put(body))

    async def get(self, resource, name, *, namespace=None):
        body = self.world.get(kind_of(resource), namespace, name)
        if body is None:
            raise api_error(404, f"{kind_of(resource)} {name} not found")
        return from_dict(copy.deepcopy(body))

    async def list(self, resource, *, namespace=None, labels=None):
        for body in self.world.of_kind(kind_of(resource)):
            if namespace is not None and body["metadata"].get("namespace") != namespace:
                continue
            have = body["metadata"].get("labels") or {}
            if all(key in have and (value is None or have[key] == value) for key, value in (labels or {}).items()):
                yield from_dict(copy.deepcopy(body))

    async def delete(self, resource, name, *, namespace=None, cascade=None):
        kind = kind_of(resource)
        body = self.world.objects.pop((kind, namespace, name), None)
        if body is None:
            raise api_error(404, f"{kind} {name} not found")
        self.world.writes.append(("delete", kind, namespace, name, str(cascade)))
        uid = body["metadata"]["uid"]
        for key, other in list(self.world.objects.items()):  # the garbage collector, at once
            owners = other["metadata"].get("ownerReferences") or ()
            if any(ref["uid"] == uid for ref in owners) or \
                    (other["metadata"].get("labels") or {}).get("batch.kubernetes.io/controller-uid") == uid:
                del self.world.objects[key]


class Release:
    def component(self, name):
        assert name == "etcd"
        return ETCD_IMAGE


class Releases:
    async def resolve(self, image):
        return Release()


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def record(self, obj, type_, reason, message):
        self.events.append((type_, reason, message))


def secret_body() -> dict:
    data = {"credentials": render_credentials_file("hcp-ak", "sk", "https://172.30.1.2:7070").encode(),
            "ca.crt": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "object-store-credentials", "namespace": "hypershift"},
            "data": {key: base64.b64encode(value).decode() for key, value in data.items()}}


def hosted_cluster_body() -> dict:
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
            "metadata": {"name": "demo", "namespace": "clusters", "uid": CLUSTER_UID},
            "spec": {"release": {"image": "r:1"}, "platform": {"type": "KWOK"}, "pullSecret": {"name": "p"},
                     "services": []},
            "status": {"conditions": []}}


class Harness:
    def __init__(self, *, etcd_ready: int = 1, secret: bool = True, operator_image: str = OPERATOR_IMAGE) -> None:
        self.world = World()
        world = self.world
        world.put(backup_body())
        world.put(control_plane_body())
        world.put(hosted_cluster_body())
        world.put(statefulset(ready=etcd_ready))
        if secret:
            world.put(secret_body())
        self.events = Recorder()
        self.controller = EtcdBackupController(
            FakeClient(world), Releases(), self.events,
            backups=FakeInformer(world, "HCPEtcdBackup"), jobs=FakeInformer(world, "Job"),
            control_planes=FakeInformer(world, "HostedControlPlane"), clusters=FakeInformer(world, "HostedCluster"),
            statefulsets=FakeInformer(world, "StatefulSet"), operator_namespace="hypershift",
            operator_image=operator_image)

    def reconcile(self):
        return asyncio.run(self.controller.reconcile(KEY))

    @property
    def backup(self) -> dict:
        return self.world.get("HCPEtcdBackup", NAMESPACE, "nightly")

    @property
    def condition(self) -> dict:
        [condition] = self.backup["status"]["conditions"]
        return condition

    @property
    def job(self) -> dict | None:
        return self.world.get("Job", NAMESPACE, "etcd-backup-nightly")

    def finish_job(self, outcome: str, *, init=(), main=()) -> None:
        job = self.job
        job["status"] = job_status(outcome, "BackoffLimitExceeded" if outcome == "Failed" else "",
                                   "Job has reached the specified backoff limit" if outcome == "Failed" else "")
        body = pod(init=list(init), main=list(main))
        body["metadata"].update(namespace=NAMESPACE, labels={"batch.kubernetes.io/controller-uid":
                                                             job["metadata"]["uid"]})
        self.world.put(body)


def test_a_new_backup_gets_a_job_beside_etcd_and_a_copy_of_its_credentials():
    harness = Harness()
    result = harness.reconcile()
    job = harness.job
    assert job["metadata"]["ownerReferences"][0]["uid"] == BACKUP_UID
    init = job["spec"]["template"]["spec"]["initContainers"][0]
    assert init["image"] == ETCD_IMAGE
    copy_ = harness.world.get("Secret", NAMESPACE, "etcd-backup-nightly-credentials")
    assert copy_["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    assert copy_["data"] == secret_body()["data"]
    assert (harness.condition["status"], harness.condition["reason"], harness.condition["message"]) == (
        "False", "BackupInProgress", "Backup Job etcd-backup-nightly created, waiting for completion")
    assert result.requeue_after == 10.0
    assert harness.events.events == [("Normal", "BackupStarted",
                                      f"Job etcd-backup-nightly takes a snapshot of etcd in {NAMESPACE}")]


def test_a_running_job_is_followed_and_never_duplicated():
    harness = Harness()
    harness.reconcile()
    harness.world.objects.pop(("Secret", NAMESPACE, "etcd-backup-nightly-credentials"))  # lost to a restart
    harness.reconcile()
    assert [w for w in harness.world.writes if w[0] == "create"] == [("create", "Job", NAMESPACE,
                                                                      "etcd-backup-nightly", None)]
    assert harness.world.get("Secret", NAMESPACE, "etcd-backup-nightly-credentials") is not None
    assert harness.condition["reason"] == "BackupInProgress"


def test_success_records_the_url_on_the_hosted_cluster_then_the_backup_then_removes_the_job():
    harness = Harness()
    harness.reconcile()
    harness.finish_job("Complete", init=[terminated("snapshot", 0)], main=[terminated("upload", 0, REPORT)])
    harness.world.writes.clear()
    assert harness.reconcile() is None
    url = "s3://hcp-backups/clusters-demo/1765000000.db"
    assert harness.world.get("HostedCluster", "clusters", "demo")["status"]["lastSuccessfulEtcdBackupURL"] == url
    assert harness.backup["status"]["snapshotURL"] == url
    assert (harness.condition["status"], harness.condition["reason"]) == ("True", "BackupSucceeded")
    assert "etcd revision 4711, 1033 keys" in harness.condition["message"]
    assert [w[:2] + (w[4],) for w in harness.world.writes] == [
        ("apply", "HostedCluster/status", "hcp-etcd-backup"),
        ("apply", "HCPEtcdBackup/status", "hcp"),
        ("delete", "Job", "CascadeType.BACKGROUND"),
    ]
    assert harness.job is None and harness.world.get("Secret", NAMESPACE, "etcd-backup-nightly-credentials") is None
    assert not harness.world.of_kind("Pod")
    assert harness.events.events[-1][:2] == ("Normal", "BackupSucceeded")
    harness.world.writes.clear()
    assert harness.reconcile() is None
    assert harness.world.writes == [], "a finished backup is never taken again"


def test_a_restart_before_the_status_is_written_records_the_same_outcome_again():
    harness = Harness()
    harness.reconcile()
    harness.finish_job("Complete", main=[terminated("upload", 0, REPORT)])
    harness.world.fail_next["HCPEtcdBackup/status"] = RuntimeError("the operator stops here")
    with pytest.raises(RuntimeError):
        harness.reconcile()
    assert harness.job is not None, "the Job is kept until its outcome is recorded"
    harness.reconcile()
    assert harness.condition["reason"] == "BackupSucceeded" and harness.job is None


def test_a_restart_before_the_job_is_deleted_deletes_it_and_nothing_else():
    harness = Harness()
    harness.reconcile()
    harness.finish_job("Complete", main=[terminated("upload", 0, REPORT)])
    job = copy.deepcopy(harness.job)
    harness.reconcile()
    harness.world.put(job)  # as if the operator stopped before deleting it
    harness.world.writes.clear()
    harness.reconcile()
    assert [w[:2] for w in harness.world.writes] == [("delete", "Job")]


def test_a_failed_job_fails_the_backup_with_the_line_that_says_why():
    harness = Harness()
    harness.reconcile()
    harness.finish_job("Failed", init=[terminated("snapshot", 0)], main=[terminated(
        "upload", 1, "cannot store the snapshot: s3://hcp-backups: the bucket does not exist")])
    harness.reconcile()
    assert (harness.condition["status"], harness.condition["reason"], harness.condition["message"]) == (
        "False", "BackupFailed", "Backup Job etcd-backup-nightly failed: upload: cannot store the snapshot: "
                                 "s3://hcp-backups: the bucket does not exist")
    assert "snapshotURL" not in harness.backup["status"]
    assert "lastSuccessfulEtcdBackupURL" not in harness.world.get("HostedCluster", "clusters", "demo")["status"]
    assert harness.job is None
    assert harness.events.events[-1][:2] == ("Warning", "BackupFailed")


def test_unhealthy_etcd_waits_and_the_backup_starts_once_it_is_ready():
    harness = Harness(etcd_ready=0)
    result = harness.reconcile()
    assert (harness.condition["reason"], harness.condition["message"]) == (
        "EtcdUnhealthy", "etcd StatefulSet not fully ready: 0/1 replicas ready")
    assert harness.job is None and result.requeue_after == 10.0
    harness.world.get("StatefulSet", NAMESPACE, "etcd")["status"]["readyReplicas"] = 1
    harness.reconcile()
    assert harness.job is not None and harness.condition["reason"] == "BackupInProgress"


def test_a_missing_credentials_secret_fails_the_backup_and_makes_nothing():
    harness = Harness(secret=False)
    assert harness.reconcile() is None
    assert (harness.condition["reason"], harness.condition["message"]) == (
        "BackupFailed", "credential Secret 'object-store-credentials' not found in namespace 'hypershift'")
    assert harness.job is None and not harness.world.of_kind("Secret")


def test_an_unusable_credentials_secret_fails_the_backup():
    harness = Harness()
    harness.world.get("Secret", "hypershift", "object-store-credentials")["data"] = {
        "credentials": base64.b64encode(b"[prod]\naws_access_key_id = a\n").decode()}
    harness.reconcile()
    assert harness.condition["reason"] == "BackupFailed"
    assert "has no [default] profile" in harness.condition["message"] and harness.job is None


def test_a_second_backup_while_one_runs_is_rejected():
    harness = Harness()
    other = backup_body("other")
    other["metadata"]["uid"] = "other-uid"
    harness.world.put(other)
    asyncio.run(harness.controller.reconcile(f"{NAMESPACE}/other"))
    harness.reconcile()
    assert harness.condition["reason"] == "BackupRejected"
    assert harness.condition["message"].startswith("rejected: backup Job etcd-backup-other is already running")
    assert harness.job is None


def test_a_job_of_an_earlier_backup_of_the_same_name_is_waited_for():
    harness = Harness()
    harness.reconcile()
    harness.job["metadata"]["ownerReferences"][0]["uid"] = "an-earlier-backup"
    result = harness.reconcile()
    assert harness.condition["reason"] == "BackupInProgress" and "earlier HCPEtcdBackup" in harness.condition["message"]
    assert result.requeue_after == 2.0


def test_a_job_the_api_server_refuses_fails_the_backup():
    harness = Harness()
    harness.world.refuse_create = api_error(403, 'jobs "etcd-backup-nightly" is forbidden: hcp: refused')
    harness.reconcile()
    assert harness.condition["reason"] == "BackupFailed"
    assert harness.condition["message"] == ('the backup Job was refused: jobs "etcd-backup-nightly" is forbidden: '
                                            "hcp: refused")


def test_an_operator_without_its_image_cannot_upload():
    harness = Harness(operator_image="")
    harness.reconcile()
    assert harness.condition["reason"] == "BackupFailed" and "OPERATOR_IMAGE" in harness.condition["message"]


def test_a_backup_outside_a_control_plane_namespace_fails():
    harness = Harness()
    harness.world.objects.pop(("HostedControlPlane", NAMESPACE, "demo"))
    harness.reconcile()
    assert (harness.condition["reason"], harness.condition["message"]) == (
        "BackupFailed", f"HostedControlPlane not found in namespace {NAMESPACE}")


def test_another_hosted_clusters_status_is_never_written():
    harness = Harness()
    harness.world.get("HostedCluster", "clusters", "demo")["metadata"]["uid"] = "someone-else"
    harness.reconcile()
    harness.finish_job("Complete", main=[terminated("upload", 0, REPORT)])
    harness.reconcile()
    assert harness.condition["reason"] == "BackupSucceeded"
    assert harness.condition["message"].endswith("(no HostedCluster of hcp's to record it on)")
    assert "lastSuccessfulEtcdBackupURL" not in harness.world.get("HostedCluster", "clusters", "demo")["status"]


def test_an_invalid_backup_is_reported_not_retried():
    harness = Harness()
    harness.backup["spec"]["storage"] = {"storageType": "AzureBlob", "azureBlob": {}}
    harness.reconcile()
    assert harness.condition["reason"] == "BackupFailed"
    assert harness.condition["message"].startswith("the HCPEtcdBackup is invalid: ")
    assert harness.job is None


def test_etcd_becoming_ready_wakes_the_backups_of_its_namespace_only():
    harness = Harness()
    keys = backup_keys(FakeInformer(harness.world, "HCPEtcdBackup"))
    assert keys(from_dict(statefulset(ready=1))) == [KEY]
    other = statefulset(ready=1)
    other["metadata"]["name"] = "not-etcd"
    assert keys(from_dict(other)) == []
    elsewhere = statefulset(ready=1)
    elsewhere["metadata"]["namespace"] = "clusters-other"
    assert keys(from_dict(elsewhere)) == []
