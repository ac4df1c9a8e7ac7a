"""Scheduled backups' decisions: when a run is due, what is pruned, what the condition says."""

import datetime as dt

import pytest

from hcp.operator.etcdbackup import schedule as sched
from hcp.operator.etcdbackup.schedule import Backup, Schedule, ScheduleError

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def done(slot: str, reason: str = "BackupSucceeded") -> Backup:
    when = at(slot)
    return Backup(sched.backup_name("demo", when), when, reason,
                  f"s3://hcp-backups/clusters-demo/{int(when.timestamp())}.db" if reason == "BackupSucceeded" else "")


EVERY_6H = Schedule("0 */6 * * *", keep=2)


def test_annotations_make_a_schedule_with_defaults():
    assert sched.parse_schedule({}) is None
    assert sched.parse_schedule({sched.SCHEDULE_ANNOTATION: "0 */6 * * *"}) == Schedule("0 */6 * * *")
    full = sched.parse_schedule({sched.SCHEDULE_ANNOTATION: "30 2 * * 1", sched.KEEP_ANNOTATION: "3",
                                 sched.BUCKET_ANNOTATION: "b-1", sched.REGION_ANNOTATION: "eu-west-1",
                                 sched.CREDENTIALS_ANNOTATION: "aws"})
    assert full == Schedule("30 2 * * 1", 3, "b-1", "eu-west-1", "aws")


@pytest.mark.parametrize("annotations", [
    {sched.SCHEDULE_ANNOTATION: "every day"},
    {sched.SCHEDULE_ANNOTATION: "61 * * * *"},
    {sched.SCHEDULE_ANNOTATION: "* * * * * *"},
    {sched.SCHEDULE_ANNOTATION: "0 * * * *", sched.KEEP_ANNOTATION: "0"},
    {sched.SCHEDULE_ANNOTATION: "0 * * * *", sched.KEEP_ANNOTATION: "seven"},
])
def test_bad_annotations_say_which(annotations):
    with pytest.raises(ScheduleError, match="hcp.io/etcd-backup-"):
        sched.parse_schedule(annotations)


def test_next_run():
    assert sched.next_run("0 */6 * * *", at("2026-12-06T06:00:00"), at("2026-12-06T07:00:00")) == \
        at("2026-12-06T12:00:00")
    # no run yet: the latest slot up to now, so the first backup is taken at once
    assert sched.next_run("0 */6 * * *", None, at("2026-12-06T07:00:00")) == at("2026-12-06T06:00:00")
    assert sched.next_run("0 */6 * * *", None, at("2026-12-06T06:00:00")) == at("2026-12-06T06:00:00")


def test_a_first_backup_is_made_at_once_named_for_its_slot():
    plan = sched.plan("demo", EVERY_6H, [], at("2026-12-06T07:13:00"))
    assert plan.create == "demo-202612060600" and plan.status and plan.reason == "AsExpected"


def test_nothing_is_due_between_slots_and_the_wait_is_until_the_next():
    plan = sched.plan("demo", EVERY_6H, [done("2026-12-06T06:00:00")], at("2026-12-06T07:00:00"))
    assert plan.create is None and plan.status
    assert plan.requeue_after == sched.MAX_WAIT  # 5 h away: an hour at most
    plan = sched.plan("demo", EVERY_6H, [done("2026-12-06T06:00:00")], at("2026-12-06T11:59:00"))
    assert plan.requeue_after == 60.0


def test_a_due_slot_makes_one_backup_and_the_same_name_on_every_pass():
    backups = [done("2026-12-06T06:00:00")]
    first = sched.plan("demo", EVERY_6H, backups, at("2026-12-06T12:00:30"))
    again = sched.plan("demo", EVERY_6H, backups, at("2026-12-06T12:01:00"))
    assert first.create == again.create == "demo-202612061200"
    after = sched.plan("demo", EVERY_6H, [*backups, Backup("demo-202612061200", at("2026-12-06T12:00:00"))],
                       at("2026-12-06T12:02:00"))
    assert after.create is None and after.status  # in progress


def test_missed_runs_are_reported_and_the_latest_is_taken():
    plan = sched.plan("demo", EVERY_6H, [done("2026-12-06T00:00:00")], at("2026-12-06T19:00:00"))
    assert plan.create == "demo-202612061800"
    assert not plan.status and plan.reason == "ScheduledBackupMissed" and "2 scheduled run(s)" in plan.message


def test_a_run_still_in_progress_when_the_next_is_due_is_a_missed_run():
    running = Backup("demo-202612060600", at("2026-12-06T06:00:00"))
    plan = sched.plan("demo", EVERY_6H, [running], at("2026-12-06T12:00:10"))
    assert plan.create is None and plan.reason == "ScheduledBackupMissed"


def test_a_failed_last_run_is_a_false_condition_until_the_next_succeeds():
    plan = sched.plan("demo", EVERY_6H, [done("2026-12-06T06:00:00", "BackupFailed")], at("2026-12-06T07:00:00"))
    assert not plan.status and plan.reason == "ScheduledBackupFailed" and "BackupFailed" in plan.message
    plan = sched.plan("demo", EVERY_6H, [done("2026-12-06T06:00:00", "BackupFailed"), done("2026-12-06T12:00:00")],
                      at("2026-12-06T13:00:00"))
    assert plan.status


def test_to_prune_keeps_the_newest_successes_and_failures_and_all_running():
    backups = [done(f"2026-12-0{d}T00:00:00") for d in range(1, 6)]
    backups += [done("2026-12-06T00:00:00", "BackupFailed"), done("2026-12-06T06:00:00", "BackupRejected"),
                done("2026-12-06T12:00:00", "BackupFailed"), Backup("demo-202612061800", at("2026-12-06T18:00:00"))]
    pruned = {b.name for b in sched.to_prune(backups, 2)}
    assert pruned == {"demo-202612010000", "demo-202612020000", "demo-202612030000", "demo-202612060000"}
    assert sched.to_prune(backups[:2], 2) == []


def test_backups_are_read_from_the_api_with_their_slot_from_the_name():
    obj = {"metadata": {"name": "demo-202612060600", "creationTimestamp": "2026-12-06T06:00:04Z"},
           "status": {"snapshotURL": "s3://hcp-backups/clusters-demo/1.db",
                      "conditions": [{"type": "BackupCompleted", "status": "True", "reason": "BackupSucceeded"}]}}
    backup = sched.backup_from("demo", obj)
    assert backup.slot == at("2026-12-06T06:00:00") and backup.succeeded
    other = sched.backup_from("demo", {"metadata": {"name": "by-hand", "creationTimestamp": "2026-12-06T06:00:04Z"}})
    assert other.slot == at("2026-12-06T06:00:04") and other.running
    assert sched.parse_snapshot_url("s3://hcp-backups/clusters-demo/1.db") == ("hcp-backups", "clusters-demo/1.db")
