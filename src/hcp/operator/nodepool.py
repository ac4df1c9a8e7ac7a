"""The NodePool controller: a NodePool's machines, sized, drained, repaired and autoscaled.

Every pass observes the pool's machines (through the platform's
MachineProvider, hcp.platforms) and the Nodes and Pods of the hosted cluster
(watched through its admin kubeconfig), decides how many machines the pool
should have, and acts:

- too few: create machines `<nodepool>-<suffix>` from the pool's template;
- too many: pick some (NotReady first, then empty, then newest) and start
  removing them. Removal cordons the Node and records when on the Node
  (annotation hcp.io/draining-since), evicts its pods through the Eviction API
  (which honours PodDisruptionBudgets) and deletes the machine once they are
  gone or spec.nodeDrainTimeout has passed (0 or unset waits forever);
- autoscaling (spec.autoScaling): the size follows demand within min..max.
  Pods the hosted scheduler reports Unschedulable that a node of the pool
  would fit add nodes (bin-packed); nodes without pods other than DaemonSet
  and mirror pods for longer than the unneeded time (marked
  hcp.io/unneeded-since on the Node) are removed;
- labels (platforms None and Container, whose kubelets register the Nodes with
  only the labels a kubelet may set): the labels of spec.nodeLabels a Node of
  the pool lacks or has with another value are merged into it, so labels such
  as node-role.kubernetes.io/worker, and labels added to the pool later, reach
  every Node; no other label is touched. KWOK Nodes are made with them;
- auto-repair (spec.management.autoRepair): a machine whose Node has not been
  Ready for longer than the health-check timeout (or never became Ready within
  the startup timeout) is removed, and so replaced; when more machines than
  maxUnhealthy are unhealthy at once, none is, as MachineHealthChecks do.

The only state kept is on the machines' Nodes; the NodePool gets status only.
A finalizer removes the machines when the NodePool is deleted, unless the
whole HostedCluster is going away and its nodes with it.

Work is bounded: one pass creates or starts removing at most MACHINE_BATCH
machines, then the pool is looked at again, so the desired count is re-read
between batches and a scale-down during a large scale-up takes effect within
seconds. Machine names are picked unlike any existing one; a name taken in the
meantime is retried in the next batch. A pool that cannot be served (invalid
spec, unsupported platform, machines the hosted API refuses) gets a condition
that says why, never a retry loop, and never delays another pool.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import string
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Node, Pod
from lightkube.types import PatchType
from lightkube.utils.quantity import parse_quantity

from hcp.api import HostedControlPlane, NodePool
from hcp.api.names import CLUSTER_ANNOTATION, FINALIZER, control_plane_namespace
from hcp.api.parse import parse
from hcp.api.types import parse_duration
from hcp.kube.apply import apply_status, resource_of
from hcp.kube.conditions import refused_status, set_condition
from hcp.kube.controller import Controller, Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.watched import WatchedClusters
from hcp.kube.objects import as_dict, make_key, split_key
from hcp.api.pause import pause_state
from hcp.api.validation import node_pool_problems, pool_platform_problem
from hcp.release.resolver import Releases
from hcp.platforms import (
    JOINING_PLATFORMS, NODE_POOL_LABEL, PROVIDERS, Machine, MachineProvider, MachineTemplate, PlatformContext,
)
from hcp.platforms.provider import node_labels, node_taints
from hcp.platforms.hosted import HostedAccess
from hcp.release import ReleaseError

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_ANNOTATION = "hypershift.openshift.io/machine-health-check-timeout"
STARTUP_TIMEOUT_ANNOTATION = "hypershift.openshift.io/machine-health-check-node-startup-timeout"
MAX_UNHEALTHY_ANNOTATION = "hypershift.openshift.io/machine-health-check-max-unhealthy"
UNNEEDED_TIME_ANNOTATION = "hcp.io/scale-down-unneeded-time"
"""On a NodePool or its HostedCluster: how long a node must be unneeded before autoscaling removes it."""
DRAINING_ANNOTATION = "hcp.io/draining-since"
"""On a Node: its machine is being removed, since this time (RFC 3339)."""
UNNEEDED_ANNOTATION = "hcp.io/unneeded-since"
"""On a Node of an autoscaled pool: it has had no workload since this time (RFC 3339)."""

SETTLE = timedelta(seconds=10)
"""A machine this young counts as empty capacity on its way, so pending pods do not add it twice."""
EVICTION_RETRY = 5.0
WAIT_RECHECK = 10.0
PARALLEL_CALLS = 16
MACHINE_BATCH = 50
"""Machines created, or newly chosen for removal, in one pass; the next pass re-reads the desired count."""
NEXT_BATCH = 0.1
"""Seconds before the pass that continues a scale-up or scale-down."""
UNREACHABLE_DELETE_GRACE = timedelta(minutes=5)
"""How long deleting a NodePool waits for an unreachable hosted cluster before it lets the pool go."""
_SUFFIX = string.ascii_lowercase + string.digits
_RESOURCES = ("cpu", "memory", "pods")


@dataclass(frozen=True)
class Settings:
    """The operator's defaults; annotations on the NodePool, then on its HostedCluster, override them."""

    health_timeout: timedelta = timedelta(minutes=8)
    startup_timeout: timedelta = timedelta(minutes=20)
    max_unhealthy: str = "2"
    unneeded_time: timedelta = timedelta(minutes=10)


# What one pass observes.


@dataclass(frozen=True, eq=False)
class MachineView:
    """A machine with what its Node and the pods on it say (compared by identity: one per machine and pass)."""

    machine: Machine
    node: Any | None
    pods: tuple[Any, ...] = ()
    """Pods on its Node that a drain evicts (not DaemonSet, mirror or finished pods)."""

    @property
    def name(self) -> str:
        return self.machine.name

    @property
    def draining_since(self) -> datetime | None:
        return _annotation_time(self.node, DRAINING_ANNOTATION)

    @property
    def unneeded_since(self) -> datetime | None:
        return _annotation_time(self.node, UNNEEDED_ANNOTATION)

    @property
    def ready(self) -> bool:
        condition = _ready_condition(self.node)
        return condition is not None and condition.status == "True" and not self.draining_since

    @property
    def kubelet_version(self) -> str | None:
        info = self.node.status.nodeInfo if self.node is not None and self.node.status else None
        return info.kubeletVersion if info else None

    def not_ready_since(self) -> tuple[datetime, bool] | None:
        """Since when the Node has not been Ready, and whether it ever was; None while Ready."""
        condition = _ready_condition(self.node)
        if condition is None:
            return self.machine.created, False
        if condition.status == "True":
            return None
        return condition.lastTransitionTime, True


def _ready_condition(node: Any | None) -> Any | None:
    if node is None or node.status is None:
        return None
    return next((c for c in node.status.conditions or () if c.type == "Ready"), None)


def _annotation_time(node: Any | None, key: str) -> datetime | None:
    value = (node.metadata.annotations or {}).get(key) if node is not None else None
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Pods.


def _owned_by_daemonset(pod: Any) -> bool:
    return any(ref.kind == "DaemonSet" for ref in pod.metadata.ownerReferences or ())


def evictable(pod: Any) -> bool:
    """Whether draining a node must move this pod: not a DaemonSet's, not a mirror pod, not finished."""
    if _owned_by_daemonset(pod) or "kubernetes.io/config.mirror" in (pod.metadata.annotations or {}):
        return False
    return pod.status is None or pod.status.phase not in ("Succeeded", "Failed")


def unschedulable(pod: Any) -> bool:
    """A pod the scheduler found no node for (PodScheduled=False, reason Unschedulable)."""
    if pod.metadata.deletionTimestamp or pod.spec.nodeName or pod.status is None or pod.status.phase != "Pending":
        return False
    return any(c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
               for c in pod.status.conditions or ())


Resources = dict[str, Decimal]


def pod_requests(pod: Any) -> Resources:
    """What a pod needs of a node: its containers' requests (or an init container's, if more), and one pod slot."""

    def total(containers: Iterable[Any]) -> Resources:
        sums = {"cpu": Decimal(0), "memory": Decimal(0)}
        for container in containers:
            requests = (container.resources.requests or {}) if container.resources else {}
            for resource in sums:
                if resource in requests:
                    sums[resource] += parse_quantity(requests[resource])
        return sums

    main = total(pod.spec.containers or ())
    for init in pod.spec.initContainers or ():
        single = total([init])
        main = {resource: max(main[resource], single[resource]) for resource in main}
    return {**main, "pods": Decimal(1)}


def capacity_of(quantities: Mapping[str, str]) -> Resources:
    return {resource: parse_quantity(str(quantities[resource])) for resource in _RESOURCES}


def _fits_in(need: Resources, free: Resources) -> bool:
    return all(need[resource] <= free[resource] for resource in _RESOURCES)


def _tolerates(tolerations: Sequence[Any], taint: Mapping[str, Any]) -> bool:
    for toleration in tolerations:
        if toleration.effect and toleration.effect != taint["effect"]:
            continue
        if toleration.operator == "Exists":
            if not toleration.key or toleration.key == taint["key"]:
                return True
        elif toleration.key == taint["key"] and (toleration.value or "") == (taint.get("value") or ""):
            return True
    return False


def _matches(expression: Any, labels: Mapping[str, str]) -> bool:
    value = labels.get(expression.key)
    match expression.operator:
        case "In":
            return value in (expression.values or ())
        case "NotIn":
            return value not in (expression.values or ())
        case "Exists":
            return expression.key in labels
        case "DoesNotExist":
            return expression.key not in labels
    return False


def schedulable_on(pod: Any, labels: Mapping[str, str], taints: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a node with these labels and taints would take the pod (selector, required affinity, taints)."""
    spec = pod.spec
    if any(labels.get(key) != value for key, value in (spec.nodeSelector or {}).items()):
        return False
    node_affinity = spec.affinity.nodeAffinity if spec.affinity else None
    required = node_affinity.requiredDuringSchedulingIgnoredDuringExecution if node_affinity else None
    if required and not any(all(_matches(e, labels) for e in term.matchExpressions or ())
                            for term in required.nodeSelectorTerms):
        return False
    hard = [t for t in taints if t["effect"] in ("NoSchedule", "NoExecute")]
    return all(_tolerates(spec.tolerations or (), taint) for taint in hard)


def nodes_needed(pending: Sequence[Resources], capacity: Resources, upcoming: int) -> int:
    """How many more nodes of `capacity` the pending pods need, after filling `upcoming` empty ones (first fit)."""
    free = [dict(capacity) for _ in range(upcoming)]
    opened = 0
    for need in sorted(pending, key=lambda r: (r["cpu"], r["memory"]), reverse=True):
        if not _fits_in(need, capacity):
            continue  # no node of this pool can ever run it
        slot = next((f for f in free if _fits_in(need, f)), None)
        if slot is None:
            slot = dict(capacity)
            free.append(slot)
            opened += 1
        for resource in _RESOURCES:
            slot[resource] -= need[resource]
    return opened


# Decisions.


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
) -> Plan:
    """Decide the pool's size and which machines to add, remove or mark, from what is observed now.

    `demand` is the requests of the unschedulable pods this pool should serve
    (autoscaling only), `capacity` what one of its nodes holds (None: unknown,
    so demand adds nothing).
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

    if len(healthy) < result.desired:
        result.create = result.desired - len(healthy)
    elif len(healthy) > result.desired:
        # NotReady machines first, then unneeded ones, then empty ones, newest first.
        order = sorted(healthy, key=lambda m: (m.ready, m not in expired, bool(m.pods),
                                               -m.machine.created.timestamp()))
        result.remove += order[:len(healthy) - result.desired]
    return result


# The controller.


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def label_patch(current: Mapping[str, str] | None, wanted: Mapping[str, str]) -> dict[str, str]:
    """The labels of `wanted` a Node lacks or has with another value: the metadata.labels of the one merge
    patch that gives it them (empty: nothing to do). Labels not in `wanted` are never touched."""
    have = current or {}
    return {key: value for key, value in sorted(wanted.items()) if have.get(key) != value}


def _setting(pool: NodePool, cluster: Any, key: str) -> str | None:
    """An annotation of the NodePool, else of its HostedCluster (HyperShift's precedence)."""
    value = (pool.metadata.annotations or {}).get(key)
    if value is None and cluster is not None:
        value = (cluster.metadata.annotations or {}).get(key)
    return value


def _names(machines: Sequence[MachineView], shown: int = 10) -> str:
    names = ", ".join(m.name for m in machines[:shown])
    return f"{names} and {len(machines) - shown} more" if len(machines) > shown else names


def _suffix() -> str:
    return "".join(secrets.choice(_SUFFIX) for _ in range(5))


def new_names(pool: str, count: int, taken: set[str]) -> list[str]:
    """`count` machine names `<pool>-<suffix>`, unlike each other and every name in `taken`."""
    names: list[str] = []
    while len(names) < count:
        name = f"{pool}-{_suffix()}"
        if name not in taken and name not in names:
            names.append(name)
    return names


async def _create_machines(provider: MachineProvider, template: MachineTemplate, names: Sequence[str]) -> str:
    """Create the machines; a name taken meanwhile (409) is left for the next batch.

    Returns the hosted API's message if it refused a machine as invalid (400/422),
    which no retry can fix; other failures are raised.
    """
    refused = ""

    async def create(name: str) -> None:
        nonlocal refused
        try:
            await provider.create(name, template)
        except ApiError as error:
            if error.status.code in (400, 422):
                refused = error.status.message or str(error)
            elif error.status.code != 409:
                raise

    await _gather(create(name) for name in names)
    return refused


class NodePoolController:
    def __init__(self, client: AsyncClient, releases: Releases, events: EventRecorder, *,
                 node_pools: Informer, clusters: Informer, control_planes: Informer,
                 machine_pods: Informer | None = None, settings: Settings = Settings(), workers: int = 4) -> None:
        self.client = client
        self.releases = releases
        self.events = events
        self.node_pools = node_pools
        self.clusters = clusters
        self.control_planes = control_planes
        self.settings = settings
        self._watched = WatchedClusters(client, self._watch)
        self.controller = Controller("nodepool", self.reconcile, workers=workers)
        self.controller.watch(node_pools)
        self.controller.watch(clusters, lambda hc: self._pool_keys(hc.metadata.namespace, hc.metadata.name))
        self.controller.watch(control_planes, self._control_plane_pool_keys)
        if machine_pods is not None:
            # Machines that are pods of the management cluster (platform Container): one that goes, whoever
            # deleted it, is noticed at once, not at the next event of the hosted cluster.
            self.controller.watch(machine_pods, self._machine_pool_keys)

    # Which NodePools an event concerns.

    def _pool_keys(self, namespace: str, cluster: str) -> list[str]:
        return [make_key(namespace, p.metadata.name) for p in self.node_pools.list(namespace)
                if (p.spec or {}).get("clusterName") == cluster]

    def _control_plane_pool_keys(self, control_plane: Any) -> list[str]:
        value = (control_plane.metadata.annotations or {}).get(CLUSTER_ANNOTATION)
        if not value:
            return []
        namespace, name = split_key(value)
        return self._pool_keys(namespace, name) if namespace else []

    def _machine_pool_keys(self, pod: Any) -> list[str]:
        """The pool of a machine pod: its label, in the namespace of the control plane's HostedCluster."""
        pool = (pod.metadata.labels or {}).get(NODE_POOL_LABEL)
        if not pool:
            return []
        keys = []
        for control_plane in self.control_planes.list(pod.metadata.namespace):
            namespace, _ = split_key((control_plane.metadata.annotations or {}).get(CLUSTER_ANNOTATION, ""))
            if namespace:
                keys.append(make_key(namespace, pool))
        return keys

    def _hosted_event_handler(self, namespace: str, cluster: str) -> Callable[[str, Any], None]:
        """Node events concern the Node's pool; pod events every pool of the cluster (drains, autoscaling)."""

        def handle(event: str, obj: Any) -> None:
            if isinstance(obj, Node):
                pool = (obj.metadata.labels or {}).get(NODE_POOL_LABEL)
                keys = [make_key(namespace, pool)] if pool else []
            else:
                keys = self._pool_keys(namespace, cluster)
            for key in keys:
                self.controller.queue.add(key)

        return handle

    # Reconcile.

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.node_pools.get(namespace, name)
        if live is None:
            await self._release_unused_access()
            return None
        pool, invalid = parse(NodePool, as_dict(live))
        if live.metadata.deletionTimestamp:
            return await self._delete(live, pool)
        if pool is None:
            await apply_status(self.client, NodePool, name, namespace, refused_status(
                live, ("ValidMachineTemplate", "Ready"), f"the NodePool is invalid: {invalid}"))
            return None  # a change of the object brings it back
        if FINALIZER not in (pool.metadata.finalizers or []):
            await self._set_finalizers(live, [*(pool.metadata.finalizers or []), FINALIZER])
        return await _Pass(self, live, pool, self.clusters.get(namespace, pool.spec.cluster_name)).run()

    async def _delete(self, live: Any, pool: NodePool | None) -> Result | None:
        """Remove the machines first, unless the HostedCluster, and every node with it, is going away.

        A control plane that is not available cannot be drained: deletion waits
        for it, unless it never published a kubeconfig (it never had nodes), or
        for UNREACHABLE_DELETE_GRACE at most (its machines are then left to the
        cluster's own deletion). A pool that the models refuse or whose platform
        hcp has no provider for never made machines: it goes at once.
        """
        if FINALIZER not in (live.metadata.finalizers or []):
            return None
        namespace = live.metadata.namespace
        cluster_name = (live.spec or {}).get("clusterName", "")
        cluster = self.clusters.get(namespace, cluster_name)
        servable = pool is not None and pool.spec.platform.type in PROVIDERS
        if servable and cluster is not None and not cluster.metadata.deletionTimestamp:
            access = await self.access(namespace, cluster_name)
            waited = datetime.now(UTC) - _aware(live.metadata.deletionTimestamp)
            if access is None and self._kubeconfig_ref(namespace, cluster_name) is not None:
                if waited < UNREACHABLE_DELETE_GRACE:
                    return Result(requeue_after=WAIT_RECHECK)
                await self.events.record(live, WARNING, "MachinesNotRemoved",
                                         f"The hosted cluster was unreachable for {waited.seconds}s; the NodePool "
                                         f"is deleted without removing its machines")
            if access is not None:
                if not access.synced:
                    return Result(requeue_after=1.0)
                provider = self.provider(pool, access)
                machines = await provider.machines(pool.metadata.name)
                if machines and not provider.makes_machines:
                    await self.events.record(live, WARNING, "MachinesNotRemoved",
                                             f"Machines of platform {pool.spec.platform.type} are their owner's to "
                                             f"stop; their Nodes stay: {', '.join(m.name for m in machines[:10])}")
                elif machines:
                    wake = await _remove(self, live, pool, provider, access, _views(machines, access)[:MACHINE_BATCH],
                                         datetime.now(UTC))
                    return Result(requeue_after=wake or NEXT_BATCH)
        await self._set_finalizers(live, [f for f in live.metadata.finalizers if f != FINALIZER])
        await self._release_unused_access()
        return None

    async def _set_finalizers(self, live: Any, finalizers: list[str]) -> None:
        await self.client.patch(
            resource_of(NodePool), live.metadata.name,
            {"metadata": {"finalizers": finalizers, "resourceVersion": live.metadata.resourceVersion}},
            namespace=live.metadata.namespace, patch_type=PatchType.MERGE,
        )

    # The hosted cluster.

    def _kubeconfig_ref(self, namespace: str, cluster: str) -> tuple[str, Any] | None:
        """(control-plane namespace, HostedControlPlane) once it has published its admin kubeconfig."""
        target = control_plane_namespace(namespace, cluster)
        control_plane = self.control_planes.get(target, cluster)
        hcp = parse(HostedControlPlane, as_dict(control_plane))[0] if control_plane else None
        if hcp is None or hcp.status is None or hcp.status.kube_config is None:
            return None
        return target, hcp

    async def access(self, namespace: str, cluster: str) -> HostedAccess | None:
        """The hosted cluster's client and caches, once its control plane has published a kubeconfig."""
        published = self._kubeconfig_ref(namespace, cluster)
        return await self._watched.get(make_key(namespace, cluster), published[1]) if published else None

    def _watch(self, key: str, kubeconfig: bytes) -> HostedAccess:
        namespace, cluster = split_key(key)
        log.info("watching the hosted cluster's nodes and pods", extra={"cluster": key})
        return HostedAccess(key, kubeconfig, self._hosted_event_handler(namespace, cluster))

    async def _release_unused_access(self) -> None:
        """Stop watching hosted clusters no NodePool refers to any more."""
        await self._watched.release(lambda key: bool(self._pool_keys(*split_key(key))))

    def provider(self, pool: NodePool, access: HostedAccess) -> MachineProvider:
        target = control_plane_namespace(pool.metadata.namespace, pool.spec.cluster_name)
        return PROVIDERS[pool.spec.platform.type](PlatformContext(self.client, target, access))


def _views(machines: Sequence[Machine], access: HostedAccess) -> list[MachineView]:
    pods_by_node: dict[str, list[Any]] = {}
    for pod in access.pods.list():
        if pod.spec.nodeName and evictable(pod):
            pods_by_node.setdefault(pod.spec.nodeName, []).append(pod)
    return [MachineView(m, access.nodes.get(None, m.node_name) if m.node_name else None,
                        tuple(pods_by_node.get(m.node_name or "", ()))) for m in machines]


async def _gather(calls: Iterable[Awaitable[Any]]) -> None:
    """Run API calls PARALLEL_CALLS at a time; the first failure is raised once all have finished."""
    limit = asyncio.Semaphore(PARALLEL_CALLS)

    async def one(call: Awaitable[Any]) -> None:
        async with limit:
            await call

    results = await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _remove(owner: NodePoolController, live: Any, pool: NodePool, provider: MachineProvider,
                  access: HostedAccess, machines: Sequence[MachineView], now: datetime) -> float | None:
    """Drain and delete machines: cordon and mark, evict, delete once empty or past nodeDrainTimeout.

    Returns in how many seconds to look again (pods still leaving), or None once all are deleted.
    """
    timeout = parse_duration(pool.spec.node_drain_timeout or "0s")  # the schema admits only valid durations
    mark = {"metadata": {"annotations": {DRAINING_ANNOTATION: _format_time(now), UNNEEDED_ANNOTATION: None}},
            "spec": {"unschedulable": True}}
    await _gather(access.client.patch(Node, m.node.metadata.name, mark, patch_type=PatchType.MERGE)
                  for m in machines if m.node is not None and m.draining_since is None)
    wake: list[float] = []
    evict: list[Any] = []
    deletions = []
    for machine in machines:
        node = machine.node
        if node is None:
            deletions.append(provider.delete(machine.machine))
            continue
        since = machine.draining_since or now
        condition = _ready_condition(node)
        responsive = condition is not None and condition.status == "True"
        # A dead node's kubelet never confirms a deletion: there, evicted is as good as gone.
        remaining = [p for p in machine.pods if responsive or not p.metadata.deletionTimestamp]
        expired = timeout > timedelta(0) and now - since >= timeout
        if remaining and not expired:
            evict += [p for p in remaining if not p.metadata.deletionTimestamp]
            if timeout > timedelta(0):
                wake.append(max(1.0, (since + timeout - now).total_seconds()))
            continue
        if remaining:
            await owner.events.record(live, WARNING, "DrainTimeout",
                                      f"Node {node.metadata.name} still had {len(remaining)} pods after "
                                      f"nodeDrainTimeout {pool.spec.node_drain_timeout}; removed anyway")
        deletions.append(provider.delete(machine.machine))
    if evict or len(deletions) < len(machines):
        wake.append(EVICTION_RETRY if await _evict(access.client, evict) else WAIT_RECHECK)
    await _gather(deletions)
    return min(wake) if wake else None


async def _evict(client: AsyncClient, pods: Sequence[Any]) -> bool:
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

    await _gather(evict(pod) for pod in pods)
    return refused


class _Pass:
    """One reconcile of a live NodePool: validate, observe, decide, act, report."""

    def __init__(self, owner: NodePoolController, live: Any, pool: NodePool, cluster: Any) -> None:
        self.owner = owner
        self.live = live
        self.pool = pool
        self.cluster = cluster
        status = pool.status
        self.conditions: list[Any] = list(status.conditions or []) if status else []
        self.replicas = status.replicas if status else None
        self.version = status.version if status else None
        self.images: Mapping[str, str] = {}
        """The pool's release's images, once validate_release has read it."""

    def condition(self, type_: str, status: bool, reason: str, message: str) -> None:
        self.conditions = set_condition(self.conditions, type_, "True" if status else "False", reason, message,
                                        self.pool.metadata.generation)

    def not_ready(self, reason: str, message: str) -> None:
        self.condition("Ready", False, reason, message)

    def invalid_template(self, message: str) -> None:
        self.condition("ValidMachineTemplate", False, "InvalidConfiguration", message)
        self.not_ready("ValidMachineTemplateFailed", message)

    async def run(self) -> Result | None:
        spec = self.pool.spec
        scaling = spec.auto_scaling
        self.condition("AutoscalingEnabled", scaling is not None, "AsExpected",
                       f"Autoscaling between {scaling.min} and {scaling.max} nodes" if scaling else "")
        self.condition("AutorepairEnabled", spec.management.auto_repair, "AsExpected", "")
        self.condition("UpdatingConfig", False, "AsExpected", "")
        pause = pause_state(spec.paused_until)
        self.condition("ReconciliationPaused", pause.paused, "ReconciliationPaused" if pause.paused else "AsExpected",
                       f"Reconciliation paused until {spec.paused_until}" if pause.paused
                       else pause.invalid or "Reconciliation active")
        if pause.paused:
            await self.write_status()
            return Result(requeue_after=pause.resume_in)
        result = await self.reconcile()
        await self.write_status()
        return result

    async def reconcile(self) -> Result | None:
        spec = self.pool.spec
        if self.cluster is None:
            message = f"HostedCluster {spec.cluster_name} not found in namespace {self.pool.metadata.namespace}"
            self.condition("ValidHostedCluster", False, "NotFound", message)
            self.not_ready("ValidHostedClusterFailed", message)
            return None
        self.condition("ValidHostedCluster", True, "AsExpected", "HostedCluster found")
        if spec.platform.type not in PROVIDERS:
            message = (f"platform {spec.platform.type} is not supported; hcp runs NodePools of platform "
                       + ", ".join(sorted(PROVIDERS)))
            self.condition("ValidPlatformConfig", False, "UnsupportedPlatform", message)
            self.not_ready("ValidPlatformConfigFailed", message)
            return None
        cluster_platform = ((as_dict(self.cluster).get("spec") or {}).get("platform") or {}).get("type", "")
        if message := pool_platform_problem(cluster_platform, spec.platform.type):
            self.condition("ValidPlatformConfig", False, "UnsupportedPlatform", message)
            self.not_ready("ValidPlatformConfigFailed", message)
            return None
        self.condition("ValidPlatformConfig", True, "AsExpected", "")
        problems = node_pool_problems(self.pool)
        if problems:
            self.invalid_template("; ".join(problems))
            return None
        self.condition("ValidMachineTemplate", True, "AsExpected", "")
        version = await self.validate_release()
        if version is None:
            return Result(requeue_after=60.0)
        updating = self.version != version
        self.condition("UpdatingVersion", updating, "AsExpected",
                       f"Updating version in progress. Target version: {version}" if updating else "")

        access = await self.owner.access(self.pool.metadata.namespace, spec.cluster_name)
        if access is None or not access.synced:
            self.not_ready("WaitingForControlPlane", "Waiting for the hosted control plane to be available")
            return Result(requeue_after=1.0 if access else WAIT_RECHECK)
        return await self.scale(access, self.owner.provider(self.pool, access), version)

    async def validate_release(self) -> str | None:
        """The NodePool's Kubernetes version, if its release is valid and not newer than the control plane's."""
        try:
            release = await self.owner.releases.resolve(self.pool.spec.release.image)
            cluster_image = ((as_dict(self.cluster).get("spec") or {}).get("release") or {}).get("image", "")
            control_plane = await self.owner.releases.resolve(cluster_image)
        except ReleaseError as error:
            self.condition("ValidReleaseImage", False, "InvalidImage", str(error))
            self.not_ready("ValidReleaseImageFailed", str(error))
            return None
        if _version_tuple(release.version) > _version_tuple(control_plane.version):
            message = (f"NodePool release {release.version} is newer than the control plane's "
                       f"{control_plane.version} (HostedCluster {self.pool.spec.cluster_name}); "
                       f"nodes may not run a newer Kubernetes version than their control plane")
            self.condition("ValidReleaseImage", False, "InvalidVersion", message)
            self.not_ready("ValidReleaseImageFailed", message)
            return None
        self.condition("ValidReleaseImage", True, "AsExpected", f"Using release image: {release.image}")
        self.images = release.components
        return release.version

    def settings(self) -> Settings:
        """The operator's settings, overridden by annotations of the NodePool or its HostedCluster."""
        defaults = self.owner.settings

        def duration(key: str, default: timedelta) -> timedelta:
            value = _setting(self.pool, self.cluster, key)
            try:
                return parse_duration(value) if value else default
            except ValueError:
                return default

        limit = _setting(self.pool, self.cluster, MAX_UNHEALTHY_ANNOTATION)
        return Settings(
            health_timeout=duration(HEALTH_TIMEOUT_ANNOTATION, defaults.health_timeout),
            startup_timeout=duration(STARTUP_TIMEOUT_ANNOTATION, defaults.startup_timeout),
            max_unhealthy=limit if limit and re.fullmatch(r"\d+%?", limit) else defaults.max_unhealthy,
            unneeded_time=duration(UNNEEDED_TIME_ANNOTATION, defaults.unneeded_time),
        )

    def demand(self, access: HostedAccess) -> list[Resources]:
        """Requests of the unschedulable pods this pool should serve: those that would fit one of its nodes
        and no node of an autoscaled pool of the same cluster whose name sorts first."""
        parsed = (parse(NodePool, as_dict(p))[0] for p in self.owner.node_pools.list(self.pool.metadata.namespace))
        pools = [p for p in parsed if p is not None and not node_pool_problems(p)]  # a broken sibling serves none
        candidates = sorted(
            (p for p in pools if p.spec.cluster_name == self.pool.spec.cluster_name
             and p.spec.auto_scaling is not None and p.spec.platform.type in PROVIDERS
             and not p.metadata.deletion_timestamp),
            key=lambda p: p.metadata.name,
        )
        shapes = []
        for candidate in candidates:
            offered = self.owner.provider(candidate, access).capacity(candidate.spec.platform)
            if offered is not None:
                shapes.append((candidate.metadata.name, node_labels(candidate), node_taints(candidate),
                               capacity_of(offered)))
        demand = []
        for pod in access.pods.list():
            if not unschedulable(pod):
                continue
            need = pod_requests(pod)
            home = next((name for name, labels, taints, capacity in shapes
                         if schedulable_on(pod, labels, taints) and _fits_in(need, capacity)), None)
            if home == self.pool.metadata.name:
                demand.append(need)
        return demand

    async def scale(self, access: HostedAccess, provider: MachineProvider, version: str) -> Result | None:
        spec = self.pool.spec
        name = self.pool.metadata.name
        now = datetime.now(UTC)
        views = _views(await provider.machines(name), access)
        if spec.platform.type in JOINING_PLATFORMS:
            await self.keep_labels(access, views)
        if not provider.makes_machines:
            return self.count_joined(views, version)
        autoscaling = (spec.auto_scaling.min, spec.auto_scaling.max) if spec.auto_scaling else None
        offered = provider.capacity(spec.platform)
        decided = plan(
            views, now=now, replicas=spec.replicas, autoscaling=autoscaling, auto_repair=spec.management.auto_repair,
            settings=self.settings(), demand=self.demand(access) if autoscaling else (),
            capacity=capacity_of(offered) if offered is not None else None,
        )

        await self.mark_unneeded(access, decided)
        more = decided.create > MACHINE_BATCH or len(decided.remove) > MACHINE_BATCH
        decided.create = min(decided.create, MACHINE_BATCH)
        decided.remove = decided.remove[:MACHINE_BATCH]
        if decided.remove:
            repairing = [m for m in decided.remove if m.name in decided.unhealthy]
            if repairing:
                await self.owner.events.record(self.live, WARNING, "RepairingMachines",
                                               f"Replacing unhealthy machines {_names(repairing)}")
            await self.owner.events.record(self.live, NORMAL, "ScalingDown",
                                           f"Removing machines {_names(decided.remove)} (desired {decided.desired})")
        if decided.create:
            await self.owner.events.record(self.live, NORMAL, "ScalingUp",
                                           f"Creating {decided.create} machines (desired {decided.desired})")
            template = self.template(version)
            refused = await _create_machines(provider, template, new_names(name, decided.create,
                                                                            {m.name for m in views}))
            if refused:
                self.invalid_template(f"the hosted cluster refused a machine of this pool: {refused}")
                return None
            more = more or decided.create == MACHINE_BATCH
        draining = [m for m in views if m.draining_since is not None or m in decided.remove]
        wake = await _remove(self.owner, self.live, self.pool, provider, access, draining, now) if draining else None

        self.report(_views(await provider.machines(name), access), decided, version)
        waits = [(t - now).total_seconds() + 1 for t in decided.wake_at] + ([wake] if wake is not None else [])
        if more:
            return Result(requeue_after=NEXT_BATCH)
        return Result(requeue_after=max(1.0, min(waits))) if waits else None

    def count_joined(self, views: Sequence[MachineView], version: str) -> Result | None:
        """A pool whose machines join on their own: report them against spec.replicas (Node events requeue)."""
        spec = self.pool.spec
        if spec.auto_scaling is not None:
            self.condition("AutoscalingEnabled", False, "Unsupported",
                           f"platform {spec.platform.type} machines join on their own; hcp cannot add or remove them")
        self.report(views, Plan(desired=spec.replicas or 0), version)
        joined = len([m for m in views if m.ready])
        wanted = spec.replicas or 0
        if joined < wanted:
            self.not_ready("WaitingForMachinesToJoin",
                           f"{joined} of {wanted} machines joined and Ready; run the pool's join command on "
                           f"{wanted - joined} more (`hcp create join-command --nodepool {self.pool.metadata.name}`)")
        return None

    async def keep_labels(self, access: HostedAccess, views: Sequence[MachineView]) -> None:
        """Give the pool's Nodes the labels of spec.nodeLabels they lack (one merge patch each).

        For joining platforms, whose kubelet registers the Node with only the labels
        a kubelet may set (hcp.ignition.join.registration_labels): the others, e.g.
        node-role.kubernetes.io/worker, come from here, and so does a label added to
        the pool later. Level-triggered on the Nodes' labels; other labels are left alone.
        """
        wanted = node_labels(self.pool)
        patches = [(m, patch) for m in views
                   if m.node is not None and not m.node.metadata.deletionTimestamp
                   and (patch := label_patch(m.node.metadata.labels, wanted))]
        if not patches:
            return

        labelled: list[MachineView] = []

        async def label(machine: MachineView, patch: dict[str, str]) -> None:
            try:
                await access.client.patch(Node, machine.node.metadata.name, {"metadata": {"labels": patch}},
                                          patch_type=PatchType.MERGE)
            except ApiError as error:
                if error.status.code != 404:  # a Node deleted meanwhile needs no labels
                    raise
                return
            labelled.append(machine)

        await _gather(label(m, patch) for m, patch in patches)
        if not labelled:
            return
        done = set(labelled)
        keys = sorted({key for m, patch in patches if m in done for key in patch})
        labelled.sort(key=lambda m: m.name)
        log.info("labelled the pool's Nodes", extra={"pool": self.pool.metadata.name,
                                                     "nodes": [m.name for m in labelled], "labels": keys})
        await self.owner.events.record(self.live, NORMAL, "NodeLabelsApplied",
                                       f"Applied labels {', '.join(keys)} of spec.nodeLabels to Nodes "
                                       f"{_names(labelled)}")

    async def mark_unneeded(self, access: HostedAccess, decided: Plan) -> None:
        """Record on the Nodes since when they have been unneeded, or that they no longer are."""
        stamp = _format_time(datetime.now(UTC))
        patches = [(m, stamp) for m in decided.mark_unneeded] + [(m, None) for m in decided.clear_unneeded]
        await _gather(access.client.patch(Node, m.node.metadata.name,
                                          {"metadata": {"annotations": {UNNEEDED_ANNOTATION: value}}},
                                          patch_type=PatchType.MERGE)
                      for m, value in patches)

    def template(self, version: str) -> MachineTemplate:
        return MachineTemplate(
            pool=self.pool.metadata.name, kubernetes_version=version, arch=str(self.pool.spec.arch),
            labels=node_labels(self.pool), taints=node_taints(self.pool), platform=self.pool.spec.platform,
            images=self.images,
        )

    def report(self, views: Sequence[MachineView], decided: Plan, version: str) -> None:
        alive = [m for m in views if m.draining_since is None]
        available = [m for m in alive if m.ready]
        self.replicas = len(available)
        if len(available) >= decided.desired:
            self.condition("Ready", True, "AsExpected", "")
        else:
            self.not_ready("WaitingForAvailableMachines", f"Minimum availability requires {decided.desired} "
                                                          f"replicas, current {len(available)} available")
        rolled_out = len(available) == len(alive) == decided.desired
        if rolled_out and all(m.kubelet_version == f"v{version}" for m in alive):
            self.version = version
            self.condition("UpdatingVersion", False, "AsExpected", "")
        if decided.repair_blocked:
            self.condition("AllNodesHealthy", False, "TooManyUnhealthy", decided.repair_blocked)
        else:
            not_ready = [m for m in alive if not m.ready]
            self.condition("AllNodesHealthy", not not_ready, "NodeNotReady" if not_ready else "AsExpected",
                           f"Nodes not ready: {_names(not_ready)}" if not_ready else "All nodes are healthy")

    async def write_status(self) -> None:
        """Apply the status, unless it is what the NodePool already shows (pod events are frequent)."""
        status: dict[str, Any] = {"conditions": [as_dict(c) for c in self.conditions]}
        if self.replicas is not None:
            status["replicas"] = self.replicas
        if self.version is not None:
            status["version"] = self.version
        current = as_dict(self.live).get("status") or {}
        if all(current.get(key) == value for key, value in status.items()):
            return
        await apply_status(self.owner.client, NodePool, self.pool.metadata.name, self.pool.metadata.namespace,
                           status)
