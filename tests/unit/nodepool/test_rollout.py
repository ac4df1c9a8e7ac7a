"""How a pool rolls its machines to a new target: Replace (RollingUpdate, OnDelete) and InPlace, step by step."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from hcp.api.v1beta1.nodepool import NodePoolManagement
from hcp.operator.nodepool.machines import DRAINING_ANNOTATION, UPDATING_ANNOTATION, MachineView
from hcp.operator.nodepool.rollout import Kind, Strategy, strategy_of
from hcp.platforms import Machine
from hcp.platforms.provider import Target
from tests.unit.nodepool.test_plan import NOW, decide, node, stamp

OLD = Target(version="1.36.4", config="old")
NEW = Target(version="1.37.1", config="new")


def machine(name: str, target: Target, *, age: timedelta = timedelta(hours=1), ready: str = "True",
            annotations: dict[str, str] | None = None, version: str | None = None) -> MachineView:
    made = Machine(name=name, created=NOW - age, node_name=name, config=target.config)
    kubelet = node(name, ready=ready, annotations=annotations)
    kubelet.status.nodeInfo = SimpleNamespace(kubeletVersion=f"v{version or target.version}")
    return MachineView(made, kubelet)


def pool(count: int, target: Target, prefix: str = "m") -> list[MachineView]:
    return [machine(f"{prefix}{i}", target, age=timedelta(hours=10 - i)) for i in range(count)]


def roll(machines: list[MachineView], strategy: Strategy, replicas: int = 3, **kwargs: Any):
    return decide(machines, replicas=replicas, target=NEW, strategy=strategy, **kwargs)


SURGE = Strategy(Kind.ROLLING_UPDATE, max_surge=1, max_unavailable=0)
UNAVAILABLE = Strategy(Kind.ROLLING_UPDATE, max_surge=0, max_unavailable=1)
IN_PLACE = Strategy(Kind.IN_PLACE, max_unavailable=1)


def management(spec: dict[str, Any]) -> NodePoolManagement:
    return NodePoolManagement.model_validate(spec)


@pytest.mark.parametrize(("spec", "desired", "expected"), [
    ({"upgradeType": "Replace"}, 3, Strategy(Kind.ROLLING_UPDATE, max_surge=1, max_unavailable=0)),
    ({"upgradeType": "Replace", "replace": {"strategy": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": "50%"}}},
     3, Strategy(Kind.ROLLING_UPDATE, max_surge=2, max_unavailable=1)),
    ({"upgradeType": "Replace", "replace": {"strategy": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}},
     3, Strategy(Kind.ROLLING_UPDATE, max_surge=0, max_unavailable=1)),
    ({"upgradeType": "Replace", "replace": {"strategy": "OnDelete"}}, 3, Strategy(Kind.ON_DELETE)),
    ({"upgradeType": "InPlace"}, 3, Strategy(Kind.IN_PLACE, max_unavailable=1)),
    ({"upgradeType": "InPlace", "inPlace": {"maxUnavailable": "50%"}}, 5, Strategy(Kind.IN_PLACE, max_unavailable=2)),
    ({"upgradeType": "InPlace", "inPlace": {"maxUnavailable": "10%"}}, 3, Strategy(Kind.IN_PLACE, max_unavailable=1)),
])
def test_strategy_follows_spec_management_with_hypershifts_defaults_and_deployment_rounding(spec, desired, expected):
    assert strategy_of(management(spec), desired) == expected


def test_machines_on_the_target_roll_nothing():
    decided = roll(pool(3, NEW), SURGE)
    assert (decided.create, decided.remove, decided.outdated) == (0, [], [])


def test_a_machine_without_a_recorded_config_is_judged_by_its_kubelet_version():
    made = Machine(name="legacy", created=NOW - timedelta(hours=1), node_name="legacy")
    kubelet = node("legacy")
    kubelet.status.nodeInfo = SimpleNamespace(kubeletVersion="v1.37.1")
    assert roll([MachineView(made, kubelet)], SURGE, replicas=1).outdated == []
    kubelet.status.nodeInfo.kubeletVersion = "v1.36.4"
    assert [m.name for m in roll([MachineView(made, kubelet)], SURGE, replicas=1).outdated] == ["legacy"]


def test_surge_one_unavailable_zero_adds_one_new_machine_before_removing_any():
    old = pool(3, OLD)
    decided = roll(old, SURGE)
    assert (decided.create, decided.remove) == (1, [])


def test_surge_waits_while_the_new_machine_is_not_ready():
    machines = [*pool(3, OLD), machine("n0", NEW, ready="False", age=timedelta(seconds=30))]
    decided = roll(machines, SURGE)
    assert (decided.create, decided.remove) == (0, [])


def test_surge_removes_the_oldest_old_machine_once_the_new_one_is_ready():
    machines = [*pool(3, OLD), machine("n0", NEW, age=timedelta(seconds=30))]
    decided = roll(machines, SURGE)
    assert decided.create == 0
    assert [m.name for m in decided.remove] == ["m0"]


def test_a_draining_old_machine_counts_against_the_surge():
    draining = machine("m0", OLD, annotations={DRAINING_ANNOTATION: stamp(NOW)})
    machines = [draining, *pool(3, OLD)[1:], machine("n0", NEW)]
    decided = roll(machines, SURGE)
    # 5 machines exist with the draining one; desired 3 + surge 1 = 4: no new machine until it is gone.
    assert decided.create == 0
    assert decided.remove == []


def test_unavailable_one_surge_zero_removes_first_then_replaces():
    decided = roll(pool(3, OLD), UNAVAILABLE)
    assert decided.create == 0
    assert [m.name for m in decided.remove] == ["m0"]
    # Once m0 is gone: two old machines left, one new one made.
    decided = roll(pool(3, OLD)[1:], UNAVAILABLE)
    assert (decided.create, decided.remove) == (1, [])


def test_no_replacement_while_the_last_old_machine_drains_with_surge_zero():
    draining = machine("m2", OLD, annotations={DRAINING_ANNOTATION: stamp(NOW)})
    machines = [machine("n0", NEW), machine("n1", NEW), draining]
    decided = roll(machines, UNAVAILABLE)
    # 3 machines with the draining one = desired 3 + surge 0: the third new one waits until m2 is gone.
    assert (decided.create, decided.remove) == (0, [])
    assert (roll(machines[:2], UNAVAILABLE).create, roll(machines[:2], UNAVAILABLE).remove) == (1, [])


def test_unavailable_one_never_takes_a_second_machine_while_a_new_one_starts():
    machines = [*pool(3, OLD)[1:], machine("n0", NEW, ready="False", age=timedelta(seconds=20))]
    decided = roll(machines, UNAVAILABLE)
    assert (decided.create, decided.remove) == (0, [])


def test_outdated_machines_that_are_not_ready_go_at_once():
    machines = [machine("m0", OLD, ready="False"), *pool(3, OLD)[1:]]
    decided = roll(machines, SURGE)
    assert [m.name for m in decided.remove] == ["m0"]


def test_the_rollout_finishes_when_every_machine_runs_the_target():
    machines = [machine("m2", OLD), *pool(3, NEW, prefix="n")]
    decided = roll(machines, SURGE)
    assert [m.name for m in decided.remove] == ["m2"]
    assert roll(pool(3, NEW, prefix="n"), SURGE).outdated == []


def test_scaling_down_mid_rollout_removes_old_machines_and_extra_new_ones():
    machines = [*pool(2, OLD), *pool(3, NEW, prefix="n")]
    decided = roll(machines, SURGE, replicas=2)
    assert sorted(m.name for m in decided.remove) == ["m0", "m1", "n2"]


def test_on_delete_rolls_nothing_but_replaces_a_deleted_machine_from_the_target():
    decided = roll(pool(3, OLD), Strategy(Kind.ON_DELETE))
    assert (decided.create, decided.remove) == (0, [])
    decided = roll(pool(2, OLD), Strategy(Kind.ON_DELETE))
    assert decided.create == 1
    assert [m.name for m in decided.outdated] == ["m0", "m1"]


def test_scale_down_without_a_rollout_strategy_prefers_outdated_machines():
    machines = [*pool(2, NEW, prefix="n"), machine("m0", OLD, age=timedelta(minutes=1))]
    decided = roll(machines, Strategy(Kind.ON_DELETE), replicas=2)
    assert [m.name for m in decided.remove] == ["m0"]


def test_in_place_updates_at_most_max_unavailable_machines_at_once():
    decided = roll(pool(3, OLD), IN_PLACE)
    assert (decided.create, decided.remove) == (0, [])
    assert [m.name for m in decided.update] == ["m0"]
    two = Strategy(Kind.IN_PLACE, max_unavailable=2)
    assert [m.name for m in roll(pool(3, OLD), two).update] == ["m0", "m1"]


def test_in_place_waits_for_the_machine_being_updated():
    updating = machine("m0", OLD, annotations={UPDATING_ANNOTATION: stamp(NOW)})
    decided = roll([updating, *pool(3, OLD)[1:]], IN_PLACE)
    assert (decided.update, decided.finish) == ([], [])


def test_in_place_finishes_a_machine_ready_on_the_target_and_starts_the_next():
    updated = machine("m0", NEW, annotations={UPDATING_ANNOTATION: stamp(NOW)})
    decided = roll([updated, *pool(3, OLD)[1:]], IN_PLACE)
    assert [m.name for m in decided.finish] == ["m0"]
    assert [m.name for m in decided.update] == ["m1"]


def test_in_place_does_not_finish_until_the_kubelet_reports_the_target_version():
    updated = machine("m0", NEW, annotations={UPDATING_ANNOTATION: stamp(NOW)}, version="1.36.4")
    decided = roll([updated, *pool(3, OLD)[1:]], IN_PLACE)
    assert (decided.finish, decided.update) == ([], [])


def test_in_place_counts_a_not_ready_machine_as_unavailable_and_updates_it_first():
    machines = [*pool(2, OLD), machine("m2", OLD, ready="False")]
    decided = roll(machines, IN_PLACE)
    assert [m.name for m in decided.update] == ["m2"]


def test_in_place_never_replaces_machines():
    decided = roll(pool(3, OLD), IN_PLACE)
    assert decided.create == 0 and decided.remove == []
