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
- labels: the labels of spec.nodeLabels a Node of the pool lacks or has with
  another value are merged into it, so labels a kubelet may not set (platforms
  None and Container), such as node-role.kubernetes.io/worker, and labels
  added to the pool later reach every Node in place; no other label is touched;
- rollouts (hcp.operator.nodepool.rollout): a change of the release, the
  platform settings or spec.config's payloads changes the pool's Target;
  machines recording another one are replaced (Replace: RollingUpdate within
  maxSurge/maxUnavailable, or OnDelete) or cordoned, drained and updated where
  they stand (InPlace; Node annotation hcp.io/updating-since), and
  UpdatingVersion/UpdatingConfig say so until every machine runs the target;
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

import hashlib
import json
import logging
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.resources.core_v1 import ConfigMap, Node
from lightkube.types import PatchType

from hcp.api import HostedControlPlane, NodePool
from hcp.api.names import CLUSTER_ANNOTATION, FINALIZER, control_plane_namespace
from hcp.api.parse import parse
from hcp.api.pause import pause_state
from hcp.api.types import parse_duration
from hcp.api.validation import node_pool_problems, pool_platform_problem
from hcp.ignition import nodeconfig
from hcp.kube.apply import apply_status, resource_of
from hcp.kube.conditions import refused_status, set_condition
from hcp.kube.controller import Controller, Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import DELETED, Informer
from hcp.kube.objects import as_dict, make_key, split_key
from hcp.kube.watched import WatchedClusters
from hcp.operator.nodepool.drain import WAIT_RECHECK, cordon, drain, gather, uncordon
from hcp.operator.nodepool.machines import (
    DRAINING_ANNOTATION, UNNEEDED_ANNOTATION, UPDATING_ANNOTATION, MachineView, aware, format_time, node_digest,
    observe, unschedulable,
)
from hcp.operator.nodepool.plan import Plan, Settings, plan
from hcp.operator.nodepool.rollout import strategy_of
from hcp.operator.nodepool.scheduling import Resources, capacity_of, fits_in, pod_requests, schedulable_on
from hcp.platforms import (
    JOINING_PLATFORMS, NODE_POOL_LABEL, PROVIDERS, MachineProvider, MachineTemplate, PlatformContext,
)
from hcp.platforms.hosted import HostedAccess
from hcp.platforms.provider import Target, node_labels, node_taints
from hcp.release import ReleaseError
from hcp.release.resolver import Releases
from hcp.release.updates import version_tuple

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_ANNOTATION = "hypershift.openshift.io/machine-health-check-timeout"
STARTUP_TIMEOUT_ANNOTATION = "hypershift.openshift.io/machine-health-check-node-startup-timeout"
MAX_UNHEALTHY_ANNOTATION = "hypershift.openshift.io/machine-health-check-max-unhealthy"
POOL_TAINTS_ANNOTATION = "hcp.io/pool-taints"
"""On a Node: the taints of spec.taints it was last given ([key, value, effect] lists, JSON)."""
UNNEEDED_TIME_ANNOTATION = "hcp.io/scale-down-unneeded-time"
"""On a NodePool or its HostedCluster: how long a node must be unneeded before autoscaling removes it."""

CONFIG_RECHECK = 30.0
"""Seconds between looks at the ConfigMaps of spec.config, which are not watched."""
MACHINE_BATCH = 50
"""Machines created, or newly chosen for removal, in one pass; the next pass re-reads the desired count."""
NEXT_BATCH = 0.1
"""Seconds before the pass that continues a scale-up or scale-down."""
UNREACHABLE_DELETE_GRACE = timedelta(minutes=5)
"""How long deleting a NodePool waits for an unreachable hosted cluster before it lets the pool go."""
_SUFFIX = string.ascii_lowercase + string.digits


def config_digest(version: str, platform: Mapping[str, Any], payloads: Sequence[tuple[str, Any]]) -> str:
    """The digest of what a machine is made from (Target.config): stable across passes and operator restarts."""
    text = json.dumps({"version": version, "platform": platform, "config": payloads}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def label_patch(current: Mapping[str, str] | None, wanted: Mapping[str, str]) -> dict[str, str]:
    """The labels of `wanted` a Node lacks or has with another value: the metadata.labels of the one merge
    patch that gives it them (empty: nothing to do). Labels not in `wanted` are never touched."""
    have = current or {}
    return {key: value for key, value in sorted(wanted.items()) if have.get(key) != value}


def _taint_key(taint: Mapping[str, Any]) -> tuple[str, str, str]:
    return taint["key"], taint.get("value") or "", taint["effect"]


def taints_update(current: Sequence[Mapping[str, Any]], applied: Sequence[Mapping[str, Any]],
                  wanted: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
    """A Node's taints once the pool's are in place (None: nothing to do).

    `applied` are the pool's taints the Node was last given (POOL_TAINTS_ANNOTATION): those the pool no
    longer has are removed; the pool's taints the Node lacks are added; every other taint (the node
    lifecycle controller's, a user's `kubectl taint`) is kept as it is.
    """
    wanted_keys = {_taint_key(t) for t in wanted}
    dropped = {_taint_key(t) for t in applied} - wanted_keys
    kept = [dict(t) for t in current if _taint_key(t) not in dropped]
    have = {_taint_key(t) for t in kept}
    added = [{k: v for k, v in t.items() if k in ("key", "value", "effect") and v} for t in wanted
             if _taint_key(t) not in have]
    result = kept + added
    return result if len(result) != len(current) or added else None


def pod_event_pools(pod: Any, node: Any | None, autoscaled: Callable[[], Sequence[str]]) -> list[str]:
    """The pools of a hosted cluster whose next pass may decide otherwise because this pod changed.

    Only three things in a pass read pods: a drain (removal or in-place update) waits for the pods of
    its Nodes to leave; an autoscaled pool counts the unschedulable pods it would serve, and marks its
    Nodes without pods unneeded. So a pod bound to `node` concerns that Node's pool if the pool is
    autoscaled or the Node is being drained or updated; an unschedulable pod concerns the cluster's
    autoscaled pools (`autoscaled`, asked only then); any other pod none. A pool of a fixed size
    is not reconciled for each of its pods' events: with thousands of pods coming and going that
    was a full pass over every machine and pod per event, for nothing. A drain that misses an event
    while the Node's mark is not yet in the cache looks again by itself (drain.WAIT_RECHECK).
    """
    if pod.spec is not None and pod.spec.nodeName:
        pool = ((node.metadata.labels or {}).get(NODE_POOL_LABEL) if node is not None else None)
        if not pool:
            return []
        annotations = node.metadata.annotations or {}
        if DRAINING_ANNOTATION in annotations or UPDATING_ANNOTATION in annotations or pool in autoscaled():
            return [pool]
        return []
    return list(autoscaled()) if unschedulable(pod) else []


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

    await gather(create(name) for name in names)
    return refused


async def _remove(events: EventRecorder, live: Any, pool: NodePool, provider: MachineProvider,
                  access: HostedAccess, machines: Sequence[MachineView], now: datetime) -> float | None:
    """Drain and delete machines: cordon and mark, evict, delete once empty or past nodeDrainTimeout.

    Returns in how many seconds to look again (pods still leaving), or None once all are deleted.
    """
    timeout = parse_duration(pool.spec.node_drain_timeout or "0s")  # the schema admits only valid durations
    await cordon(access.client, machines, DRAINING_ANNOTATION, lambda m: m.draining_since, now)
    drained = await drain(access.client, machines, lambda m: m.draining_since, timeout, now)
    for machine, count in drained.timed_out:
        await events.record(live, WARNING, "DrainTimeout",
                            f"Node {machine.node.metadata.name} still had {count} pods after "
                            f"nodeDrainTimeout {pool.spec.node_drain_timeout}; removed anyway")
    await gather(provider.delete(m.machine) for m in drained.done)
    return drained.wake


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

    def _autoscaled_pools(self, namespace: str, cluster: str) -> list[str]:
        return [p.metadata.name for p in self.node_pools.list(namespace)
                if (p.spec or {}).get("clusterName") == cluster and (p.spec or {}).get("autoScaling")]

    def _hosted_event_handler(self, namespace: str, cluster: str,
                              node: Callable[[str], Any | None]) -> Callable[[str, Any], None]:
        """Node events concern the Node's pool; pod events only the pools that read pods (pod_event_pools).

        A Node event that changes only its heartbeat (machines.node_digest, the same as the last one seen for
        that Node) concerns no pool: a kubelet or kwok refreshing every Node of a large pool would otherwise
        bring a pass per heartbeat. `node` finds a Node of the hosted cluster in the operator's cache by name.
        """
        seen: dict[str, str] = {}  # Node name -> digest of the last event of it that was handed on

        def handle(event: str, obj: Any) -> None:
            if isinstance(obj, Node):
                name = obj.metadata.name
                if event == DELETED:
                    seen.pop(name, None)
                else:
                    digest = node_digest(as_dict(obj))
                    if seen.get(name) == digest:
                        return
                    seen[name] = digest
                pool = (obj.metadata.labels or {}).get(NODE_POOL_LABEL)
                pools = [pool] if pool else []
            else:
                bound = obj.spec.nodeName if obj.spec else None
                pools = pod_event_pools(obj, node(bound) if bound else None,
                                        lambda: self._autoscaled_pools(namespace, cluster))
            for pool in pools:
                self.controller.queue.add(make_key(namespace, pool))

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
            waited = datetime.now(UTC) - aware(live.metadata.deletionTimestamp)
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
                    wake = await _remove(self.events, live, pool, provider, access, observe(machines, access)[:MACHINE_BATCH],
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
        access: HostedAccess | None = None

        def node(name: str) -> Any | None:  # events flow only once the informers run, after `access` is set
            return access.nodes.get(None, name) if access is not None else None

        access = HostedAccess(key, kubeconfig, self._hosted_event_handler(namespace, cluster, node))
        return access

    async def _release_unused_access(self) -> None:
        """Stop watching hosted clusters no NodePool refers to any more."""
        await self._watched.release(lambda key: bool(self._pool_keys(*split_key(key))))

    def provider(self, pool: NodePool, access: HostedAccess) -> MachineProvider:
        target = control_plane_namespace(pool.metadata.namespace, pool.spec.cluster_name)
        return PROVIDERS[pool.spec.platform.type](PlatformContext(self.client, target, access))



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
        self.node_config = ""
        """The digest of the pool's node configuration (hcp.ignition.nodeconfig), once `target` has read it."""

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
        if not any(c.type == "UpdatingConfig" for c in self.conditions):
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
        target = await self.target(version)
        if target is None:
            return Result(requeue_after=CONFIG_RECHECK)

        access = await self.owner.access(self.pool.metadata.namespace, spec.cluster_name)
        if access is None or not access.synced:
            self.not_ready("WaitingForControlPlane", "Waiting for the hosted control plane to be available")
            return Result(requeue_after=1.0 if access else WAIT_RECHECK)
        result = await self.scale(access, self.owner.provider(self.pool, access), target)
        if spec.config:  # ConfigMaps are not watched: look at them again now and then
            wait = min(result.requeue_after or CONFIG_RECHECK, CONFIG_RECHECK) if result else CONFIG_RECHECK
            return Result(requeue_after=wait)
        return result

    async def target(self, version: str) -> Target | None:
        """What the pool's machines should run: the release, the platform settings and spec.config's payloads.

        Each ConfigMap of spec.config must exist in the NodePool's namespace and hold
        key "config" (HyperShift's); otherwise ValidMachineConfig says which does not,
        and nothing rolls; so does a payload hcp.ignition.nodeconfig refuses. The payload is
        part of the target's digest, so a change of it rolls the pool; machines of the joining
        platforms get it through their join script (hcp.dataplane.registration).
        """
        payloads = []
        parsed = []
        for ref in self.pool.spec.config or ():
            try:
                config_map = await self.owner.client.get(ConfigMap, ref.name, namespace=self.pool.metadata.namespace)
            except ApiError as error:
                if error.status.code != 404:
                    raise
                return self.invalid_config(f"ConfigMap {ref.name} of spec.config not found in namespace "
                                           f"{self.pool.metadata.namespace}")
            try:
                parsed.append(nodeconfig.parse(ref.name, config_map.data))
            except nodeconfig.NodeConfigError as error:
                return self.invalid_config(str(error))
            payloads.append((ref.name, config_map.data[nodeconfig.CONFIG_KEY]))
        if payloads:
            applied = ("applied when machines join (kubelet settings and files)"
                       if self.pool.spec.platform.type in JOINING_PLATFORMS
                       else f"platform {self.pool.spec.platform.type} has no node to apply them on")
            self.condition("ValidMachineConfig", True, "AsExpected",
                           f"{len(payloads)} ConfigMaps of spec.config are valid; a change of them rolls the "
                           f"machines; {applied}")
        else:
            self.conditions = [c for c in self.conditions if c.type != "ValidMachineConfig"]
        self.node_config = nodeconfig.digest(nodeconfig.merge(parsed))
        platform = as_dict(self.pool.spec.platform)
        return Target(version=version, config=config_digest(version, platform, payloads))

    def invalid_config(self, message: str) -> None:
        self.condition("ValidMachineConfig", False, "InvalidConfig", message)
        self.not_ready("ValidMachineConfigFailed", message)
        return None

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
        if version_tuple(release.version) > version_tuple(control_plane.version):
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
                         if schedulable_on(pod, labels, taints) and fits_in(need, capacity)), None)
            if home == self.pool.metadata.name:
                demand.append(need)
        return demand

    async def scale(self, access: HostedAccess, provider: MachineProvider, target: Target) -> Result | None:
        spec = self.pool.spec
        name = self.pool.metadata.name
        now = datetime.now(UTC)
        views = observe(await provider.machines(name), access)
        await self.keep_labels(access, views)
        await self.keep_taints(access, views)
        if not provider.makes_machines:
            return self.count_joined(views, target)
        autoscaling = (spec.auto_scaling.min, spec.auto_scaling.max) if spec.auto_scaling else None
        offered = provider.capacity(spec.platform)
        decided = plan(
            views, now=now, replicas=spec.replicas, autoscaling=autoscaling, auto_repair=spec.management.auto_repair,
            settings=self.settings(), demand=self.demand(access) if autoscaling else (),
            capacity=capacity_of(offered) if offered is not None else None,
            target=target, strategy=strategy_of(spec.management, spec.replicas or 0),
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
            template = self.template(target)
            refused = await _create_machines(provider, template, new_names(name, decided.create,
                                                                            {m.name for m in views}))
            if refused:
                self.invalid_template(f"the hosted cluster refused a machine of this pool: {refused}")
                return None
            more = more or decided.create == MACHINE_BATCH
        draining = [m for m in views if m.draining_since is not None or m in decided.remove]
        wake = await _remove(self.owner.events, self.live, self.pool, provider, access, draining, now) if draining else None
        updated = await self.update_in_place(access, provider, views, decided, target, now)

        # The status reads the Nodes only: no need to go through every pod of the cluster again.
        self.report(observe(await provider.machines(name), access, pods=False), decided, target)
        waits = [(t - now).total_seconds() + 1 for t in decided.wake_at]
        waits += [w for w in (wake, updated) if w is not None]
        if more:
            return Result(requeue_after=NEXT_BATCH)
        return Result(requeue_after=max(1.0, min(waits))) if waits else None

    def count_joined(self, views: Sequence[MachineView], target: Target) -> Result | None:
        """A pool whose machines join on their own: report them against spec.replicas (Node events requeue)."""
        spec = self.pool.spec
        if spec.auto_scaling is not None:
            self.condition("AutoscalingEnabled", False, "Unsupported",
                           f"platform {spec.platform.type} machines join on their own; hcp cannot add or remove them")
        self.report(views, Plan(desired=spec.replicas or 0), target)
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
        a kubelet may set (hcp.ignition.join.registration_labels), the others, e.g.
        node-role.kubernetes.io/worker, come from here; on every platform, so does a
        label added to the pool later, without replacing the node. Level-triggered on
        the Nodes' labels; other labels are left alone.
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

        await gather(label(m, patch) for m, patch in patches)
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

    async def keep_taints(self, access: HostedAccess, views: Sequence[MachineView]) -> None:
        """Give the pool's Nodes its spec.taints in place, and take away those removed from it since.

        Which taints came from the pool is recorded on the Node (POOL_TAINTS_ANNOTATION), so a taint removed
        from spec.taints is removed from the Nodes and nothing else is. The patch carries the Node's
        resourceVersion: a taint another controller added meanwhile is never lost (a conflict waits for the
        next pass).
        """
        wanted = [dict(t) for t in node_taints(self.pool)]
        record = json.dumps(sorted(_taint_key(t) for t in wanted))
        patches: list[tuple[MachineView, dict[str, Any]]] = []
        changed: list[MachineView] = []
        for machine in views:
            node = machine.node
            if node is None or node.metadata.deletionTimestamp:
                continue
            annotations = node.metadata.annotations or {}
            try:
                applied = [{"key": k, "value": v, "effect": e} for k, v, e in
                           json.loads(annotations.get(POOL_TAINTS_ANNOTATION, "[]"))]
            except (ValueError, TypeError):
                applied = []
            current = [as_dict(t) for t in (node.spec.taints if node.spec else None) or ()]
            update = taints_update(current, applied, wanted)
            if update is None and annotations.get(POOL_TAINTS_ANNOTATION) == record:
                continue
            patch: dict[str, Any] = {"metadata": {"resourceVersion": node.metadata.resourceVersion,
                                                  "annotations": {POOL_TAINTS_ANNOTATION: record}}}
            if update is not None:
                patch["spec"] = {"taints": update}
            patches.append((machine, patch))

        async def taint(machine: MachineView, patch: dict[str, Any]) -> None:
            try:
                await access.client.patch(Node, machine.node.metadata.name, patch, patch_type=PatchType.MERGE)
            except ApiError as error:
                if error.status.code not in (404, 409):  # gone, or changed meanwhile: the next pass
                    raise
                return
            if "spec" in patch:
                changed.append(machine)

        await gather(taint(machine, patch) for machine, patch in patches)
        if changed:
            changed.sort(key=lambda m: m.name)
            await self.owner.events.record(self.live, NORMAL, "NodeTaintsApplied",
                                           f"Applied spec.taints to Nodes {_names(changed)}")

    async def mark_unneeded(self, access: HostedAccess, decided: Plan) -> None:
        """Record on the Nodes since when they have been unneeded, or that they no longer are."""
        stamp = format_time(datetime.now(UTC))
        patches = [(m, stamp) for m in decided.mark_unneeded] + [(m, None) for m in decided.clear_unneeded]
        await gather(access.client.patch(Node, m.node.metadata.name,
                                          {"metadata": {"annotations": {UNNEEDED_ANNOTATION: value}}},
                                          patch_type=PatchType.MERGE)
                      for m, value in patches)

    def template(self, target: Target) -> MachineTemplate:
        return MachineTemplate(
            pool=self.pool.metadata.name, kubernetes_version=target.version, arch=str(self.pool.spec.arch),
            labels=node_labels(self.pool), taints=node_taints(self.pool), platform=self.pool.spec.platform,
            images=self.images, config=target.config, node_config=self.node_config,
        )

    async def update_in_place(self, access: HostedAccess, provider: MachineProvider, views: Sequence[MachineView],
                              decided: Plan, target: Target, now: datetime) -> float | None:
        """InPlace updates: finish those done, and cordon, drain and update the machines being updated.

        Returns in how many seconds to look again while pods are leaving; Node events
        bring the pool back when an updated machine becomes Ready.
        """
        if decided.finish:
            await uncordon(access.client, decided.finish, UPDATING_ANNOTATION)
            await self.owner.events.record(self.live, NORMAL, "UpdatedInPlace",
                                           f"Machines {_names(decided.finish)} run the target "
                                           f"(version {target.version}) and are schedulable again")
        updating = [m for m in views if m not in decided.finish and m not in decided.remove
                    and (m in decided.update or m.updating_since is not None) and not m.runs(target)]
        if not updating:
            return None
        if decided.update:
            await self.owner.events.record(self.live, NORMAL, "UpdatingInPlace",
                                           f"Cordoning and draining {_names(decided.update)} to update them in "
                                           f"place to version {target.version}")
        timeout = parse_duration(self.pool.spec.node_drain_timeout or "0s")
        await cordon(access.client, updating, UPDATING_ANNOTATION, lambda m: m.updating_since, now)
        drained = await drain(access.client, updating, lambda m: m.updating_since, timeout, now)
        for machine, count in drained.timed_out:
            await self.owner.events.record(self.live, WARNING, "DrainTimeout",
                                           f"Node {machine.node.metadata.name} still had {count} pods after "
                                           f"nodeDrainTimeout {self.pool.spec.node_drain_timeout}; updated anyway")
        template = self.template(target)
        await gather(provider.update(m.machine, template) for m in drained.done)
        return drained.wake

    def report(self, views: Sequence[MachineView], decided: Plan, target: Target) -> None:
        alive = [m for m in views if m.draining_since is None]
        available = [m for m in alive if m.ready]
        self.replicas = len(available)
        if len(available) >= decided.desired:
            self.condition("Ready", True, "AsExpected", "")
        else:
            self.not_ready("WaitingForAvailableMachines", f"Minimum availability requires {decided.desired} "
                                                          f"replicas, current {len(available)} available")
        rolled_out = len(available) == len(alive) == decided.desired
        version = target.version
        if rolled_out and all(m.kubelet_version == f"v{version}" for m in alive):
            self.version = version
            self.condition("UpdatingVersion", False, "AsExpected", "")
        # Machines on the target's version that still record another configuration: only the config is rolling.
        configuring = [m for m in alive if not m.runs(target) and m.kubelet_version == f"v{version}"]
        self.condition("UpdatingConfig", bool(configuring), "AsExpected",
                       f"Updating config in progress. Target config: {target.config}" if configuring else "")
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
