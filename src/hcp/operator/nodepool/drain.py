"""Draining Nodes: cordon and mark them, evict their pods through the Eviction API, tell when they are empty.

Removal and in-place updates both drain: a Node is cordoned and marked with when
its drain started (hcp.io/draining-since for a removal, hcp.io/updating-since
for an update), its pods are evicted (PodDisruptionBudgets are honoured: a
refused eviction is retried), and it counts as drained once its pods are gone or
spec.nodeDrainTimeout has passed since the mark (0 or unset waits forever).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod
from lightkube.types import PatchType

from hcp.operator.nodepool.machines import UNNEEDED_ANNOTATION, MachineView, format_time

EVICTION_RETRY = 5.0
"""Seconds before evicting again when a PodDisruptionBudget refused an eviction."""
WAIT_RECHECK = 10.0
"""Seconds before looking again at pods that are leaving."""
PARALLEL_CALLS = 16


async def gather(calls: Iterable[Awaitable[Any]]) -> None:
    """Run API calls PARALLEL_CALLS at a time; the first failure is raised once all have finished."""
    limit = asyncio.Semaphore(PARALLEL_CALLS)

    async def one(call: Awaitable[Any]) -> None:
        async with limit:
            await call

    results = await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


@dataclass
class Drain:
    """What one drain pass found."""

    done: list[MachineView] = field(default_factory=list)
    """Machines whose Node is empty, or gone, or past the drain timeout."""
    timed_out: list[tuple[MachineView, int]] = field(default_factory=list)
    """Of those, the ones left with pods after the timeout, and how many."""
    wake: float | None = None
    """In how many seconds to look again at the others."""


async def cordon(client: AsyncClient, machines: Sequence[MachineView], mark: str,
                 since: Any, now: datetime) -> None:
    """Cordon the Nodes not yet marked with `mark` (an annotation: since when) and mark them."""
    patch = {"metadata": {"annotations": {mark: format_time(now), UNNEEDED_ANNOTATION: None}},
             "spec": {"unschedulable": True}}
    await gather(client.patch(Node, m.node.metadata.name, patch, patch_type=PatchType.MERGE)
                 for m in machines if m.node is not None and since(m) is None)


async def drain(client: AsyncClient, machines: Sequence[MachineView], since: Any, timeout: timedelta,
                now: datetime) -> Drain:
    """Evict the pods of cordoned machines; `since(machine)` is when its drain started (None: now)."""
    result = Drain()
    wake: list[float] = []
    evict: list[Any] = []
    for machine in machines:
        if machine.node is None:
            result.done.append(machine)
            continue
        started = since(machine) or now
        # A dead node's kubelet never confirms a deletion: there, evicted is as good as gone.
        remaining = [p for p in machine.pods if machine.node_ready or not p.metadata.deletionTimestamp]
        expired = timeout > timedelta(0) and now - started >= timeout
        if remaining and not expired:
            evict += [p for p in remaining if not p.metadata.deletionTimestamp]
            if timeout > timedelta(0):
                wake.append(max(1.0, (started + timeout - now).total_seconds()))
            continue
        if remaining:
            result.timed_out.append((machine, len(remaining)))
        result.done.append(machine)
    if evict or len(result.done) < len(machines):
        wake.append(EVICTION_RETRY if await evict_pods(client, evict) else WAIT_RECHECK)
    result.wake = min(wake) if wake else None
    return result


async def uncordon(client: AsyncClient, machines: Sequence[MachineView], mark: str) -> None:
    """Make the Nodes schedulable again and drop the mark."""
    patch = {"metadata": {"annotations": {mark: None}}, "spec": {"unschedulable": None}}
    await gather(client.patch(Node, m.node.metadata.name, patch, patch_type=PatchType.MERGE)
                 for m in machines if m.node is not None)


async def evict_pods(client: AsyncClient, pods: Sequence[Any]) -> bool:
    """Ask the Eviction API to evict each pod; True if a PodDisruptionBudget refused some (retry later)."""
    refused = False

    async def evict(pod: Any) -> None:
        nonlocal refused
        name, namespace = pod.metadata.name, pod.metadata.namespace
        try:
            await client.create(Pod.Eviction(metadata=ObjectMeta(name=name, namespace=namespace)),
                                name=name, namespace=namespace)
        except ApiError as error:
            if error.status.code == 429:  # it would violate a PodDisruptionBudget
                refused = True
            elif error.status.code != 404:
                raise

    await gather(evict(pod) for pod in pods)
    return refused
