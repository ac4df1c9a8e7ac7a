"""What a backup's Job says happened, and the status that follows, in HyperShift's reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hcp.api.meta import Condition
from hcp.operator.etcdbackup import decide
from hcp.operator.etcdbackup.outcome import JobState, Outcome, job_outcome
from hcp.backup.upload import SnapshotReport
from tests.unit.operator.etcdbackup.objects import (
    NAMESPACE, OPERATOR_IMAGE, REPORT, backup, control_plane, job_status, pod, statefulset, terminated,
)

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "etcd-backup-nightly"}}


def job(condition: str | None, reason: str = "", message: str = "") -> dict:
    return {**JOB, "status": job_status(condition, reason, message)}


# --- outcome ---------------------------------------------------------------------------------

def test_a_job_without_a_final_condition_is_running():
    assert job_outcome(job(None), []) == Outcome(JobState.RUNNING)


def test_a_complete_job_gives_the_uploads_report():
    outcome = job_outcome(job("Complete"), [pod(init=[terminated("snapshot", 0, "{...status...}")],
                                                main=[terminated("upload", 0, REPORT)])])
    assert outcome.state == JobState.SUCCEEDED
    assert outcome.report == SnapshotReport.from_message(REPORT)
    assert outcome.report.revision == 4711


def test_a_complete_job_without_a_report_is_a_failure_that_says_so():
    outcome = job_outcome(job("Complete"), [])
    assert outcome.state == JobState.FAILED and "left no report" in outcome.error


@pytest.mark.parametrize(("pods", "error"), [
    ([pod(init=[terminated("snapshot", 1, '{"level":"info","msg":"dialing"}\nError: context deadline exceeded\n')])],
     "snapshot: Error: context deadline exceeded"),
    ([pod(init=[terminated("snapshot", 0)],
          main=[terminated("upload", 1, "cannot store the snapshot: s3://hcp-backups: the bucket does not exist")])],
     "upload: cannot store the snapshot: s3://hcp-backups: the bucket does not exist"),
    ([pod(main=[terminated("upload", 137, reason="OOMKilled")])], "upload: exited with code 137 (OOMKilled)"),
    ([pod(main=[{"name": "upload", "state": {"waiting": {"reason": "ImagePullBackOff",
                                                          "message": "Back-off pulling image"}}}])],
     "upload: ImagePullBackOff: Back-off pulling image"),
    ([], "DeadlineExceeded Job was active longer than specified deadline"),
])
def test_a_failed_job_says_why_in_one_line(pods, error):
    outcome = job_outcome(job("Failed", "DeadlineExceeded", "Job was active longer than specified deadline"), pods)
    assert outcome == Outcome(JobState.FAILED, error=error)


# --- status ----------------------------------------------------------------------------------

def condition(status: str, reason: str) -> Condition:
    return Condition(type="BackupCompleted", status=status, reason=reason, message="",
                     last_transition_time=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("conditions", "terminal"), [
    (None, False),
    ([condition("False", "BackupInProgress")], False),
    ([condition("False", "EtcdUnhealthy")], False),
    ([condition("True", "BackupSucceeded")], True),
    ([condition("False", "BackupFailed")], True),
    ([condition("False", "BackupRejected")], True),
])
def test_terminal_as_hypershift(conditions, terminal):
    assert decide.is_terminal(conditions) is terminal


def test_statuses_from_the_outcome():
    report = SnapshotReport.from_message(REPORT)
    success = decide.from_outcome(Outcome(JobState.SUCCEEDED, report=report), "etcd-backup-nightly")
    assert (success.status, success.reason, success.snapshot_url, success.terminal) == (
        True, "BackupSucceeded", "s3://hcp-backups/clusters-demo/1765000000.db", True)
    assert success.message == ("Backup completed successfully: s3://hcp-backups/clusters-demo/1765000000.db "
                               f"(4096 bytes, sha256 {'ab' * 32}, etcd revision 4711, 1033 keys)")
    failure = decide.from_outcome(Outcome(JobState.FAILED, error="upload: boom"), "etcd-backup-nightly")
    assert (failure.status, failure.reason, failure.message, failure.terminal) == (
        False, "BackupFailed", "Backup Job etcd-backup-nightly failed: upload: boom", True)
    running = decide.from_outcome(Outcome(JobState.RUNNING), "etcd-backup-nightly")
    assert (running.reason, running.message, running.requeue_after, running.terminal) == (
        "BackupInProgress", "Backup Job etcd-backup-nightly created, waiting for completion", 10.0, False)


def test_no_control_plane_is_a_failure():
    verdict = decide.check_control_plane(NAMESPACE, None, statefulset(1))
    assert (verdict.reason, verdict.message) == (
        "BackupFailed", f"HostedControlPlane not found in namespace {NAMESPACE}")


def test_only_hcps_own_managed_etcd_is_backed_up():
    assert "was not made by hcp" in decide.check_control_plane(NAMESPACE, control_plane(labelled=False),
                                                                statefulset(1)).message
    unmanaged = decide.check_control_plane(NAMESPACE, control_plane(management_type="Unmanaged"), None)
    assert unmanaged.reason == "BackupFailed" and "managementType Unmanaged" in unmanaged.message


@pytest.mark.parametrize(("etcd", "message"), [
    (None, "etcd StatefulSet not found"),
    (statefulset(ready=0), "etcd StatefulSet not fully ready: 0/1 replicas ready"),
    (statefulset(ready=2, replicas=3), "etcd StatefulSet not fully ready: 2/3 replicas ready"),
])
def test_unhealthy_etcd_refuses_the_backup_for_now(etcd, message):
    verdict = decide.check_control_plane(NAMESPACE, control_plane(), etcd)
    assert (verdict.status, verdict.reason, verdict.message) == (False, "EtcdUnhealthy", message)
    assert not verdict.terminal and verdict.requeue_after == 10.0


def test_a_ready_etcd_lets_the_backup_start():
    assert decide.check_control_plane(NAMESPACE, control_plane(), statefulset(ready=3, replicas=3)) is None


def test_the_request_checks_in_hypershifts_order():
    ok = dict(active_job=None, credentials_problem="", operator_image=OPERATOR_IMAGE)
    assert decide.check_request(backup(), **ok) is None
    rejected = decide.check_request(backup(), **{**ok, "active_job": "etcd-backup-other",
                                                 "credentials_problem": "also bad"})
    assert (rejected.reason, rejected.terminal) == ("BackupRejected", True)
    assert rejected.message.startswith("rejected: backup Job etcd-backup-other is already running for this HCP")
    missing = "credential Secret 'x' not found in namespace 'hypershift'"
    assert decide.check_request(backup(), **{**ok, "credentials_problem": missing}) == decide.failed(missing)
    assert "not a valid object key" in decide.check_request(backup(keyPrefix="a//b"), **ok).message
    assert "OPERATOR_IMAGE" in decide.check_request(backup(), **{**ok, "operator_image": ""}).message
