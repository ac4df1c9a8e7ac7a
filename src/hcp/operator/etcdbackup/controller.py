"""The HCPEtcdBackup controller: a Job per backup, its outcome as the backup's status.

Each pass derives everything from what it observes: the backup's own terminal status
(the one record a one-shot request keeps), its Job (`etcd-backup-<name>`, owned by it),
the Job's Pod, the control plane and etcd's StatefulSet. With no Job yet the request is
checked (decide.py) and the Job made, with a copy of the credentials Secret beside it;
while it runs the copy is kept; once it is over the HostedCluster's
status.lastSuccessfulEtcdBackupURL is written (under a field manager of its own, so the
HostedCluster controller's applies keep it), then the backup's status, then the Job is
deleted with its Pod and the copy. A restart between any two of these steps repeats the
step, never the backup: a Job is never made for a backup whose status is terminal, and
never deleted before its outcome is recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.codecs import from_dict
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod, Secret
from lightkube.types import CascadeType

from hcp.api import HCPEtcdBackup, HostedCluster, HostedControlPlane
from hcp.api.names import CLUSTER_ANNOTATION, HOSTED_CLUSTER_UID_LABEL
from hcp.api.parse import parse
from hcp.api.v1beta1.etcdbackup import BACKUP_COMPLETED, BACKUP_IN_PROGRESS_REASON
from hcp.backup.credentials import CredentialsError, decode_secret_data, parse_credentials
from hcp.kube.apply import apply, apply_status
from hcp.kube.conditions import conditions_of, find_condition, set_condition
from hcp.kube.controller import Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict, make_key, split_key
from hcp.operator.etcdbackup import decide
from hcp.operator.etcdbackup.decide import Verdict
from hcp.operator.etcdbackup.job import BACKUP_LABEL, job_name, render_credentials_copy, render_job
from hcp.operator.etcdbackup.outcome import JobState, job_outcome
from hcp.release import ReleaseError
from hcp.release.resolver import Releases

log = logging.getLogger(__name__)

FIELD_MANAGER = "hcp-etcd-backup"
"""The field manager of the HostedCluster's status.lastSuccessfulEtcdBackupURL, which this controller alone writes."""
ETCD_STATEFULSET = "etcd"
JOB_UID_LABEL = "batch.kubernetes.io/controller-uid"


def owned_by(obj: Any, uid: str) -> bool:
    return any(ref.uid == uid for ref in obj.metadata.ownerReferences or ())


def _finished(job: Any) -> bool:
    conditions = (job.status.conditions if job.status else None) or ()
    return any(c.status == "True" and c.type in ("Complete", "Failed") for c in conditions)


def backup_keys(backups: Informer):
    """The backups of the namespace of an etcd StatefulSet: its readiness decides whether they may start."""

    def keys(obj: Any) -> list[str]:
        if obj.metadata.name != ETCD_STATEFULSET:
            return []
        return [make_key(b.metadata.namespace, b.metadata.name) for b in backups.list(obj.metadata.namespace)]

    return keys


class EtcdBackupController:
    def __init__(self, client: AsyncClient, releases: Releases, events: EventRecorder, *, backups: Informer,
                 jobs: Informer, control_planes: Informer, clusters: Informer, statefulsets: Informer,
                 operator_namespace: str, operator_image: str):
        self.client = client
        self.releases = releases
        self.events = events
        self.backups = backups
        self.jobs = jobs
        self.control_planes = control_planes
        self.clusters = clusters
        self.statefulsets = statefulsets
        self.operator_namespace = operator_namespace
        self.operator_image = operator_image

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.backups.get(namespace, name)
        if live is None or live.metadata.deletionTimestamp:
            return None  # its Job and the copy go with it (owner references)
        uid = live.metadata.uid
        conditions = conditions_of(live)
        job = self.jobs.get(namespace, job_name(name))
        ours = job is not None and owned_by(job, uid)
        if decide.is_terminal(conditions):
            if ours:
                await self._delete_job(job)
            return None

        backup, invalid = parse(HCPEtcdBackup, as_dict(live))
        if backup is None:
            verdict = decide.failed(f"the HCPEtcdBackup is invalid: {invalid}")
        elif job is not None and not ours:
            verdict = decide.waiting_for_old_job(job.metadata.name)
        elif ours:
            verdict = await self._follow(live, backup, job)
        else:
            verdict = await self._start(live, backup)
        await self._report(live, conditions, verdict)
        if verdict.terminal and ours:
            await self._delete_job(job)
        return Result(requeue_after=verdict.requeue_after) if verdict.requeue_after else None

    # --- a Job exists ------------------------------------------------------------------------

    async def _follow(self, live: Any, backup: HCPEtcdBackup, job: Any) -> Verdict:
        """The status the backup's Job gives it; the HostedCluster records a success first."""
        pods = []
        if _finished(job):
            pods = [as_dict(pod) async for pod in self.client.list(
                Pod, namespace=job.metadata.namespace, labels={JOB_UID_LABEL: job.metadata.uid})]
        outcome = job_outcome(as_dict(job), pods)
        if outcome.state == JobState.RUNNING:
            # Kept while the Job runs: a restart between making the Job and its copy must not leave the pod waiting.
            source = await self._credentials_secret(backup)
            if source is not None:
                await apply(self.client, render_credentials_copy(as_dict(job), as_dict(source)))
        verdict = decide.from_outcome(outcome, job.metadata.name)
        if verdict.snapshot_url:
            recorded = await self._record_on_hosted_cluster(live.metadata.namespace, verdict.snapshot_url)
            if not recorded:
                verdict = Verdict(verdict.status, verdict.reason,
                                  verdict.message + " (no HostedCluster of hcp's to record it on)",
                                  snapshot_url=verdict.snapshot_url)
        return verdict

    async def _record_on_hosted_cluster(self, namespace: str, url: str) -> bool:
        """status.lastSuccessfulEtcdBackupURL of the HostedCluster whose control plane this is (only hcp's)."""
        hcp = self._control_plane(namespace)
        if hcp is None:
            return False
        annotation = (hcp.metadata.annotations or {}).get(CLUSTER_ANNOTATION, "")
        cluster_namespace, _, cluster_name = annotation.partition("/")
        cluster = self.clusters.get(cluster_namespace, cluster_name) if cluster_name else None
        if cluster is None or cluster.metadata.uid != (hcp.metadata.labels or {}).get(HOSTED_CLUSTER_UID_LABEL):
            return False
        await apply_status(self.client, HostedCluster, cluster_name, cluster_namespace,
                           {"lastSuccessfulEtcdBackupURL": url}, field_manager=FIELD_MANAGER)
        return True

    async def _delete_job(self, job: Any) -> None:
        """The Job, its Pod (and the snapshot's volume) and the credentials copy, all in the background."""
        try:
            await self.client.delete(Job, job.metadata.name, namespace=job.metadata.namespace,
                                     cascade=CascadeType.BACKGROUND)
        except ApiError as error:
            if error.status.code != 404:
                raise

    # --- no Job yet --------------------------------------------------------------------------

    def _control_plane(self, namespace: str) -> HostedControlPlane | None:
        """The namespace's HostedControlPlane (the first by name, as HyperShift takes the first), or None."""
        for live in sorted(self.control_planes.list(namespace), key=lambda obj: obj.metadata.name):
            hcp, _ = parse(HostedControlPlane, as_dict(live))
            if hcp is not None:
                return hcp
        return None

    async def _start(self, live: Any, backup: HCPEtcdBackup) -> Verdict:
        namespace = live.metadata.namespace
        hcp = self._control_plane(namespace)
        etcd = self.statefulsets.get(namespace, ETCD_STATEFULSET)
        refused = decide.check_control_plane(namespace, hcp, as_dict(etcd) if etcd is not None else None)
        if refused is not None:
            return refused
        source = await self._credentials_secret(backup)
        refused = decide.check_request(backup, active_job=await self._active_job(namespace, live.metadata.uid),
                                       credentials_problem=self._credentials_problem(backup, source),
                                       operator_image=self.operator_image)
        if refused is not None:
            return refused
        try:
            release = await self.releases.resolve(hcp.spec.control_plane_release_image or hcp.spec.release_image)
            etcd_image = release.component("etcd")
        except ReleaseError as error:
            return Verdict(False, BACKUP_IN_PROGRESS_REASON, f"Waiting for the release image: {error}",
                           requeue_after=30.0)
        manifest = render_job(backup, hcp, backup_uid=live.metadata.uid, etcd_image=etcd_image,
                              operator_image=self.operator_image)
        try:
            created = await self.client.create(from_dict(manifest))
        except ApiError as error:
            if error.status.code == 409:
                return Verdict(False, BACKUP_IN_PROGRESS_REASON, "Backup Job being created", requeue_after=1.0)
            if error.status.code in (400, 403, 422):
                return decide.failed(f"the backup Job was refused: {error.status.message}")
            raise
        await apply(self.client, render_credentials_copy(as_dict(created), as_dict(source)))
        await self.events.record(live, NORMAL, "BackupStarted",
                                 f"Job {created.metadata.name} takes a snapshot of etcd in {namespace}")
        return decide.in_progress(created.metadata.name)

    async def _credentials_secret(self, backup: HCPEtcdBackup) -> Any | None:
        s3 = backup.spec.storage.s3
        if s3 is None:
            return None
        try:
            return await self.client.get(Secret, s3.credentials.name, namespace=self.operator_namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise

    def _credentials_problem(self, backup: HCPEtcdBackup, source: Any | None) -> str:
        s3 = backup.spec.storage.s3
        if s3 is None:
            return ""
        where = f"credential Secret {s3.credentials.name!r} in namespace {self.operator_namespace!r}"
        if source is None:
            return f"credential Secret {s3.credentials.name!r} not found in namespace {self.operator_namespace!r}"
        try:
            parse_credentials(decode_secret_data(source.data), where=where)
        except CredentialsError as error:
            return str(error)
        return ""

    async def _active_job(self, namespace: str, uid: str) -> str | None:
        """Another backup's unfinished Job in the namespace, read from the API server (not the cache), so
        that a Job made an instant ago by the previous pass counts."""
        async for job in self.client.list(Job, namespace=namespace, labels={BACKUP_LABEL: None}):
            if not _finished(job) and not owned_by(job, uid):
                return job.metadata.name
        return None

    # --- status ------------------------------------------------------------------------------

    async def _report(self, live: Any, conditions: list, verdict: Verdict) -> None:
        previous = find_condition(conditions, BACKUP_COMPLETED)
        updated = set_condition(conditions, BACKUP_COMPLETED, "True" if verdict.status else "False",
                                verdict.reason, verdict.message, live.metadata.generation)
        status: dict[str, Any] = {"conditions": [as_dict(c) for c in updated]}
        url = verdict.snapshot_url or (as_dict(live).get("status") or {}).get("snapshotURL")
        if url:
            status["snapshotURL"] = url
        await apply_status(self.client, HCPEtcdBackup, live.metadata.name, live.metadata.namespace, status)
        if verdict.terminal and (previous is None or previous.reason != verdict.reason):
            await self.events.record(live, NORMAL if verdict.status else WARNING, verdict.reason, verdict.message)
