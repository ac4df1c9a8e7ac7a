"""What a backup Job and its Pod say happened (pure): running, stored with a report, or failed with a reason.

A Job is finished when it has condition Complete or Failed. The upload container's
termination message holds the report of what was stored (hcp.backup.upload); a failure
is told by the first container that exited non-zero (its termination message, whose
last line is the error: the upload's own line, or etcdctl's and etcdutl's `Error: ...`
through FallbackToLogsOnError), else by a container that never started (its waiting
reason, e.g. ImagePullBackOff), else by the Job's own condition (e.g. DeadlineExceeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from hcp.backup.upload import SnapshotReport
from hcp.operator.etcdbackup.job import UPLOAD_CONTAINER


class JobState(Enum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class Outcome:
    state: JobState
    report: SnapshotReport | None = None
    """What the upload stored (SUCCEEDED)."""
    error: str = ""
    """Why it failed (FAILED), one line."""


def _condition(job: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") == type_ and condition.get("status") == "True":
            return condition
    return None


def _statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _failure(pods: list[dict[str, Any]]) -> str:
    for pod in pods:
        for status in _statuses(pod):
            terminated = (status.get("state") or {}).get("terminated") or {}
            if terminated and terminated.get("exitCode", 0) != 0:
                line = _last_line(terminated.get("message") or "")
                code, reason = terminated.get("exitCode"), terminated.get("reason") or "Error"
                return f"{status.get('name')}: {line or f'exited with code {code} ({reason})'}"
    for pod in pods:
        for status in _statuses(pod):
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") and waiting["reason"] not in ("PodInitializing", "ContainerCreating"):
                message = _last_line(waiting.get("message") or "")
                return f"{status.get('name')}: {waiting['reason']}" + (f": {message}" if message else "")
    return ""


def job_outcome(job: dict[str, Any], pods: list[dict[str, Any]]) -> Outcome:
    """The outcome of a backup Job (as the API serves it), from its conditions and its Pods."""
    failed = _condition(job, "Failed")
    if failed is not None:
        reason = _failure(pods) or " ".join(
            part for part in (failed.get("reason") or "", failed.get("message") or "") if part) or "the Job failed"
        return Outcome(JobState.FAILED, error=" ".join(reason.split()))
    if _condition(job, "Complete") is None:
        return Outcome(JobState.RUNNING)
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or ():
            terminated = (status.get("state") or {}).get("terminated") or {}
            if status.get("name") == UPLOAD_CONTAINER and terminated.get("exitCode") == 0:
                report = SnapshotReport.from_message(terminated.get("message") or "")
                if report is not None:
                    return Outcome(JobState.SUCCEEDED, report=report)
    return Outcome(JobState.FAILED, error="the Job completed, but its upload left no report of what it stored "
                                          "(its Pod is gone or its termination message is empty)")
