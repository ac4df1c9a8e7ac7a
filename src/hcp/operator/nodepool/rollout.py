"""Rolling a pool's machines to a new Target: which to add, remove or update where they stand, now.

Pure decisions, as `plan` makes for the pool's size; the controller acts on them
and looks again. The strategies are HyperShift's (spec.management):

- Replace / RollingUpdate: new machines first, as a Deployment rolls pods.
  At most desired + maxSurge machines exist (machines being drained count: they
  still hold their pods), and at least desired - maxUnavailable are Ready.
  Outdated machines that are not Ready go at once (they serve nothing);
- Replace / OnDelete: nothing is rolled; a machine the user deletes comes back
  from the new template, as every machine made from now on does;
- InPlace: at most inPlace.maxUnavailable machines are unavailable at once
  (not Ready, or being updated); each update cordons and drains the Node, has
  the provider update the machine where it stands, and uncordons the Node once
  it is Ready on the target.

maxSurge percentages round up and maxUnavailable ones down, of the desired
count, as for Deployments; when both come to 0, one machine may be unavailable
(a rollout must be able to move).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hcp.api.v1beta1.nodepool import NodePoolManagement, UpgradeStrategy, UpgradeType
from hcp.operator.nodepool.machines import MachineView
from hcp.platforms.provider import Target


class Kind(StrEnum):
    ROLLING_UPDATE = "RollingUpdate"
    ON_DELETE = "OnDelete"
    IN_PLACE = "InPlace"


@dataclass(frozen=True)
class Strategy:
    """A pool's upgrade strategy with its limits resolved against the desired count."""

    kind: Kind
    max_surge: int = 0
    max_unavailable: int = 1


def scaled(value: int | str | None, total: int, *, default: int, round_up: bool) -> int:
    """An IntOrString of spec.management: a number, or a percentage of `total`."""
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def strategy_of(management: NodePoolManagement, desired: int) -> Strategy:
    """The strategy spec.management asks for, with HyperShift's defaults (surge 1, unavailable 0; InPlace 1)."""
    if management.upgrade_type == UpgradeType.IN_PLACE:
        limit = management.in_place.max_unavailable if management.in_place else None
        return Strategy(Kind.IN_PLACE, max_unavailable=max(1, scaled(limit, desired, default=1, round_up=False)))
    replace = management.replace
    if replace is not None and replace.strategy == UpgradeStrategy.ON_DELETE:
        return Strategy(Kind.ON_DELETE)
    rolling = replace.rolling_update if replace is not None else None
    surge = scaled(rolling.max_surge if rolling else None, desired, default=1, round_up=True)
    unavailable = scaled(rolling.max_unavailable if rolling else None, desired, default=0, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return Strategy(Kind.ROLLING_UPDATE, max_surge=surge, max_unavailable=unavailable)


@dataclass
class Rollout:
    """What a rollout decided in one pass."""

    create: int = 0
    """New machines to make from the target's template."""
    remove: list[MachineView] = field(default_factory=list)
    """Outdated machines to drain and delete."""
    update: list[MachineView] = field(default_factory=list)
    """Outdated machines whose in-place update starts (cordon, drain, update)."""
    finish: list[MachineView] = field(default_factory=list)
    """Machines whose in-place update is done: Ready on the target; uncordon them."""


def replace(healthy: Sequence[MachineView], draining: int, desired: int, target: Target,
            strategy: Strategy) -> Rollout:
    """A RollingUpdate step. `healthy`: the machines not being removed; `draining`: how many are."""
    new = [m for m in healthy if m.runs(target)]
    old = [m for m in healthy if not m.runs(target)]
    result = Rollout()
    if len(new) > desired:  # scaled down mid-rollout: the newest extra new machines go with the old ones
        extra = sorted(new, key=lambda m: (m.ready, -m.machine.created.timestamp()))[:len(new) - desired]
        return Rollout(remove=[*old, *extra])
    result.create = max(0, min(desired - len(new), desired + strategy.max_surge - len(healthy) - draining))
    broken = [m for m in old if not m.ready]
    ready = sum(1 for m in healthy if m.ready)
    budget = max(0, ready - (desired - strategy.max_unavailable))
    serving = sorted((m for m in old if m.ready), key=lambda m: m.machine.created.timestamp())
    result.remove = [*broken, *serving[:budget]]
    return result


def in_place(healthy: Sequence[MachineView], target: Target, strategy: Strategy) -> Rollout:
    """An InPlace step over the machines not being removed."""
    result = Rollout()
    updating = [m for m in healthy if m.updating_since is not None]
    result.finish = [m for m in updating if m.runs(target) and m.node_ready
                     and m.kubelet_version == f"v{target.version}"]
    busy = sum(1 for m in healthy if m not in result.finish and (m.updating_since is not None or not m.ready))
    waiting = [m for m in healthy if m.updating_since is None and not m.runs(target)]
    # Machines that are down anyway first: updating them costs no availability.
    waiting.sort(key=lambda m: (m.ready, m.machine.created.timestamp()))
    down = [m for m in waiting if not m.ready]
    up = [m for m in waiting if m.ready]
    result.update = [*down, *up[:max(0, strategy.max_unavailable - busy)]]
    return result
