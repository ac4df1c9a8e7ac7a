"""How the NodePool controller sizes a pool, picks machines to remove, repairs and autoscales (plan())."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from lightkube.resources.core_v1 import Node, Pod

from hcp.operator.nodepool.machines import DRAINING_ANNOTATION, UNNEEDED_ANNOTATION, MachineView, evictable, unschedulable
from hcp.operator.nodepool.plan import Settings, max_unhealthy, plan
from hcp.operator.nodepool.scheduling import capacity_of, nodes_needed, pod_requests, schedulable_on
from hcp.platforms import Machine

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(health_timeout=timedelta(minutes=8), startup_timeout=timedelta(minutes=20),
                    max_unhealthy="2", unneeded_time=timedelta(minutes=10))
CAPACITY = capacity_of({"cpu": "4", "memory": "16Gi", "pods": "110"})


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def node(name: str, *, ready: str | None = "True", since: datetime = NOW - timedelta(hours=1),
         annotations: dict[str, str] | None = None) -> Node:
    conditions = [] if ready is None else [
        {"type": "Ready", "status": ready, "lastTransitionTime": stamp(since), "lastHeartbeatTime": stamp(since)}
    ]
    return Node.from_dict({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": annotations or {}},
        "status": {"conditions": conditions},
    })


def pod(name: str, *, node_name: str | None = None, cpu: str = "1", owner: str | None = "ReplicaSet",
        phase: str = "Running", unschedulable_: bool = False, **spec: Any) -> Pod:
    conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}] if unschedulable_ else []
    return Pod.from_dict({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner, "name": "x", "uid": "u"}]
                     if owner else []},
        "spec": {"nodeName": node_name,
                 "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": cpu}}}], **spec},
        "status": {"phase": phase, "conditions": conditions},
    })


def machine(name: str, *, age: timedelta = timedelta(hours=1), pods: int = 0, **node_args: Any) -> MachineView:
    made = Machine(name=name, created=NOW - age, node_name=name)
    return MachineView(made, node(name, **node_args), tuple(pod(f"{name}-{i}", node_name=name) for i in range(pods)))


def decide(machines: list[MachineView], **kwargs: Any):
    options = {"now": NOW, "replicas": None, "autoscaling": None, "auto_repair": False, "settings": SETTINGS}
    return plan(machines, **{**options, **kwargs})


def test_replicas_create_the_missing_machines():
    decided = decide([machine("a")], replicas=3)
    assert (decided.desired, decided.create, decided.remove) == (3, 2, [])


def test_unset_replicas_mean_zero():
    decided = decide([machine("a", pods=2)])
    assert decided.desired == 0
    assert [m.name for m in decided.remove] == ["a"]


def test_scale_down_removes_not_ready_then_empty_then_newest_machines():
    machines = [
        machine("busy-old", pods=2, age=timedelta(hours=3)),
        machine("busy-new", pods=1, age=timedelta(hours=1)),
        machine("empty", age=timedelta(hours=5)),
        machine("broken", ready="False", pods=3),
    ]
    assert [m.name for m in decide(machines, replicas=3).remove] == ["broken"]
    assert [m.name for m in decide(machines, replicas=2).remove] == ["broken", "empty"]
    assert [m.name for m in decide(machines, replicas=1).remove] == ["broken", "empty", "busy-new"]


def test_draining_machines_are_neither_counted_nor_chosen_again():
    draining = machine("going", annotations={DRAINING_ANNOTATION: stamp(NOW)})
    decided = decide([draining, machine("a")], replicas=2)
    assert (decided.create, decided.remove) == (1, [])
    assert not draining.ready


def test_auto_repair_replaces_machines_not_ready_beyond_the_timeout():
    machines = [machine("a"), machine("dead", ready="Unknown", since=NOW - timedelta(minutes=9)),
                machine("flaky", ready="False", since=NOW - timedelta(minutes=3))]
    decided = decide(machines, replicas=3, auto_repair=True)
    assert [m.name for m in decided.remove] == ["dead"]
    assert decided.create == 1
    assert decided.unhealthy == ["dead"]
    assert decided.wake_at == [NOW - timedelta(minutes=3) + SETTINGS.health_timeout]


def test_without_auto_repair_unhealthy_machines_stay():
    machines = [machine("a"), machine("dead", ready="Unknown", since=NOW - timedelta(hours=1))]
    decided = decide(machines, replicas=2)
    assert (decided.create, decided.remove, decided.unhealthy) == (0, [], [])


def test_a_node_never_ready_gets_the_startup_timeout():
    young = machine("young", ready=None, age=timedelta(minutes=5))
    old = machine("old", ready=None, age=timedelta(minutes=25))
    decided = decide([young, old], replicas=2, auto_repair=True)
    assert [m.name for m in decided.remove] == ["old"]
    assert decided.wake_at == [young.machine.created + SETTINGS.startup_timeout]


def test_too_many_unhealthy_machines_block_repair():
    machines = [machine(f"dead{i}", ready="False", since=NOW - timedelta(hours=1)) for i in range(3)]
    decided = decide([*machines, machine("a")], replicas=4, auto_repair=True)
    assert (decided.remove, decided.create) == ([], 0)
    assert "3 of 4 machines are unhealthy, more than the 2" in decided.repair_blocked


@pytest.mark.parametrize(("value", "total", "allowed"), [("2", 10, 2), ("40%", 10, 4), ("40%", 4, 1), ("0", 3, 0)])
def test_max_unhealthy_is_a_number_or_a_percentage_rounded_down(value, total, allowed):
    assert max_unhealthy(value, total) == allowed


def test_autoscaling_adds_nodes_for_unschedulable_pods_within_max():
    demand = [pod_requests(pod(f"p{i}", cpu="1")) for i in range(10)]
    assert decide([machine("a", pods=4)], autoscaling=(1, 5), demand=demand, capacity=CAPACITY).create == 3
    assert decide([machine("a", pods=4)], autoscaling=(1, 2), demand=demand, capacity=CAPACITY).create == 1


def test_autoscaling_counts_nodes_still_starting_as_room_for_pending_pods():
    demand = [pod_requests(pod(f"p{i}", cpu="1")) for i in range(4)]
    starting = machine("new", age=timedelta(seconds=3))
    decided = decide([machine("a", pods=4), starting], autoscaling=(1, 5), demand=demand, capacity=CAPACITY)
    assert decided.create == 0
    assert decided.wake_at == [starting.machine.created + timedelta(seconds=10)]


def test_autoscaling_keeps_min_and_never_creates_for_pods_that_cannot_fit():
    demand = [pod_requests(pod("huge", cpu="64"))]
    decided = decide([], autoscaling=(2, 5), demand=demand, capacity=CAPACITY)
    assert (decided.desired, decided.create) == (2, 2)


def test_autoscaling_marks_idle_nodes_and_removes_them_after_the_unneeded_time():
    fresh = machine("fresh")
    expired = machine("expired", annotations={UNNEEDED_ANNOTATION: stamp(NOW - timedelta(minutes=11))})
    waiting = machine("waiting", annotations={UNNEEDED_ANNOTATION: stamp(NOW - timedelta(minutes=4))})
    busy = machine("busy", pods=1, annotations={UNNEEDED_ANNOTATION: stamp(NOW - timedelta(minutes=30))})
    decided = decide([fresh, expired, waiting, busy], autoscaling=(1, 5), capacity=CAPACITY)
    assert [m.name for m in decided.mark_unneeded] == ["fresh"]
    assert [m.name for m in decided.clear_unneeded] == ["busy"]
    assert [m.name for m in decided.remove] == ["expired"]
    assert decided.desired == 3
    assert NOW + timedelta(minutes=6) in decided.wake_at


def test_autoscaling_never_goes_below_min_nor_scales_down_while_pods_wait():
    idle = [machine(f"idle{i}", annotations={UNNEEDED_ANNOTATION: stamp(NOW - timedelta(hours=1))}) for i in range(3)]
    assert len(decide(idle, autoscaling=(2, 5), capacity=CAPACITY).remove) == 1
    demand = [pod_requests(pod("p", cpu="1"))]
    waiting = decide(idle, autoscaling=(2, 5), demand=demand, capacity=CAPACITY)
    assert waiting.remove == []


def test_bin_packing_fills_nodes_first_fit_largest_first():
    sizes = ["3", "3", "2", "1", "1", "1", "1"]
    assert nodes_needed([pod_requests(pod(f"p{i}", cpu=s)) for i, s in enumerate(sizes)], CAPACITY, 0) == 3
    tiny = capacity_of({"cpu": "100", "memory": "1Ti", "pods": "2"})
    assert nodes_needed([pod_requests(pod(f"p{i}", cpu="1")) for i in range(5)], tiny, 1) == 2


def test_pod_requests_take_the_largest_init_container_and_one_pod_slot():
    p = pod("p", cpu="500m", initContainers=[{"name": "i", "image": "i", "resources": {"requests": {"cpu": "2"}}}])
    assert pod_requests(p) == {"cpu": Decimal(2), "memory": Decimal(0), "pods": Decimal(1)}


def test_schedulable_on_honours_selectors_affinity_and_taints():
    labels = {"hypershift.openshift.io/nodePool": "a", "tier": "sim"}
    taint = {"key": "dedicated", "value": "sim", "effect": "NoSchedule"}
    assert schedulable_on(pod("p"), labels, [])
    assert not schedulable_on(pod("p", nodeSelector={"tier": "gpu"}), labels, [])
    assert not schedulable_on(pod("p"), labels, [taint])
    assert schedulable_on(pod("p"), labels, [{**taint, "effect": "PreferNoSchedule"}])
    tolerant = pod("p", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "sim", "effect": "NoSchedule"}])
    assert schedulable_on(tolerant, labels, [taint])
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gpu"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}, {"key": "zone", "operator": "DoesNotExist"}]},
    ]}}}
    assert schedulable_on(pod("p", affinity=affinity), labels, [])


def test_drains_skip_daemonset_mirror_and_finished_pods():
    assert evictable(pod("p"))
    assert not evictable(pod("p", owner="DaemonSet"))
    assert not evictable(pod("p", phase="Succeeded"))


def test_only_pending_pods_the_scheduler_gave_up_on_are_demand():
    assert unschedulable(pod("p", phase="Pending", unschedulable_=True))
    assert not unschedulable(pod("p", phase="Pending"))
    assert not unschedulable(pod("p", node_name="n", phase="Pending", unschedulable_=True))


def test_without_autoscaling_unneeded_marks_are_cleared():
    marked = machine("a", annotations={UNNEEDED_ANNOTATION: stamp(NOW - timedelta(hours=1))})
    decided = decide([marked], replicas=1)
    assert (decided.remove, [m.name for m in decided.clear_unneeded]) == ([], ["a"])
