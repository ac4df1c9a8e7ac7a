"""The pure decisions of the NodePool controller: a pool's size, repairs, autoscaling and rollout steps.

`plan` is given what one pass observed (machines with their Nodes and pods) and
decides; it reads no clock and calls no API, so every decision is unit-tested
without a cluster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hcp.operator.nodepool.machines import MachineView
from hcp.operator.nodepool.rollout import Kind, Strategy, in_place, replace
from hcp.operator.nodepool.scheduling import Resources, nodes_needed
from hcp.platforms.provider import Target

SETTLE = timedelta(seconds=10)
"""A machine this young counts as empty capacity on its way, so pending pods do not add it twice."""


@dataclass(frozen=True)
class Settings:
    """The operator's defaults; annotations on the NodePool, then on its HostedCluster, override them."""

    health_timeout: timedelta = timedelta(minutes=8)
    startup_timeout: timedelta = timedelta(minutes=20)
    max_unhealthy: str = "2"
    unneeded_time: timedelta = timedelta(minutes=10)


@dataclass
class Plan:
    """What one pass decided for a pool's machines."""

    desired: int
    create: int = 0
    remove: list[MachineView] = field(default_factory=list)
    unhealthy: list[str] = field(default_factory=list)
    repair_blocked: str = ""
    mark_unneeded: list[MachineView] = field(default_factory=list)
    clear_unneeded: list[MachineView] = field(default_factory=list)
    wake_at: list[datetime] = field(default_factory=list)
    """Times at which a timeout expires and the pool must be looked at again."""
    outdated: list[MachineView] = field(default_factory=list)
    """Machines not (yet) running the pool's target."""
    update: list[MachineView] = field(default_factory=list)
    """Machines whose in-place update starts."""
    finish: list[MachineView] = field(default_factory=list)
    """Machines whose in-place update is done."""


def max_unhealthy(value: str, total: int) -> int:
    """An absolute number ("2") or a percentage of the machines ("40%", rounded down)."""
    if value.endswith("%"):
        return math.floor(total * int(value[:-1]) / 100)
    return int(value)


def plan(
    machines: Sequence[MachineView],
    *,
    now: datetime,
    replicas: int | None,
    autoscaling: tuple[int, int] | None,
    auto_repair: bool,
    settings: Settings,
    demand: Sequence[Resources] = (),
    capacity: Resources | None = None,
    target: Target | None = None,
    strategy: Strategy | None = None,
) -> Plan:
    """Decide the pool's size and which machines to add, remove, mark or update, from what is observed now.

    `demand` is the requests of the unschedulable pods this pool should serve
    (autoscaling only), `capacity` what one of its nodes holds (None: unknown,
    so demand adds nothing). `target` is what every machine should run and
    `strategy` how machines that do not are rolled (hcp.operator.nodepool.rollout);
    without them nothing is rolled.
    """
    alive = [m for m in machines if m.draining_since is None]
    result = Plan(desired=replicas or 0)

    if auto_repair:
        unhealthy = []
        for machine in alive:
            since = machine.not_ready_since()
            if since is None:
                continue
            timeout = settings.health_timeout if since[1] else settings.startup_timeout
            if now - since[0] >= timeout:
                unhealthy.append(machine)
            else:
                result.wake_at.append(since[0] + timeout)
        result.unhealthy = [m.name for m in unhealthy]
        allowed = max_unhealthy(settings.max_unhealthy, len(alive))
        if len(unhealthy) > allowed:
            result.repair_blocked = (
                f"{len(unhealthy)} of {len(alive)} machines are unhealthy, more than the {allowed} "
                f"(maxUnhealthy {settings.max_unhealthy}) that may be replaced at once; none is replaced"
            )
        else:
            result.remove += unhealthy

    healthy = [m for m in alive if m not in result.remove]
    expired: list[MachineView] = []
    if autoscaling is not None:
        low, high = autoscaling
        upcoming = sum(1 for m in healthy if not m.ready or now - m.machine.created < SETTLE)
        if demand:
            result.wake_at += [m.machine.created + SETTLE for m in healthy if now - m.machine.created < SETTLE]
        wanted = len(alive) + (nodes_needed(demand, capacity, upcoming) if capacity else 0)
        idle = [m for m in healthy if m.ready and now - m.machine.created >= SETTLE and not m.pods]
        result.mark_unneeded = [m for m in idle if m.unneeded_since is None]
        result.clear_unneeded = [m for m in alive if m.unneeded_since is not None and m not in idle]
        if wanted == len(alive):
            expired = [m for m in idle if m.unneeded_since and now - m.unneeded_since >= settings.unneeded_time]
            result.wake_at += [m.unneeded_since + settings.unneeded_time for m in idle
                               if m.unneeded_since and m not in expired]
            result.wake_at += [now + settings.unneeded_time for _ in result.mark_unneeded[:1]]
            wanted -= len(expired)
        result.desired = max(low, min(high, wanted))
    else:
        result.clear_unneeded = [m for m in alive if m.unneeded_since is not None]

    if target is not None:
        result.outdated = [m for m in healthy if not m.runs(target)]
    # The rollout lasts until its last old machine is gone, not only until none is left to pick: while the
    # last one drains, a replacement made now would exceed maxSurge.
    old_draining = target is not None and any(not m.runs(target) for m in machines if m not in alive)
    if (result.outdated or old_draining) and strategy is not None and strategy.kind == Kind.ROLLING_UPDATE:
        draining = len(machines) - len(healthy)
        step = replace(healthy, draining, result.desired, target, strategy)
        result.create = step.create
        result.remove += step.remove
        return result
    if len(healthy) < result.desired:
        result.create = result.desired - len(healthy)
    elif len(healthy) > result.desired:
        # NotReady machines first, then outdated ones, then unneeded ones, then empty ones, newest first.
        order = sorted(healthy, key=lambda m: (m.ready, m not in result.outdated, m not in expired, bool(m.pods),
                                               -m.machine.created.timestamp()))
        result.remove += order[:len(healthy) - result.desired]
    if target is not None and strategy is not None and strategy.kind == Kind.IN_PLACE:
        step = in_place([m for m in healthy if m not in result.remove], target, strategy)
        result.update, result.finish = step.update, step.finish
    return result

