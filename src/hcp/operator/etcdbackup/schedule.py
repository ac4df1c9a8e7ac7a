"""Scheduled etcd backups with retention (issue 9, requirement 3; hcp's, HyperShift has none): the decisions (pure).

A HostedCluster asks for them with annotations (HyperShift's HostedCluster API stays as it
is, and hcp's other own knobs are annotations and labels under hcp.io/ too):

    hcp.io/etcd-backup-schedule: "0 */6 * * *"    # cron, five fields, UTC (required: turns it on)
    hcp.io/etcd-backup-keep: "7"                  # successful backups kept (default 7, 1..100)
    hcp.io/etcd-backup-bucket: hcp-backups        # default: the embedded store's bucket
    hcp.io/etcd-backup-region: us-east-1          # default us-east-1
    hcp.io/etcd-backup-credentials: NAME          # Secret in the operator's namespace (default object-store-credentials)

Each run is an ordinary HCPEtcdBackup in the control-plane namespace, named
`<cluster>-<slot as YYYYMMDDHHMM>`, labelled SCHEDULED_LABEL and annotated with the
cluster; its key prefix is the control-plane namespace. Nothing is remembered elsewhere:
the time of the last run is the newest scheduled HCPEtcdBackup's slot (its name's time,
else its creation time), so every pass decides from what it sees, and the name makes a
second creation of the same slot a conflict rather than a second backup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from croniter import CroniterBadCronError, croniter

from hcp.api.v1beta1.etcdbackup import (
    BACKUP_COMPLETED,
    BACKUP_FAILED_REASON,
    BACKUP_REJECTED_REASON,
    BACKUP_SUCCEEDED_REASON,
)

SCHEDULE_ANNOTATION = "hcp.io/etcd-backup-schedule"
KEEP_ANNOTATION = "hcp.io/etcd-backup-keep"
BUCKET_ANNOTATION = "hcp.io/etcd-backup-bucket"
REGION_ANNOTATION = "hcp.io/etcd-backup-region"
CREDENTIALS_ANNOTATION = "hcp.io/etcd-backup-credentials"
SCHEDULED_LABEL = "hcp.io/scheduled-etcd-backup"
"""On the HCPEtcdBackups a schedule made; its value is the HostedCluster's name. Only these are pruned."""

DEFAULT_KEEP = 7
MAX_KEEP = 100
DEFAULT_BUCKET = "hcp-backups"
DEFAULT_REGION = "us-east-1"
DEFAULT_CREDENTIALS = "object-store-credentials"

CONDITION = "EtcdBackupScheduled"
"""HostedCluster condition: True while runs happen as scheduled, False with a reason when not."""
AS_EXPECTED = "AsExpected"
INVALID_SCHEDULE = "InvalidSchedule"
BACKUP_FAILED = "ScheduledBackupFailed"
BACKUP_MISSED = "ScheduledBackupMissed"
PRUNE_FAILED = "PruneFailed"

SLOT_FORMAT = "%Y%m%d%H%M"
MAX_WAIT = 3600.0
"""Longest time between passes: a clock that jumps, or a schedule edited meanwhile, is seen within an hour."""


@dataclass(frozen=True)
class Schedule:
    cron: str
    keep: int = DEFAULT_KEEP
    bucket: str = DEFAULT_BUCKET
    region: str = DEFAULT_REGION
    credentials: str = DEFAULT_CREDENTIALS


class ScheduleError(ValueError):
    """The annotations do not make a schedule; the message says which and why."""


def parse_schedule(annotations: dict[str, str] | None) -> Schedule | None:
    """The schedule the HostedCluster's annotations ask for, None without one, or a ScheduleError."""
    annotations = annotations or {}
    cron = (annotations.get(SCHEDULE_ANNOTATION) or "").strip()
    if not cron:
        return None
    if len(cron.split()) != 5:
        raise ScheduleError(f"{SCHEDULE_ANNOTATION} {cron!r}: want five cron fields (minute hour day month weekday)")
    try:
        croniter(cron)
    except (CroniterBadCronError, ValueError, KeyError) as error:
        raise ScheduleError(f"{SCHEDULE_ANNOTATION} {cron!r}: not a cron schedule: {error}") from None
    keep_text = (annotations.get(KEEP_ANNOTATION) or str(DEFAULT_KEEP)).strip()
    if not keep_text.isdigit() or not 1 <= int(keep_text) <= MAX_KEEP:
        raise ScheduleError(f"{KEEP_ANNOTATION} {keep_text!r}: want a whole number from 1 to {MAX_KEEP}")
    return Schedule(cron, int(keep_text),
                    (annotations.get(BUCKET_ANNOTATION) or DEFAULT_BUCKET).strip(),
                    (annotations.get(REGION_ANNOTATION) or DEFAULT_REGION).strip(),
                    (annotations.get(CREDENTIALS_ANNOTATION) or DEFAULT_CREDENTIALS).strip())


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def next_run(cron: str, last: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When the next backup is due: the first slot after `last`; with no last run, the latest slot up to
    `now` (a schedule that is set takes its first backup at once). A time at or before `now` is due now."""
    now = _utc(now)
    if last is None:
        return croniter(cron, now + dt.timedelta(seconds=1)).get_prev(dt.datetime)
    return croniter(cron, _utc(last)).get_next(dt.datetime)


def latest_slot(cron: str, now: dt.datetime) -> dt.datetime:
    """The newest slot at or before `now`."""
    return croniter(cron, _utc(now) + dt.timedelta(seconds=1)).get_prev(dt.datetime)


@dataclass(frozen=True)
class Backup:
    """What a scheduled HCPEtcdBackup says, for the decisions."""

    name: str
    slot: dt.datetime
    reason: str = ""
    """BackupCompleted's reason; empty while it has none."""
    snapshot_url: str = ""
    deleting: bool = False

    @property
    def succeeded(self) -> bool:
        return self.reason == BACKUP_SUCCEEDED_REASON

    @property
    def failed(self) -> bool:
        return self.reason in (BACKUP_FAILED_REASON, BACKUP_REJECTED_REASON)

    @property
    def running(self) -> bool:
        return not (self.succeeded or self.failed)


def backup_name(cluster: str, slot: dt.datetime) -> str:
    return f"{cluster}-{_utc(slot).strftime(SLOT_FORMAT)}"


def slot_of(cluster: str, name: str, created: dt.datetime) -> dt.datetime:
    """The slot a scheduled backup was made for: its name's time, else its creation time."""
    suffix = name[len(cluster) + 1:] if name.startswith(cluster + "-") else ""
    try:
        return dt.datetime.strptime(suffix, SLOT_FORMAT).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return _utc(created)


def backup_from(cluster: str, obj: dict[str, Any]) -> Backup:
    """A Backup from an HCPEtcdBackup as the API serves it."""
    metadata = obj.get("metadata") or {}
    created = metadata.get("creationTimestamp") or "1970-01-01T00:00:00Z"
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    status = obj.get("status") or {}
    reason = next((c.get("reason", "") for c in status.get("conditions") or () if c.get("type") == BACKUP_COMPLETED),
                  "")
    return Backup(metadata.get("name", ""), slot_of(cluster, metadata.get("name", ""), created), reason,
                  status.get("snapshotURL") or "", bool(metadata.get("deletionTimestamp")))


def to_prune(backups: list[Backup], keep: int) -> list[Backup]:
    """The scheduled backups to delete: successful ones beyond the `keep` newest, and failed ones beyond the
    `keep` newest failures (so a schedule that keeps failing does not pile up objects). Running ones stay."""
    newest = sorted((b for b in backups if not b.deleting), key=lambda b: b.slot, reverse=True)
    return [b for b in newest if b.succeeded][keep:] + [b for b in newest if b.failed][keep:]


@dataclass(frozen=True)
class Plan:
    create: str | None
    """The name of the HCPEtcdBackup to create now, if one is due."""
    slot: dt.datetime | None
    prune: list[Backup] = field(default_factory=list)
    status: bool = True
    reason: str = AS_EXPECTED
    message: str = ""
    requeue_after: float = MAX_WAIT


def plan(cluster: str, schedule: Schedule, backups: list[Backup], now: dt.datetime) -> Plan:
    """What to do for a HostedCluster with `schedule`, given its scheduled backups, at `now`."""
    now = _utc(now)
    ordered = sorted(backups, key=lambda b: b.slot, reverse=True)
    last = ordered[0] if ordered else None
    prune = to_prune(backups, schedule.keep)
    slot = latest_slot(schedule.cron, now)
    due = last is None or slot > last.slot
    upcoming = croniter(schedule.cron, now).get_next(dt.datetime)
    wait = min(max((upcoming - now).total_seconds(), 1.0), MAX_WAIT)

    if last is not None and last.running:
        # One at a time: the HCPEtcdBackup controller would reject a second. Its outcome is awaited.
        reason, message, ok = AS_EXPECTED, f"Backup {last.name} is in progress", True
        if due:
            reason, ok = BACKUP_MISSED, False
            message = (f"The run due at {slot:%Y-%m-%dT%H:%MZ} waits for backup {last.name}, "
                       "still in progress")
        return Plan(None, None, prune, ok, reason, message, requeue_after=min(wait, 30.0))
    if due:
        missed = 0
        if last is not None:
            missed = _count_slots(schedule.cron, last.slot, slot) - 1
        message = f"Backup {backup_name(cluster, slot)} started for the run due at {slot:%Y-%m-%dT%H:%MZ}"
        if missed > 0:
            return Plan(backup_name(cluster, slot), slot, prune, False, BACKUP_MISSED,
                        f"{missed} scheduled run(s) between {last.slot:%Y-%m-%dT%H:%MZ} and "
                        f"{slot:%Y-%m-%dT%H:%MZ} were missed (the operator was not running); {message}",
                        requeue_after=10.0)
        return Plan(backup_name(cluster, slot), slot, prune, True, AS_EXPECTED, message, requeue_after=10.0)
    assert last is not None
    if last.failed:
        return Plan(None, None, prune, False, BACKUP_FAILED,
                    f"The last scheduled backup {last.name} ended with {last.reason}; next run at "
                    f"{upcoming:%Y-%m-%dT%H:%MZ}", requeue_after=wait)
    return Plan(None, None, prune, True, AS_EXPECTED,
                f"Last backup {last.name} succeeded; next run at {upcoming:%Y-%m-%dT%H:%MZ}, "
                f"keeping {schedule.keep}", requeue_after=wait)


def _count_slots(cron: str, after: dt.datetime, until: dt.datetime, limit: int = 10_000) -> int:
    """Slots in (after, until]."""
    it = croniter(cron, _utc(after))
    count = 0
    while count < limit and it.get_next(dt.datetime) <= until:
        count += 1
    return count


def parse_snapshot_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an s3:// snapshot URL, or None."""
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url[len("s3://"):].partition("/")
    return (bucket, key) if bucket and key else None
