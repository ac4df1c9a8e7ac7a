"""What an HCPEtcdBackup's status says, from what is observed (pure).

HyperShift's rules (hypershift-operator/controllers/etcdbackup/reconciler.go), with the
reasons of its API:

- a backup whose BackupCompleted carries a terminal reason (BackupSucceeded,
  BackupFailed, BackupRejected) is over: it is never taken again;
- while its Job exists, its status is the Job's outcome: BackupInProgress, then
  BackupSucceeded with the snapshot's URL, or BackupFailed with the reason;
- before a Job is made, the request is checked in HyperShift's order: no
  HostedControlPlane in the namespace is BackupFailed; etcd not fully ready is
  EtcdUnhealthy, which is not terminal (checked again every 10 s, the backup starts
  once etcd is ready); another backup's Job still running is BackupRejected; a missing
  or unusable credentials Secret is BackupFailed.

hcp differs in one point of order: a Job that exists is followed to its end even if etcd
turns unhealthy meanwhile (HyperShift checks etcd first and reports EtcdUnhealthy over a
finished Job's result until etcd recovers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hcp.api import HCPEtcdBackup, HostedControlPlane
from hcp.api.meta import Condition
from hcp.api.names import HOSTED_CLUSTER_UID_LABEL
from hcp.api.v1beta1.etcd import EtcdManagementType
from hcp.api.v1beta1.etcdbackup import (
    BACKUP_COMPLETED,
    BACKUP_FAILED_REASON,
    BACKUP_IN_PROGRESS_REASON,
    BACKUP_REJECTED_REASON,
    BACKUP_SUCCEEDED_REASON,
    ETCD_UNHEALTHY_REASON,
    TERMINAL_REASONS,
)
from hcp.backup.storage import StorageError, validate_key
from hcp.kube.conditions import find_condition
from hcp.operator.etcdbackup.outcome import JobState, Outcome

RECHECK = 10.0
"""Seconds between looks at a backup that waits (etcd unhealthy, Job running): HyperShift's requeue interval."""


@dataclass(frozen=True)
class Verdict:
    """The BackupCompleted condition to report, the snapshot's URL once stored, and when to look again."""

    status: bool
    reason: str
    message: str
    snapshot_url: str | None = None
    requeue_after: float | None = None

    @property
    def terminal(self) -> bool:
        return self.reason in TERMINAL_REASONS


def is_terminal(conditions: list[Condition] | None) -> bool:
    """HyperShift's isTerminal: the backup succeeded, failed or was rejected, and is over."""
    condition = find_condition(conditions, BACKUP_COMPLETED)
    return condition is not None and (condition.status == "True" or condition.reason in TERMINAL_REASONS)


def failed(message: str) -> Verdict:
    return Verdict(False, BACKUP_FAILED_REASON, message)


def in_progress(job: str) -> Verdict:
    return Verdict(False, BACKUP_IN_PROGRESS_REASON, f"Backup Job {job} created, waiting for completion",
                   requeue_after=RECHECK)


def from_outcome(outcome: Outcome, job: str) -> Verdict:
    """The status a backup's Job gives it."""
    if outcome.state == JobState.SUCCEEDED and outcome.report is not None:
        return Verdict(True, BACKUP_SUCCEEDED_REASON, f"Backup completed successfully: {outcome.report.describe()}",
                       snapshot_url=outcome.report.snapshot_url)
    if outcome.state == JobState.FAILED:
        return failed(f"Backup Job {job} failed: {outcome.error}")
    return in_progress(job)


def waiting_for_old_job(job: str) -> Verdict:
    """A Job of the same name serves an earlier HCPEtcdBackup that was deleted; the garbage collector removes it."""
    return Verdict(False, BACKUP_IN_PROGRESS_REASON,
                   f"Waiting for Job {job} of an earlier HCPEtcdBackup of this name to be deleted",
                   requeue_after=2.0)


def etcd_problem(statefulset: dict[str, Any] | None) -> str:
    """Why etcd cannot be backed up now, in HyperShift's words; "" when all its replicas are ready."""
    if statefulset is None:
        return "etcd StatefulSet not found"
    desired = (statefulset.get("spec") or {}).get("replicas")
    desired = 1 if desired is None else desired
    ready = (statefulset.get("status") or {}).get("readyReplicas") or 0
    if ready < desired:
        return f"etcd StatefulSet not fully ready: {ready}/{desired} replicas ready"
    return ""


def check_control_plane(namespace: str, hcp: HostedControlPlane | None,
                        etcd: dict[str, Any] | None) -> Verdict | None:
    """The refusal of a backup of this namespace's control plane as it is now, or None: it may be taken."""
    if hcp is None:
        return failed(f"HostedControlPlane not found in namespace {namespace}")
    if not (hcp.metadata.labels or {}).get(HOSTED_CLUSTER_UID_LABEL):
        return failed(f"HostedControlPlane {hcp.metadata.name} in namespace {namespace} was not made by hcp for a "
                      f"HostedCluster (it has no {HOSTED_CLUSTER_UID_LABEL} label); hcp backs up only its own")
    if hcp.spec.etcd.management_type != EtcdManagementType.MANAGED:
        return failed(f"HostedControlPlane {hcp.metadata.name} has etcd managementType "
                      f"{hcp.spec.etcd.management_type}; hcp backs up only the etcd it runs (Managed)")
    problem = etcd_problem(etcd)
    if problem:
        return Verdict(False, ETCD_UNHEALTHY_REASON, problem, requeue_after=RECHECK)
    return None


def check_request(backup: HCPEtcdBackup, *, active_job: str | None, credentials_problem: str,
                  operator_image: str) -> Verdict | None:
    """The refusal of the request itself, or None: the Job may be made."""
    if active_job:
        return Verdict(False, BACKUP_REJECTED_REASON,
                       f"rejected: backup Job {active_job} is already running for this HCP; delete this "
                       "HCPEtcdBackup and retry after the active backup completes")
    if credentials_problem:
        return failed(credentials_problem)
    s3 = backup.spec.storage.s3
    if s3 is None:
        return failed("spec.storage has no s3: hcp stores backups on S3 only")
    prefix = s3.key_prefix.strip("/")
    try:
        validate_key(prefix, "keyPrefix")
    except StorageError as error:
        return failed(f"{error}; hcp stores the snapshot as <keyPrefix>/<unix time>.db")
    if not operator_image:
        return failed("the operator does not know its own image (env OPERATOR_IMAGE, set by `hcp install`), "
                      "which uploads the snapshot; run the operator from its Deployment")
    return None
