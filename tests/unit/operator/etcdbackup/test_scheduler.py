"""The schedule controller against the fake API of the HCPEtcdBackup controller's tests."""

import asyncio
import datetime as dt

from hcp.operator.etcdbackup import scheduler as scheduler_module
from hcp.operator.etcdbackup.scheduler import EtcdBackupScheduler
from tests.unit.operator.etcdbackup.test_controller import (
    FakeClient,
    FakeInformer,
    Recorder,
    World,
    hosted_cluster_body,
    secret_body,
)

NOW = dt.datetime(2026, 12, 6, 12, 0, 30, tzinfo=dt.timezone.utc)


def harness(annotations, backups=()):
    world = World()
    cluster = hosted_cluster_body()
    cluster["metadata"]["annotations"] = annotations
    world.put(cluster)
    world.put(secret_body())
    for body in backups:
        world.put(body)
    events = Recorder()
    controller = EtcdBackupScheduler(FakeClient(world), events, clusters=FakeInformer(world, "HostedCluster"),
                                     backups=FakeInformer(world, "HCPEtcdBackup"), operator_namespace="hypershift",
                                     now=lambda: NOW)
    return world, events, controller


def scheduled(name, reason="BackupSucceeded"):
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HCPEtcdBackup",
            "metadata": {"name": name, "namespace": "clusters-demo", "creationTimestamp": "2026-12-01T00:00:00Z",
                         "labels": {"hcp.io/scheduled-etcd-backup": "demo"},
                         "annotations": {"hypershift.openshift.io/cluster": "clusters/demo"}},
            "spec": {"storage": {"storageType": "S3", "s3": {
                "bucket": "hcp-backups", "region": "us-east-1", "keyPrefix": "clusters-demo",
                "credentials": {"name": "object-store-credentials"}}}},
            "status": {"snapshotURL": f"s3://hcp-backups/clusters-demo/{name}.db",
                       "conditions": [{"type": "BackupCompleted", "status": "True", "reason": reason,
                                       "message": "", "lastTransitionTime": "2026-12-01T00:00:00Z"}]}}


def condition(world):
    [found] = [c for c in world.get("HostedCluster", "clusters", "demo")["status"]["conditions"]
               if c["type"] == "EtcdBackupScheduled"]
    return found


def test_a_due_run_creates_its_backup_and_prunes_beyond_keep_snapshot_first(monkeypatch):
    deleted = []
    monkeypatch.setattr(scheduler_module, "_delete_object",
                        lambda credentials, region, bucket, key: deleted.append((bucket, key)))
    world, events, controller = harness(
        {"hcp.io/etcd-backup-schedule": "0 */6 * * *", "hcp.io/etcd-backup-keep": "2"},
        [scheduled("demo-202612060000"), scheduled("demo-202612060600"), scheduled("demo-202612051800")])
    result = asyncio.run(controller.reconcile("clusters/demo"))
    made = world.get("HCPEtcdBackup", "clusters-demo", "demo-202612061200")
    assert made["spec"]["storage"]["s3"]["keyPrefix"] == "clusters-demo"
    assert made["metadata"]["labels"] == {"hcp.io/scheduled-etcd-backup": "demo"}
    assert deleted == [("hcp-backups", "clusters-demo/demo-202612051800.db")]
    assert world.get("HCPEtcdBackup", "clusters-demo", "demo-202612051800") is None
    assert condition(world)["status"] == "True" and "pruned demo-202612051800" in condition(world)["message"]
    assert result.requeue_after == 10.0
    # again: the same slot is not taken twice
    asyncio.run(controller.reconcile("clusters/demo"))
    assert len(world.of_kind("HCPEtcdBackup")) == 3


def test_a_failed_prune_keeps_the_backup_and_says_why(monkeypatch):
    def refuse(*args):
        raise scheduler_module.StorageError("s3://hcp-backups: the bucket does not exist")

    monkeypatch.setattr(scheduler_module, "_delete_object", refuse)
    world, events, controller = harness(
        {"hcp.io/etcd-backup-schedule": "0 */6 * * *", "hcp.io/etcd-backup-keep": "1"},
        [scheduled("demo-202612060000"), scheduled("demo-202612061200")])
    asyncio.run(controller.reconcile("clusters/demo"))
    assert world.get("HCPEtcdBackup", "clusters-demo", "demo-202612060000") is not None
    assert condition(world)["reason"] == "PruneFailed" and "does not exist" in condition(world)["message"]
    assert events.events[-1][:2] == ("Warning", "PruneFailed")


def test_a_failed_last_run_and_a_bad_schedule_are_conditions_and_events():
    world, events, controller = harness({"hcp.io/etcd-backup-schedule": "0 */6 * * *"},
                                        [scheduled("demo-202612061200", "BackupFailed")])
    asyncio.run(controller.reconcile("clusters/demo"))
    assert condition(world)["reason"] == "ScheduledBackupFailed"
    assert events.events == [("Warning", "ScheduledBackupFailed", condition(world)["message"])]

    world, events, controller = harness({"hcp.io/etcd-backup-schedule": "whenever"})
    assert asyncio.run(controller.reconcile("clusters/demo")) is None
    assert condition(world)["reason"] == "InvalidSchedule" and not world.of_kind("HCPEtcdBackup")
