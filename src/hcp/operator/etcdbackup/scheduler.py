"""Scheduled etcd backups: a HostedCluster's schedule annotations made into HCPEtcdBackups, old ones pruned.

Each pass reads the HostedCluster's annotations and the scheduled HCPEtcdBackups of its
control-plane namespace (label SCHEDULED_LABEL) and applies schedule.plan(): create the
backup that is due (the HCPEtcdBackup controller takes it), delete the snapshots of
backups beyond `keep` from storage and then the HCPEtcdBackups themselves (the snapshot
first, so a failure or a restart leaves the object to try again), and write the
HostedCluster's condition EtcdBackupScheduled, with a Warning event when it turns False
or its reason changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Secret

from hcp.api import HCPEtcdBackup, HostedCluster
from hcp.api.names import CLUSTER_ANNOTATION, control_plane_namespace
from hcp.backup.credentials import CA_KEY, CredentialsError, decode_secret_data, parse_credentials
from hcp.backup.storage import S3Storage, StorageError
from hcp.kube.apply import apply_status, resource_of
from hcp.kube.conditions import conditions_of, find_condition, set_condition
from hcp.kube.controller import Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict, split_key
from hcp.operator.etcdbackup import schedule as sched

log = logging.getLogger(__name__)

FIELD_MANAGER = "hcp-etcd-backup-schedule"
"""The HostedCluster's condition EtcdBackupScheduled is this controller's alone."""


def scheduled_backup(cluster_namespace: str, cluster: str, name: str, spec: sched.Schedule) -> dict[str, Any]:
    """The HCPEtcdBackup of one scheduled run (HyperShift's API; hcp's label and annotation)."""
    namespace = control_plane_namespace(cluster_namespace, cluster)
    return {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HCPEtcdBackup",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {sched.SCHEDULED_LABEL: cluster},
                         "annotations": {CLUSTER_ANNOTATION: f"{cluster_namespace}/{cluster}"}},
            "spec": {"storage": {"storageType": "S3", "s3": {
                "bucket": spec.bucket, "region": spec.region, "keyPrefix": namespace,
                "credentials": {"name": spec.credentials}}}}}


class EtcdBackupScheduler:
    def __init__(self, client: AsyncClient, events: EventRecorder, *, clusters: Informer, backups: Informer,
                 operator_namespace: str, now: Callable[[], dt.datetime] | None = None):
        self.client = client
        self.events = events
        self.clusters = clusters
        self.backups = backups
        self.operator_namespace = operator_namespace
        self.now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        cluster = self.clusters.get(namespace, name)
        if cluster is None or cluster.metadata.deletionTimestamp:
            return None
        try:
            schedule = sched.parse_schedule(cluster.metadata.annotations)
        except sched.ScheduleError as error:
            await self._report(cluster, False, sched.INVALID_SCHEDULE, str(error))
            return None
        if schedule is None:
            await self._clear(cluster)
            return None
        raw = [as_dict(b) for b in self.backups.list(control_plane_namespace(namespace, name))
               if (b.metadata.labels or {}).get(sched.SCHEDULED_LABEL) == name]
        backups = [sched.backup_from(name, b) for b in raw]
        plan = sched.plan(name, schedule, backups, self.now())
        status, reason, message = plan.status, plan.reason, plan.message

        if plan.create:
            manifest = scheduled_backup(namespace, name, plan.create, schedule)
            try:
                await self.client.create(from_dict(manifest))
                await self.events.record(cluster, NORMAL, "EtcdBackupStarted",
                                         f"Scheduled backup {plan.create} created in "
                                         f"{manifest['metadata']['namespace']}")
            except ApiError as error:
                if error.status.code != 409:  # 409: an earlier pass made it
                    status, reason = False, sched.BACKUP_FAILED
                    message = f"Cannot create scheduled backup {plan.create}: {error.status.message}"

        pruned, prune_error = await self._prune(control_plane_namespace(namespace, name), plan.prune)
        if prune_error:
            status, reason, message = False, sched.PRUNE_FAILED, prune_error
        elif pruned:
            message += f"; pruned {', '.join(pruned)}"
        await self._report(cluster, status, reason, message)
        return Result(requeue_after=plan.requeue_after)

    async def _prune(self, namespace: str, backups: list[sched.Backup]) -> tuple[list[str], str]:
        """Delete each backup's snapshot, then the backup; the names deleted, or the first failure's message."""
        pruned = []
        for backup in backups:
            live = self.backups.get(namespace, backup.name)
            if live is None:
                continue
            if backup.snapshot_url:
                problem = await self._delete_snapshot(as_dict(live), backup.snapshot_url)
                if problem:
                    return pruned, f"Cannot prune backup {backup.name}: {problem}"
            try:
                await self.client.delete(resource_of(HCPEtcdBackup), backup.name, namespace=namespace)
            except ApiError as error:
                if error.status.code != 404:
                    return pruned, f"Cannot delete HCPEtcdBackup {backup.name}: {error.status.message}"
            pruned.append(backup.name)
        return pruned, ""

    async def _delete_snapshot(self, backup: dict[str, Any], url: str) -> str:
        """Remove the snapshot from its bucket with the credentials its spec names; a message if that fails."""
        where = sched.parse_snapshot_url(url)
        s3 = ((backup.get("spec") or {}).get("storage") or {}).get("s3") or {}
        if where is None:
            return f"its snapshot URL {url!r} is not s3://BUCKET/KEY"
        secret_name = (s3.get("credentials") or {}).get("name", "")
        try:
            secret = await self.client.get(Secret, secret_name, namespace=self.operator_namespace)
        except ApiError as error:
            return f"credential Secret {secret_name!r} in namespace {self.operator_namespace!r}: " \
                   f"{error.status.message}"
        bucket, key = where
        try:
            credentials = parse_credentials(decode_secret_data(secret.data),
                                            where=f"credential Secret {secret_name!r}")
            await asyncio.to_thread(_delete_object, credentials, s3.get("region") or sched.DEFAULT_REGION,
                                    bucket, key)
        except (CredentialsError, StorageError) as error:
            return str(error)
        return ""

    async def _report(self, cluster: Any, status: bool, reason: str, message: str) -> None:
        conditions = conditions_of(cluster)
        previous = find_condition(conditions, sched.CONDITION)
        if previous is not None and (previous.status == ("True" if status else "False")
                                     and previous.reason == reason and previous.message == message):
            return
        updated = set_condition(conditions, sched.CONDITION, "True" if status else "False", reason, message,
                                cluster.metadata.generation)
        mine = [as_dict(c) for c in updated if c.type == sched.CONDITION]
        await apply_status(self.client, HostedCluster, cluster.metadata.name, cluster.metadata.namespace,
                           {"conditions": mine}, field_manager=FIELD_MANAGER)
        if not status and (previous is None or previous.reason != reason):
            await self.events.record(cluster, WARNING, reason, message)

    async def _clear(self, cluster: Any) -> None:
        """No schedule: the condition goes (an empty apply of this manager's fields removes it)."""
        if find_condition(conditions_of(cluster), sched.CONDITION) is None:
            return
        await apply_status(self.client, HostedCluster, cluster.metadata.name, cluster.metadata.namespace,
                           {}, field_manager=FIELD_MANAGER)


def _delete_object(credentials: Any, region: str, bucket: str, key: str) -> None:
    with tempfile.TemporaryDirectory(prefix="hcp-prune-") as scratch:
        ca_file = None
        if credentials.ca_pem:
            ca_file = Path(scratch) / CA_KEY
            ca_file.write_bytes(credentials.ca_pem)
        prefix, _, name = key.rpartition("/")
        S3Storage(credentials.s3_config(region, ca_file), bucket, prefix).delete(name)
