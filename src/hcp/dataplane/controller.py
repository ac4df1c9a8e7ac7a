"""The data-plane controller: node identity and trust inside every available hosted cluster.

One key per HostedControlPlane. Once its control plane is ready (the admin
kubeconfig published, as the NodePool controller waits for it too), every
pass, through the hosted API server:

- applies the node-bootstrap RBAC (hcp.dataplane.rbac) where the cache shows
  it missing or changed;
- keeps one current bootstrap token per NodePool of a platform whose machines
  join on their own (hcp.dataplane.tokens): creates, rotates and deletes the
  Secrets in the hosted kube-system, and mirrors each pool's current token into
  Secret `bootstrap-tokens` (key: the pool's name) of the control-plane
  namespace, owned by the HostedControlPlane; before it, each such pool's Node
  labels and taints into ConfigMap `nodepool-registration`
  (hcp.dataplane.registration), from which the ignition server renders them
  into the pool's join script;
- approves or denies the kubelet serving CSRs of nodes (hcp.dataplane.csr);
- keeps the hosted cluster's own components (hcp.dataplane.components:
  konnectivity agent, CNI, kube-proxy, CoreDNS, metrics-server) applied, from
  the HostedControlPlane, ConfigMap hosted-cluster-config and the control
  plane's Secrets, removes what no component renders any more, and points the
  `kubernetes` Service at the published API endpoint (hcp.dataplane.hosted
  decides, this module does). Until the control plane has published the
  ConfigMap, components wait.

Everything is recomputed from the watched caches and the NodePools on each
pass; the only waits kept are requeues (the next token renewal or expiry, a
Node that has not reported its addresses yet). What it does is logged and
recorded as Events on the HostedControlPlane. A paused HostedControlPlane is
left alone, like the rest of its control plane.

The components report through Events only, not conditions: the
HostedControlPlane controller applies the whole status.conditions list it
read back (every type, under hcp's one field manager, with force), so a
condition written here would be re-applied from a stale copy by it, and one
written under that same manager would drop all of its own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lightkube import ApiError, AsyncClient, operators
from lightkube.codecs import from_dict, resource_registry
from lightkube.core import resource as lk
from lightkube.resources.certificates_v1 import CertificateSigningRequest
from lightkube.resources.core_v1 import ConfigMap, Node, Secret
from lightkube.resources.rbac_authorization_v1 import ClusterRoleBinding

from hcp.api import HostedControlPlane, NodePool
from hcp.api.names import CLUSTER_ANNOTATION, control_plane_namespace
from hcp.api.parse import parse
from hcp.api.pause import pause_state
from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.context import Endpoint
from hcp.dataplane.access import DataPlaneAccess
from hcp.dataplane.components import config as hosted_config
from hcp.dataplane.components.context import COMPONENT_LABEL
from hcp.dataplane.hosted import (
    KINDS,
    LEFTOVER_SELECTOR_LABELS,
    MANAGEMENT_SECRETS,
    RECREATE_KINDS,
    Applied,
    ClusterState,
    EndpointError,
    LiveObject,
    ObjectKey,
    Rendered,
    apply_due,
    backoff,
    decode_secret,
    describe,
    digest,
    hosted_context,
    kubernetes_endpoints,
    leftovers,
    network_type_problem,
    not_rolled_out,
    object_key,
    render_components,
    service_addresses,
)
from hcp.dataplane.csr import Action, Verdict, requesting_node, serving_verdict
from hcp.dataplane.rbac import cluster_role_bindings, needs_apply
from hcp.dataplane.registration import CONFIGMAP as REGISTRATION_CONFIGMAP
from hcp.dataplane.registration import pool_registration, published_node_config, registration_configmap
from hcp.ignition import nodeconfig
from hcp.ignition.nodeconfig import NodeConfig
from hcp.dataplane.tokens import (
    TOKEN_NAMESPACE,
    TOKEN_SECRET_PREFIX,
    VALIDITY,
    format_time,
    hosted_token_secret,
    management_tokens_secret,
    new_token,
    plan_tokens,
    secret_value,
    token_of,
)
from hcp.kube.apply import apply, delete_if_exists, owner_reference
from hcp.platforms.provider import JOINING_PLATFORMS
from hcp.kube.controller import Controller, Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.watched import WatchedClusters
from hcp.kube.objects import as_dict, make_key, split_key
from hcp.api.validation import node_pool_problems

log = logging.getLogger(__name__)

TOKEN_PLATFORMS = JOINING_PLATFORMS
"""NodePool platforms whose machines join with a bootstrap token (KWOK's Nodes are made by hcp itself)."""
RESYNC = 600.0
"""Seconds between passes when nothing changes, so that drift the caches cannot see is repaired."""
NODE_RECHECK = 5.0
CONFIG_RECHECK = 15.0
"""Seconds between looks at the ConfigMaps of joining pools' spec.config, which are not watched."""
"""Seconds before a serving CSR waiting for its Node's addresses is looked at again."""
CREATE_ATTEMPTS = 3
CONFIG_RECHECK = 10.0
"""Seconds between looks for ConfigMap hosted-cluster-config while the control plane has not published it."""
ROLLOUT_RECHECK = 15.0
"""Seconds between passes while a hosted component's DaemonSet or Deployment is rolling out."""
RESOLVE_TIMEOUT = 10.0
"""Seconds to wait for the published API host name to resolve."""
EVENT_OBJECTS = 6
"""Objects named in one event before the rest are only counted."""


class DataPlaneController:
    def __init__(self, client: AsyncClient, events: EventRecorder, *, control_planes: Informer,
                 node_pools: Informer, workers: int = 2) -> None:
        self.client = client
        self.events = events
        self.control_planes = control_planes
        self.node_pools = node_pools
        self._watched = WatchedClusters(client, self._watch)
        self._components: dict[str, ClusterState] = {}
        """Control-plane key -> what was last applied and reported there (see hcp.dataplane.hosted)."""
        self.controller = Controller("dataplane", self.reconcile, workers=workers)
        self.controller.watch(control_planes)
        self.controller.watch(node_pools, self._control_plane_keys)

    @staticmethod
    def _control_plane_keys(pool: Any) -> list[str]:
        """A NodePool concerns the HostedControlPlane of its cluster (`<namespace>-<cluster>/<cluster>`)."""
        cluster = (pool.spec or {}).get("clusterName")
        if not cluster:
            return []
        return [make_key(control_plane_namespace(pool.metadata.namespace, cluster), cluster)]

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.control_planes.get(namespace, name)
        hcp = None
        if live is not None and not live.metadata.deletionTimestamp:
            hcp = parse(HostedControlPlane, as_dict(live))[0]
        if hcp is None:
            await self._watched.release(lambda watched: watched != key)
            self._components.pop(key, None)
            return None
        pause = pause_state(hcp.spec.paused_until)
        if pause.paused:
            return Result(requeue_after=pause.resume_in)
        access = await self._watched.get(key, hcp)
        if access is None:
            return None  # the HostedControlPlane's status, once ready, brings it back
        if not access.synced:
            return Result(requeue_after=1.0)

        now = datetime.now(UTC)
        await self._keep_rbac(access)
        waits = [RESYNC]
        token_wake = await self._keep_tokens(live, access, now)
        if token_wake is not None:
            waits.append((token_wake - now).total_seconds() + 1)
        if await self._decide_serving_csrs(live, access, now):
            waits.append(NODE_RECHECK)
        if any(pool.spec.config for pool in self._joining_pools(live)):
            waits.append(CONFIG_RECHECK)  # spec.config's ConfigMaps are not watched
        waits.append(await self._keep_components(key, live, hcp, access))
        return Result(requeue_after=max(1.0, min(waits)))

    # The hosted cluster.

    def _watch(self, key: str, kubeconfig: bytes) -> DataPlaneAccess:
        log.info("watching the hosted cluster's CSRs, node-bootstrap RBAC and bootstrap tokens",
                 extra={"control_plane": key})
        return DataPlaneAccess(key, kubeconfig, lambda event, obj: self.controller.queue.add(key))

    # RBAC.

    async def _keep_rbac(self, access: DataPlaneAccess) -> None:
        for desired in cluster_role_bindings():
            name = desired["metadata"]["name"]
            live = access.bindings.get(None, name)
            if not needs_apply(desired, as_dict(live) if live is not None else None):
                continue
            try:
                await apply(access.client, desired)
            except ApiError as error:
                if error.status.code != 422:
                    raise
                # Someone else's binding of that name, with another (immutable) roleRef: ours replaces it.
                await delete_if_exists(access.client, ClusterRoleBinding, name)
                await apply(access.client, desired)
            log.info("applied ClusterRoleBinding", extra={"cluster": access.name, "binding": name})

    # Bootstrap tokens.

    def _joining_pools(self, live: Any) -> list[NodePool]:
        """NodePools of this cluster whose machines join: valid, of a joining platform, not being deleted."""
        value = (live.metadata.annotations or {}).get(CLUSTER_ANNOTATION)
        if not value:
            return []
        namespace, cluster = split_key(value)
        pools = []
        for candidate in self.node_pools.list(namespace):
            if candidate.metadata.deletionTimestamp:
                continue
            pool = parse(NodePool, as_dict(candidate))[0]
            if (pool is not None and pool.spec.cluster_name == cluster
                    and pool.spec.platform.type in TOKEN_PLATFORMS and not node_pool_problems(pool)):
                pools.append(pool)
        return pools

    def _token_pools(self, live: Any) -> list[str]:
        """NodePools of this cluster that need a bootstrap token: the joining ones."""
        return [pool.metadata.name for pool in self._joining_pools(live)]

    async def _keep_tokens(self, live: Any, access: DataPlaneAccess, now: datetime) -> datetime | None:
        """Publish the pools' registration settings, create, rotate and delete their tokens, and publish each
        pool's current one; returns when the plan next changes."""
        pools = self._joining_pools(live)
        # Settings first: a machine that got a new pool's token finds its labels and taints sooner.
        nodes = await self._node_configs(live, pools)
        await self._publish_registration(live, {pool.metadata.name: pool_registration(pool, nodes[pool.metadata.name])
                                                for pool in pools})
        cached = {}
        for secret in access.tokens.list(TOKEN_NAMESPACE):
            token = token_of(secret)
            if token is not None:
                cached[token.id] = (token, as_dict(secret))
        plan = plan_tokens([pool.metadata.name for pool in pools], [token for token, _ in cached.values()], now)

        for token_id in plan.delete:
            token = cached[token_id][0]
            await delete_if_exists(access.client, Secret, f"{TOKEN_SECRET_PREFIX}{token_id}", TOKEN_NAMESPACE)
            log.info("deleted bootstrap token", extra={"cluster": access.name, "pool": token.pool, "token": token_id})
            await self.events.record(live, NORMAL, "BootstrapTokenDeleted",
                                     f"Deleted bootstrap token {token_id} of NodePool {token.pool}")

        current: dict[str, tuple[str, str, datetime]] = {}
        for pool, token_id in plan.current.items():
            token, secret = cached[token_id]
            current[pool] = (token_id, secret_value(secret, "token-secret"), token.expires)
        created = []
        for pool in plan.create:
            token_id, token_secret, expires = await self._create_token(access, pool, set(cached), now)
            current[pool] = (token_id, token_secret, expires)
            created.append(token_id)
            log.info("created bootstrap token", extra={"cluster": access.name, "pool": pool, "token": token_id})
            await self.events.record(live, NORMAL, "BootstrapTokenCreated",
                                     f"Created bootstrap token {token_id} for NodePool {pool}, valid until "
                                     f"{format_time(expires)}")
        if created:
            await access.until(lambda: all(access.tokens.get(TOKEN_NAMESPACE, f"{TOKEN_SECRET_PREFIX}{token_id}")
                                           for token_id in created))
        await self._publish_tokens(live, current)
        return plan.wake_at

    async def _create_token(self, access: DataPlaneAccess, pool: str, taken: set[str],
                            now: datetime) -> tuple[str, str, datetime]:
        """A new token in the hosted kube-system; an id someone else's token has is tried again with another."""
        expires = (now + VALIDITY).replace(microsecond=0)
        for attempt in range(CREATE_ATTEMPTS):
            token_id, token_secret = new_token(taken)
            try:
                await access.client.create(from_dict(hosted_token_secret(pool, token_id, token_secret, expires)))
            except ApiError as error:
                if error.status.code != 409 or attempt == CREATE_ATTEMPTS - 1:
                    raise
                taken.add(token_id)
                continue
            return token_id, token_secret, expires
        raise AssertionError("unreachable")

    async def _publish_tokens(self, live: Any, current: Mapping[str, tuple[str, str, datetime]]) -> None:
        """Secret bootstrap-tokens in the control-plane namespace holds each pool's current token under the
        pool's name; the key of a pool that has none any more is applied away (the operator deletes no Secret)."""
        desired = management_tokens_secret(live.metadata.namespace, {
            pool: f"{token_id}.{token_secret}" for pool, (token_id, token_secret, _) in current.items()})
        await self._publish_per_pool(live, Secret, desired, sorted(current), "the NodePools' bootstrap tokens")

    async def _node_configs(self, live: Any, pools: list[NodePool]) -> dict[str, NodeConfig]:
        """Each pool's node configuration from the ConfigMaps of its spec.config (hcp.ignition.nodeconfig).

        While one is missing or refused (the NodePool says so in ValidMachineConfig, and rolls nothing),
        the configuration published before stays, so machines that join meanwhile get the last valid one.
        """
        published = None
        configs: dict[str, NodeConfig] = {}
        for pool in pools:
            try:
                parsed = []
                for ref in pool.spec.config or ():
                    found = await self.client.get(ConfigMap, ref.name, namespace=pool.metadata.namespace)
                    parsed.append(nodeconfig.parse(ref.name, found.data))
                configs[pool.metadata.name] = nodeconfig.merge(parsed)
            except (ApiError, nodeconfig.NodeConfigError) as error:
                if isinstance(error, ApiError) and error.status.code != 404:
                    raise
                if published is None:
                    published = await self._published_registration(live)
                configs[pool.metadata.name] = published_node_config(published, pool.metadata.name)
        return configs

    async def _published_registration(self, live: Any) -> dict[str, str]:
        try:
            found = await self.client.get(ConfigMap, REGISTRATION_CONFIGMAP, namespace=live.metadata.namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            return {}
        return dict(found.data or {})

    async def _publish_registration(self, live: Any, pools: Mapping[str, Mapping[str, Any]]) -> None:
        """ConfigMap nodepool-registration in the control-plane namespace holds each joining pool's labels and
        taints under the pool's name, for the ignition server; a key of a pool that is gone is applied away."""
        desired = registration_configmap(live.metadata.namespace, pools)
        await self._publish_per_pool(live, ConfigMap, desired, sorted(pools),
                                     "the NodePools' registration settings")

    async def _publish_per_pool(self, live: Any, resource: Any, desired: dict[str, Any], pools: list[str],
                                what: str) -> None:
        """Apply `desired` (a key per pool, owned by the control plane) unless it is already there as it is,
        or absent and empty; a read first, so a steady state costs no write."""
        namespace, name = live.metadata.namespace, desired["metadata"]["name"]
        owner = owner_reference(live)
        desired["metadata"]["ownerReferences"] = [owner]
        try:
            found = await self.client.get(resource, name, namespace=namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            found = None
        if found is None and not pools:
            return
        if found is not None and (found.data or {}) == desired["data"] and \
                [as_dict(r) for r in found.metadata.ownerReferences or ()] == [owner]:
            return
        await apply(self.client, desired)
        log.info(f"published {what}", extra={"namespace": namespace, "object": f"{desired['kind']}/{name}",
                                             "pools": pools})

    # Kubelet serving certificates.

    async def _decide_serving_csrs(self, live: Any, access: DataPlaneAccess, now: datetime) -> bool:
        """Approve or deny the pending kubelet serving CSRs of nodes; True if one waits for its Node."""
        waiting = False
        for csr in access.csrs.list():
            body = as_dict(csr)
            node_name = requesting_node(body)
            if node_name is None:
                continue
            verdict = serving_verdict(body, await _node(access, node_name), now)
            if verdict is None:
                continue
            if verdict.action == Action.WAIT:
                waiting = True
                continue
            await self._decide(live, access, body, verdict, now)
        return waiting

    async def _decide(self, live: Any, access: DataPlaneAccess, csr: dict[str, Any], verdict: Verdict,
                      now: datetime) -> None:
        approve = verdict.action == Action.APPROVE
        condition = {"type": "Approved" if approve else "Denied", "status": "True", "reason": verdict.reason,
                     "message": verdict.message, "lastUpdateTime": format_time(now)}
        status = csr.get("status") or {}
        body = {**csr, "status": {**status, "conditions": [*(status.get("conditions") or ()), condition]}}
        name = csr["metadata"]["name"]
        try:
            await access.client.replace(CertificateSigningRequest.Approval.from_dict(body), name)
        except ApiError as error:
            if error.status.code in (404, 409):  # gone, or changed since cached: the next pass decides again
                return
            raise
        requester = csr["spec"]["username"]
        log.info("approved kubelet serving CSR" if approve else "denied kubelet serving CSR",
                 extra={"cluster": access.name, "csr": name, "requester": requester, "reason": verdict.reason})
        if approve:
            await self.events.record(live, NORMAL, "KubeletServingCertificateApproved",
                                     f"Approved CSR {name} of {requester}")
        else:
            await self.events.record(live, WARNING, "KubeletServingCertificateDenied",
                                     f"Denied CSR {name} of {requester} ({verdict.reason}): {verdict.message}")

    # The hosted cluster's own components.

    async def _keep_components(self, key: str, live: Any, hcp: HostedControlPlane, access: DataPlaneAccess) -> float:
        """Apply every component, remove leftovers, keep the kubernetes Service's endpoints; returns the seconds
        until the next pass this needs. A failure (of the hosted API for one component, of a render, of the
        endpoint) is logged and recorded and leaves the rest to go on; the pass then comes back with backoff."""
        state = self._cluster_state(key, live, access)
        if not hosted_config.published_for(hcp.spec.platform.type):
            return RESYNC  # nothing runs the components (KWOK): nothing to apply, no ConfigMap to wait for
        ok = True
        try:
            config = await self._hosted_config(live)
            secrets = await self._control_plane_secrets(live.metadata.namespace) if config else {}
        except (ApiError, hosted_config.ConfigError) as error:
            message = (f"cannot read the control plane's {hosted_config.NAME} or Secrets: {error.status.message}"
                       if isinstance(error, ApiError) else f"invalid ConfigMap {hosted_config.NAME}: {error}")
            log.warning("hosted components skipped: %s", message, extra={"cluster": access.name})
            reason = "HostedClusterConfigUnreadable" if isinstance(error, ApiError) else "HostedClusterConfigInvalid"
            await self.events.record(live, WARNING, reason, message)
            return self._failed(state)
        if config is None:
            log.debug("waiting for the control plane's %s", hosted_config.NAME, extra={"cluster": access.name})
            return CONFIG_RECHECK
        ctx = hosted_context(hcp, config, secrets)
        await self._report_network_type(live, access, state, ctx.network_type)
        ok &= await self._keep_kubernetes_endpoints(live, access, state, ctx.api_server, ctx.service_cidrs)

        rendered = render_components(ctx)
        for component, message in rendered.failed.items():
            log.warning("cannot render hosted component %s: %s", component, message,
                        extra={"cluster": access.name, "component": component})
            await self.events.record(live, WARNING, "HostedComponentNotRendered",
                                     f"Cannot render {component}: {message}")
        observed, listed = await self._list_components(access)
        failed = await self._apply_components(live, access, state, rendered, observed, listed)
        failed |= await self._remove_leftovers(live, access, state, rendered, observed)
        ok &= not rendered.failed and not failed and len(listed) == len(KINDS)
        # Forget what is no longer rendered, so that it is applied at once if it is rendered again.
        desired = rendered.keys
        state.applied = {object_: applied for object_, applied in state.applied.items()
                         if object_ in desired or object_[0] not in _KIND_NAMES}

        waiting = not_rolled_out(desired, {object_: body for object_, (_, body) in observed.items()})
        await self._report_rollout(live, access, state, waiting)
        if not ok:
            return self._failed(state)
        state.failures = 0
        return ROLLOUT_RECHECK if waiting else RESYNC

    def _cluster_state(self, key: str, live: Any, access: DataPlaneAccess) -> ClusterState:
        """What is remembered about this cluster; afresh for a recreated control plane, and its applies
        forgotten for a new access (a new kubeconfig may be another API server)."""
        state = self._components.get(key)
        if state is None or state.uid != live.metadata.uid:
            state = self._components[key] = ClusterState(uid=live.metadata.uid)
        if state.access is not access:
            state.access = access
            state.applied.clear()
        return state

    @staticmethod
    def _failed(state: ClusterState) -> float:
        state.failures += 1
        return backoff(state.failures)

    async def _hosted_config(self, live: Any) -> hosted_config.HostedClusterConfig | None:
        """The control plane's ConfigMap hosted-cluster-config, parsed; None until it exists."""
        try:
            found = await self.client.get(ConfigMap, hosted_config.NAME, namespace=live.metadata.namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise
        return hosted_config.parse((found.data or {}).get(hosted_config.KEY))

    async def _control_plane_secrets(self, namespace: str) -> dict[str, dict[str, bytes]]:
        """The control-plane Secrets the components copy from (hosted.MANAGEMENT_SECRETS) that exist, decoded."""
        found = {}
        for name in MANAGEMENT_SECRETS:
            try:
                secret = await self.client.get(Secret, name, namespace=namespace)
            except ApiError as error:
                if error.status.code == 404:
                    continue
                raise
            found[name] = decode_secret(secret.data)
        return found

    async def _report_network_type(self, live: Any, access: DataPlaneAccess, state: ClusterState,
                                   network_type: NetworkType) -> None:
        """A Warning once per change to a networkType hcp cannot deploy."""
        if state.network_type == network_type:
            return
        state.network_type = network_type
        problem = network_type_problem(network_type)
        if problem is not None:
            log.warning(problem, extra={"cluster": access.name, "network_type": str(network_type)})
            await self.events.record(live, WARNING, "UnsupportedNetworkType", problem)

    async def _keep_kubernetes_endpoints(self, live: Any, access: DataPlaneAccess, state: ClusterState,
                                         endpoint: Endpoint, cidrs: tuple[str, ...]) -> bool:
        """Point Endpoints and EndpointSlice default/kubernetes at the published API endpoint (resolved if it
        is a name); False if that failed, leaving what is there."""
        try:
            resolved = [endpoint.host] if endpoint.host_is_ip else await _resolve(endpoint.host, endpoint.port)
            addresses = service_addresses(endpoint.host, resolved, cidrs)
        except (OSError, TimeoutError, EndpointError) as error:
            message = str(error) if isinstance(error, EndpointError) else \
                f"the published API endpoint {endpoint.host} does not resolve: {error}"
            log.warning("cannot point the kubernetes Service at the API server: %s", message,
                        extra={"cluster": access.name})
            await self.events.record(live, WARNING, "KubernetesEndpointsUnresolved", message)
            return False
        now = time.monotonic()
        changed = False
        for desired in kubernetes_endpoints(addresses, endpoint.port):
            key, wanted = object_key(desired), digest(desired)
            last = state.applied.get(key)
            if not apply_due(wanted, last, now, present=True, resync=RESYNC):
                continue
            try:
                await self._apply(access, desired)
            except ApiError as error:
                message = f"cannot write {describe(key)}: {error.status.message}"
                log.warning(message, extra={"cluster": access.name})
                await self.events.record(live, WARNING, "KubernetesEndpointsFailed", message)
                return False
            state.applied[key] = Applied(wanted, now)
            changed |= last is None or last.digest != wanted
        if changed:
            target = ", ".join(f"{address}:{endpoint.port}" for address in addresses)
            log.info("pointed the kubernetes Service at the published API endpoint",
                     extra={"cluster": access.name, "endpoint": target})
            await self.events.record(live, NORMAL, "KubernetesEndpointsUpdated",
                                     f"The kubernetes Service points at the published API endpoint {target}")
        return True

    async def _list_components(self, access: DataPlaneAccess) -> tuple[dict[ObjectKey, tuple[str, dict]], set[str]]:
        """The live objects hcp's components applied (not being deleted): key -> (component, object), and the
        kinds that could be listed (a kind that could not is neither cleaned up nor known to be missing)."""
        selector = {COMPONENT_LABEL: operators.exists(), **LEFTOVER_SELECTOR_LABELS}
        observed: dict[ObjectKey, tuple[str, dict]] = {}
        listed: set[str] = set()
        for api_version, kind in KINDS:
            resource = resource_registry.load(api_version, kind)
            namespace = "*" if issubclass(resource, lk.NamespacedResource) else None
            try:
                async for obj in access.client.list(resource, namespace=namespace, labels=selector):
                    body = {**as_dict(obj), "apiVersion": api_version, "kind": kind}
                    metadata = body.get("metadata") or {}
                    if not metadata.get("deletionTimestamp"):
                        observed[object_key(body)] = ((metadata.get("labels") or {}).get(COMPONENT_LABEL, ""), body)
            except ApiError as error:
                log.warning("cannot list the hosted components' %ss: %s", kind, error.status.message,
                            extra={"cluster": access.name})
                continue
            listed.add(kind)
        return observed, listed

    async def _apply_components(self, live: Any, access: DataPlaneAccess, state: ClusterState, rendered: Rendered,
                                observed: dict[ObjectKey, tuple[str, dict]], listed: set[str]) -> set[str]:
        """Apply what changed, went missing or is due a resync, in order; returns the components that failed.
        A component's first refused object stops that component alone for this pass."""
        now = time.monotonic()
        failed: set[str] = set()
        changes: dict[str, list[str]] = {}
        for component, desired in rendered.objects:
            if component in failed:
                continue
            key, wanted = object_key(desired), digest(desired)
            before = observed.get(key)
            present = before is not None or key[0] not in listed
            if not apply_due(wanted, state.applied.get(key), now, present=present, resync=RESYNC):
                continue
            try:
                result = as_dict(await self._apply(access, desired))
            except ApiError as error:
                failed.add(component)
                message = f"Cannot apply {component}: {describe(key)}: {error.status.message}"
                log.warning(message, extra={"cluster": access.name, "component": component})
                await self.events.record(live, WARNING, "HostedComponentApplyFailed", message)
                continue
            state.applied[key] = Applied(wanted, now)
            version = (result.get("metadata") or {}).get("resourceVersion")
            if before is None or (before[1].get("metadata") or {}).get("resourceVersion") != version:
                changes.setdefault(component, []).append(
                    f"{'created' if before is None else 'configured'} {describe(key)}")
                observed[key] = (component, {**result, "apiVersion": desired["apiVersion"], "kind": key[0]})
        for component, done in changes.items():
            log.info("applied hosted component", extra={"cluster": access.name, "component": component,
                                                        "objects": done})
            await self.events.record(live, NORMAL, "HostedComponentApplied", f"Applied {component}: {_list(done)}")
        return failed

    async def _remove_leftovers(self, live: Any, access: DataPlaneAccess, state: ClusterState, rendered: Rendered,
                                observed: dict[ObjectKey, tuple[str, dict]]) -> set[str]:
        """Delete what no component renders any more; returns the components a deletion failed for."""
        found = [LiveObject(key, component) for key, (component, _) in observed.items()]
        failed: set[str] = set()
        removed: dict[str, list[str]] = {}
        for obj in leftovers(rendered.keys, found, rendered.failed):
            kind, namespace, name = obj.key
            api_version = observed[obj.key][1]["apiVersion"]
            try:
                await delete_if_exists(access.client, resource_registry.load(api_version, kind), name, namespace)
            except ApiError as error:
                failed.add(obj.component)
                message = f"Cannot remove {describe(obj.key)} of {obj.component}: {error.status.message}"
                log.warning(message, extra={"cluster": access.name, "component": obj.component})
                await self.events.record(live, WARNING, "HostedComponentRemoveFailed", message)
                continue
            del observed[obj.key]
            state.applied.pop(obj.key, None)
            removed.setdefault(obj.component, []).append(describe(obj.key))
        for component, done in removed.items():
            log.info("removed what hosted component no longer renders",
                     extra={"cluster": access.name, "component": component, "objects": done})
            await self.events.record(live, NORMAL, "HostedComponentRemoved", f"Removed from {component}: {_list(done)}")
        return failed

    async def _report_rollout(self, live: Any, access: DataPlaneAccess, state: ClusterState,
                              waiting: list[str]) -> None:
        """An event when the set of hosted workloads not rolled out changes."""
        if state.unavailable == tuple(waiting):
            return
        state.unavailable = tuple(waiting)
        if waiting:
            message = f"Waiting for {_list(waiting)} to roll out in the hosted cluster"
            log.info(message, extra={"cluster": access.name})
            await self.events.record(live, NORMAL, "HostedComponentsProgressing", message)
        else:
            message = "Every hosted component is rolled out in the hosted cluster"
            log.info(message, extra={"cluster": access.name})
            await self.events.record(live, NORMAL, "HostedComponentsAvailable", message)

    @staticmethod
    async def _apply(access: DataPlaneAccess, desired: dict[str, Any]) -> Any:
        """Server-side apply in the hosted cluster; a kind with immutable fields is replaced when they change."""
        try:
            return await apply(access.client, desired)
        except ApiError as error:
            if error.status.code != 422 or desired["kind"] not in RECREATE_KINDS:
                raise
        kind, namespace, name = object_key(desired)
        await delete_if_exists(access.client, resource_registry.load(desired["apiVersion"], kind), name, namespace)
        return await apply(access.client, desired)


async def _node(access: DataPlaneAccess, name: str) -> dict[str, Any] | None:
    try:
        return as_dict(await access.client.get(Node, name))
    except ApiError as error:
        if error.status.code == 404:
            return None
        raise


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, looked up off the event loop (the loop's executor)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    return [str(info[4][0]) for info in infos]


def _list(items: list[str]) -> str:
    """Items for an event message: the first EVENT_OBJECTS, then how many more."""
    shown = ", ".join(items[:EVENT_OBJECTS])
    return shown if len(items) <= EVENT_OBJECTS else f"{shown} and {len(items) - EVENT_OBJECTS} more"


_KIND_NAMES = frozenset(kind for _, kind in KINDS)
