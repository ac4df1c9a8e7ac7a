"""Conditions follow Kubernetes conventions: lastTransitionTime moves only when status changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hcp.api.base import to_dict
from hcp.api.meta import Condition, ConditionStatus
from hcp.kube.conditions import find_condition, is_true, set_condition

T0 = datetime(2025, 1, 1, 10, 0, 0, tzinfo=UTC)
T1 = datetime(2025, 1, 1, 11, 0, 0, tzinfo=UTC)


def test_a_new_condition_is_appended_with_the_current_time():
    conditions = set_condition([], "Available", "False", "WaitingForEtcd", "etcd is starting", 3, now=T0)
    assert conditions == [
        Condition(type="Available", status=ConditionStatus.FALSE, reason="WaitingForEtcd",
                  message="etcd is starting", observed_generation=3, last_transition_time=T0)
    ]


def test_the_default_time_is_now_in_seconds():
    before = datetime.now(UTC).replace(microsecond=0)
    [condition] = set_condition(None, "Available", "True", "AsExpected", "", None)
    assert condition.last_transition_time.microsecond == 0
    assert before <= condition.last_transition_time <= datetime.now(UTC)


def test_same_status_keeps_the_transition_time_but_updates_reason_message_and_generation():
    first = set_condition([], "Available", "False", "WaitingForEtcd", "etcd is starting", 1, now=T0)
    second = set_condition(first, "Available", "False", "WaitingForAPIServer", "kube-apiserver is starting", 2, now=T1)
    [condition] = second
    assert condition.last_transition_time == T0
    assert (condition.reason, condition.message, condition.observed_generation) == (
        "WaitingForAPIServer", "kube-apiserver is starting", 2)


def test_a_status_change_moves_the_transition_time():
    first = set_condition([], "Available", "False", "WaitingForEtcd", "", 1, now=T0)
    [condition] = set_condition(first, "Available", ConditionStatus.TRUE, "AsExpected", "", 1, now=T1)
    assert condition.status == ConditionStatus.TRUE
    assert condition.last_transition_time == T1


def test_setting_an_unchanged_condition_is_a_no_op():
    first = set_condition([], "Available", "True", "AsExpected", "ok", 1, now=T0)
    assert set_condition(first, "Available", "True", "AsExpected", "ok", 1, now=T1) == first


def test_conditions_read_back_from_the_server_do_not_churn():
    """A pass over conditions parsed from the API yields the same serialized status."""
    served = [to_dict(c) for c in set_condition([], "Available", "True", "AsExpected", "ok", 1, now=T0)]
    parsed = [Condition.model_validate(c) for c in served]
    again = set_condition(parsed, "Available", "True", "AsExpected", "ok", 1, now=T1)
    assert [to_dict(c) for c in again] == served
    assert served[0]["lastTransitionTime"] == "2025-01-01T10:00:00Z"


def test_order_is_stable_and_the_input_is_not_modified():
    conditions = set_condition([], "Available", "True", "AsExpected", "", 1, now=T0)
    conditions = set_condition(conditions, "Degraded", "False", "AsExpected", "", 1, now=T0)
    conditions = set_condition(conditions, "Progressing", "False", "AsExpected", "", 1, now=T0)
    snapshot = list(conditions)
    updated = set_condition(conditions, "Degraded", "True", "EtcdQuorumLost", "2 of 3 members down", 1, now=T1)
    assert [c.type for c in updated] == ["Available", "Degraded", "Progressing"]
    assert conditions == snapshot
    assert find_condition(conditions, "Degraded").status == ConditionStatus.FALSE


@pytest.mark.parametrize("reason", ["", "asExpected", "As Expected", "As_Expected", "As-Expected"])
def test_reason_must_be_camel_case(reason):
    with pytest.raises(ValueError, match="CamelCase"):
        set_condition([], "Available", "True", reason, "", 1)


def test_find_condition_and_is_true():
    conditions = set_condition([], "Available", "True", "AsExpected", "", 1, now=T0)
    conditions = set_condition(conditions, "Degraded", "False", "AsExpected", "", 1, now=T0)
    assert find_condition(conditions, "Available").reason == "AsExpected"
    assert find_condition(conditions, "Missing") is None
    assert find_condition(None, "Available") is None
    assert is_true(conditions, "Available")
    assert not is_true(conditions, "Degraded")
    assert not is_true(conditions, "Missing")
    assert not is_true(None, "Available")
