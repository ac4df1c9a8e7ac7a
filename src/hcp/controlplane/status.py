"""Each component's status, from what is observed of it, and the HostedControlPlane's Degraded from them.

A component (hcp.controlplane.components.contract) reports, each pass and
never remembered, what HyperShift's ControlPlaneComponent reports as its
Available and RolloutComplete conditions, and why it is degraded if it is:

- available: every workload it declares and rendered serves, on whichever
  spec its pods run (a Deployment its minimum availability, etcd a quorum), so
  that a control plane stays Available while it rolls;
- rolled out: every such workload runs its current spec on all its replicas,
  and none is held for the component's dependencies (hcp.controlplane.ordering);
- degraded: something that will not get better by waiting, for a person to
  look at: a Deployment that exceeded its progress deadline, a pod whose
  image cannot be pulled or whose configuration is missing, a container in
  CrashLoopBackOff that has restarted a few times already (once or twice is a
  new control plane starting, a controller waiting for its API server).

Degraded is separate from Available: a highly available etcd with one member
of three crash-looping keeps its quorum and serves, and says that it is degraded.

While a component is not ready its message starts with why, when its pods say
it (`why_not_ready`): a pod the scheduler found no node for, an image that
cannot be pulled, a container that keeps crashing. "0 of 1 available" tells a
user that something is wrong; "pod kube-scheduler-… cannot be scheduled: 0/1
nodes are available: 1 Insufficient cpu" tells them what to do about it.

Pure: workloads as the informers give them (attributes), pods as dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hcp.controlplane.components.contract import Workload

IMMEDIATELY_DEGRADED = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError"})
"""A container waiting for one of these reasons does not start before someone changes something."""
CRASH_LOOP = "CrashLoopBackOff"
CRASH_LOOP_RESTARTS = 3
"""Restarts after which a container in CrashLoopBackOff degrades its component (the kubelet has then backed
off for more than a minute); fewer are how components start when what they talk to is not up yet."""
MESSAGE_LIMIT = 200
"""Characters kept of a kubelet's or controller's message (an image pull error can be long)."""
UNSCHEDULABLE = "Unschedulable"
"""The reason of a pod's PodScheduled=False condition when the scheduler found no node for it (and of the
HostedControlPlane's Available=False when that is what holds the control plane back)."""
IMAGE_PULL_FAILED = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
CONTAINER_CONFIG_FAILED = frozenset({"CreateContainerConfigError", "CreateContainerError"})


@dataclass(frozen=True)
class ComponentStatus:
    """What one component reports this pass (HyperShift: ControlPlaneComponent Available and RolloutComplete)."""

    name: str
    available: bool
    rolled_out: bool
    degraded: str | None = None
    """Why the component needs attention, or None."""
    message: str = ""
    """What it is waiting for when not available or not rolled out, for condition messages."""
    waiting_for: tuple[str, ...] = ()
    """The dependencies its existing workloads are held for (hcp.controlplane.ordering)."""
    why: NotReady | None = None
    """What its pods say keeps it from being ready (`why_not_ready`), while it is not; also the start of
    `message`."""


@dataclass(frozen=True)
class NotReady:
    """Why a workload's pods are not ready, as its pods say it: a reason word and a sentence for a person."""

    reason: str
    """`Unschedulable`, the kubelet's waiting reason (`ImagePullBackOff`, `CrashLoopBackOff`, ...)."""
    message: str
    """`pod kube-scheduler-5d8f-x2 cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu.`"""


def workload_available(workload: Any | None) -> bool:
    """The workload serves, whatever spec its pods run: a Deployment has its minimum availability (all
    replicas but maxUnavailable, and at least one), a StatefulSet (etcd) a quorum of ready members."""
    if workload is None or workload.status is None:
        return False
    wanted = _wanted(workload)
    status = workload.status
    if workload.kind == "StatefulSet":
        return (status.readyReplicas or 0) >= wanted // 2 + 1
    strategy = workload.spec.strategy
    rolling = strategy.rollingUpdate if strategy is not None else None
    unavailable = rolling.maxUnavailable if rolling is not None and isinstance(rolling.maxUnavailable, int) else 0
    return (status.availableReplicas or 0) >= max(1, wanted - unavailable)


def workload_rolled_out(workload: Any | None) -> bool:
    """All replicas updated to the latest spec and ready (StatefulSet) or available (Deployment)."""
    if workload is None:
        return False
    status, metadata = workload.status, workload.metadata
    if status is None or (status.observedGeneration or 0) < (metadata.generation or 0):
        return False
    wanted = _wanted(workload)
    return ((status.updatedReplicas or 0) >= wanted and _serving(workload) >= wanted
            and (status.replicas or 0) == wanted)


def workload_degraded(kind: str, name: str, workload: Any | None) -> str | None:
    """A Deployment whose rollout the Deployment controller gave up on (Progressing=False,
    ProgressDeadlineExceeded), said with its message; None otherwise."""
    if workload is None or workload.status is None:
        return None
    for condition in workload.status.conditions or ():
        if condition.type == "Progressing" and condition.status == "False" \
                and condition.reason == "ProgressDeadlineExceeded":
            return f"{kind} {name}: {_short(condition.message or 'exceeded its progress deadline')}"
    return None


def pod_problems(pods: Iterable[Mapping[str, Any]]) -> list[str]:
    """Containers (init containers included) that will not start without help, one line each: the pod, the
    container, the kubelet's reason and message, and how often it restarted (if it did)."""
    problems = []
    for pod in pods:
        name = pod.get("metadata", {}).get("name", "?")
        status = pod.get("status") or {}
        for container in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
            waiting = (container.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            restarts = container.get("restartCount") or 0
            if reason in IMMEDIATELY_DEGRADED or (reason == CRASH_LOOP and restarts >= CRASH_LOOP_RESTARTS):
                detail = f": {_short(waiting['message'])}" if waiting.get("message") else ""
                times = f" (restarted {restarts} time{'' if restarts == 1 else 's'})" if restarts else ""
                problems.append(f"pod {name} container {container.get('name')} {reason}{detail}{times}")
    return problems


def why_not_ready(pods: Iterable[Mapping[str, Any]]) -> NotReady | None:
    """The most useful sentence on why a workload's pods are not ready, from the pods (dicts), or None.

    In the order a person can act on them: a pod no node fits (the scheduler's own message, which names
    the shortage: "1 Insufficient cpu"), an image that cannot be pulled, a container whose configuration
    cannot be made, a container that keeps crashing (with its last exit code and the end of its log, which
    the control-plane containers report on failure). Pods that are going away or have finished are not
    looked at: an old replica's end is no reason. Of several pods held back alike, the first by name is
    said and the others counted, so the sentence stays one and stable between passes.
    """
    found: list[tuple[int, str, NotReady]] = []
    for pod in pods:
        metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
        if metadata.get("deletionTimestamp") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        name = metadata.get("name", "?")
        held = _pod_not_ready(name, status)
        if held is not None:
            rank, why = held
            found.append((rank, name, why))
    if not found:
        return None
    found.sort(key=lambda each: each[:2])
    rank, _, first = found[0]
    alike = sum(1 for each in found[1:] if each[0] == rank)
    if alike:
        first = NotReady(first.reason, f"{first.message} (and {alike} other pod{'' if alike == 1 else 's'})")
    return first


def _pod_not_ready(name: str, status: Mapping[str, Any]) -> tuple[int, NotReady] | None:
    """The rank (lower: more useful) and sentence of what holds one pod back, or None."""
    for condition in status.get("conditions") or ():
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False" \
                and condition.get("reason") == UNSCHEDULABLE:
            detail = _scheduler_message(condition.get("message") or "")
            return 0, NotReady(UNSCHEDULABLE, f"pod {name} cannot be scheduled: {detail or 'no node fits it'}")
    held: tuple[int, NotReady] | None = None
    for container in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason, what = waiting.get("reason"), f"pod {name} container {container.get('name')}"
        message = _short(waiting.get("message") or "")
        if reason in IMAGE_PULL_FAILED:
            candidate = 1, NotReady(reason, f"{what} cannot pull its image ({reason})" + _colon(message))
        elif reason in CONTAINER_CONFIG_FAILED:
            candidate = 2, NotReady(reason, f"{what} cannot be created ({reason})" + _colon(message))
        elif reason == CRASH_LOOP:
            restarts = container.get("restartCount") or 0
            last = (container.get("lastState") or {}).get("terminated") or {}
            exit_code = f", last exit code {last['exitCode']}" if last.get("exitCode") is not None else ""
            said = _short(last.get("message") or last.get("reason") or "")
            candidate = 3, NotReady(reason, f"{what} keeps crashing (restarted {restarts} time"
                                            f"{'' if restarts == 1 else 's'}{exit_code})" + _colon(said))
        else:
            continue
        if held is None or candidate[0] < held[0]:
            held = candidate
    return held


def _scheduler_message(message: str) -> str:
    """The scheduler's reason without its preemption postscript ("preemption: 0/1 nodes are available: 1 No
    preemption victims found..."), which repeats the count and says nothing a user acts on."""
    return _short(message.split(" preemption: ", 1)[0])


def _colon(detail: str) -> str:
    return f": {detail}" if detail else ""


def component_status(name: str, workloads: Mapping[Workload, Any | None], pods: Sequence[Mapping[str, Any]] = (),
                     waiting_for: tuple[str, ...] = ()) -> ComponentStatus:
    """The status of component `name` from its rendered workloads ((kind, name) -> the live object, None when
    not there yet), its pods (COMPONENT_LABEL) and the dependencies its workloads are held for.

    A component without workloads (configuration only, or whose workload is not rendered yet) has nothing
    to wait for: available and rolled out.
    """
    available = all(workload_available(live) for live in workloads.values())
    rolled_out = not waiting_for and all(workload_rolled_out(live) for live in workloads.values())
    problems = [problem for (kind, workload), live in workloads.items()
                if (problem := workload_degraded(kind, workload, live))]
    problems += pod_problems(pods)
    message, why = "", None
    if not (available and rolled_out):
        pending = [_progress(kind, workload, live) for (kind, workload), live in workloads.items()
                   if not (workload_available(live) and workload_rolled_out(live))]
        if waiting_for:
            pending.append(f"held until {', '.join(waiting_for)} rolled out")
        why = why_not_ready(pods) if workloads else None
        message = "; ".join(([why.message] if why else []) + pending)
    return ComponentStatus(name, available, rolled_out, "; ".join(problems) or None, message, waiting_for, why)


def degraded_condition(statuses: Iterable[ComponentStatus]) -> tuple[bool, str, str]:
    """The HostedControlPlane's Degraded: status, reason, message naming each degraded component and why."""
    degraded = [f"{status.name}: {status.degraded}" for status in statuses if status.degraded]
    if not degraded:
        return False, "AsExpected", "All components are as expected"
    return True, "ComponentsDegraded", "; ".join(degraded)


def _wanted(workload: Any) -> int:
    return workload.spec.replicas if workload.spec.replicas is not None else 1


def _serving(workload: Any) -> int:
    status = workload.status
    return (status.readyReplicas if workload.kind == "StatefulSet" else status.availableReplicas) or 0


def _progress(kind: str, name: str, workload: Any | None) -> str:
    if workload is None:
        return f"{kind} {name} not created yet"
    if workload.status is None:
        return f"{kind} {name} has no status yet"
    wanted = _wanted(workload)
    what = "ready" if kind == "StatefulSet" else "available"
    return (f"{kind} {name}: {_serving(workload)} of {wanted} {what}, "
            f"{workload.status.updatedReplicas or 0} updated")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"
