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
  namespace, owned by the HostedControlPlane;
- approves or denies the kubelet serving CSRs of nodes (hcp.dataplane.csr).

Everything is recomputed from the watched caches and the NodePools on each
pass; the only waits kept are requeues (the next token renewal or expiry, a
Node that has not reported its addresses yet). What it does is logged and
recorded as Events on the HostedControlPlane. A paused HostedControlPlane is
left alone, like the rest of its control plane.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.codecs import from_dict
from lightkube.resources.certificates_v1 import CertificateSigningRequest
from lightkube.resources.core_v1 import Node, Secret
from lightkube.resources.rbac_authorization_v1 import ClusterRoleBinding

from hcp.api import HostedControlPlane, NodePool
from hcp.api.names import CLUSTER_ANNOTATION, control_plane_namespace
from hcp.api.parse import parse
from hcp.api.pause import pause_state
from hcp.api.v1beta1.platform import PlatformType
from hcp.dataplane.access import DataPlaneAccess
from hcp.dataplane.csr import Action, Verdict, requesting_node, serving_verdict
from hcp.dataplane.rbac import cluster_role_bindings, needs_apply
from hcp.dataplane.tokens import (
    MANAGEMENT_SECRET,
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
from hcp.kube.controller import Controller, Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.watched import WatchedClusters
from hcp.kube.objects import as_dict, make_key, split_key
from hcp.api.validation import node_pool_problems

log = logging.getLogger(__name__)

TOKEN_PLATFORMS = (PlatformType.NONE,)
"""NodePool platforms whose machines join with a bootstrap token (KWOK's Nodes are made by hcp itself)."""
RESYNC = 600.0
"""Seconds between passes when nothing changes, so that drift the caches cannot see is repaired."""
NODE_RECHECK = 5.0
"""Seconds before a serving CSR waiting for its Node's addresses is looked at again."""
CREATE_ATTEMPTS = 3


class DataPlaneController:
    def __init__(self, client: AsyncClient, events: EventRecorder, *, control_planes: Informer,
                 node_pools: Informer, workers: int = 2) -> None:
        self.client = client
        self.events = events
        self.control_planes = control_planes
        self.node_pools = node_pools
        self._watched = WatchedClusters(client, self._watch)
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

    def _token_pools(self, live: Any) -> list[str]:
        """NodePools of this cluster that need a bootstrap token: valid, of a joining platform, not being deleted."""
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
                pools.append(pool.metadata.name)
        return pools

    async def _keep_tokens(self, live: Any, access: DataPlaneAccess, now: datetime) -> datetime | None:
        """Create, rotate and delete the pools' tokens, and publish each pool's current one; returns when
        the plan next changes."""
        cached = {}
        for secret in access.tokens.list(TOKEN_NAMESPACE):
            token = token_of(secret)
            if token is not None:
                cached[token.id] = (token, as_dict(secret))
        plan = plan_tokens(self._token_pools(live), [token for token, _ in cached.values()], now)

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
        namespace = live.metadata.namespace
        desired = management_tokens_secret(namespace, {pool: f"{token_id}.{token_secret}"
                                                       for pool, (token_id, token_secret, _) in current.items()})
        owner = owner_reference(live)
        desired["metadata"]["ownerReferences"] = [owner]
        try:
            found = await self.client.get(Secret, MANAGEMENT_SECRET, namespace=namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
            found = None
        if found is None and not current:
            return
        if found is not None and (found.data or {}) == desired["data"] and \
                [as_dict(r) for r in found.metadata.ownerReferences or ()] == [owner]:
            return
        await apply(self.client, desired)
        log.info("published the NodePools' bootstrap tokens",
                 extra={"namespace": namespace, "secret": MANAGEMENT_SECRET, "pools": sorted(current)})

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


async def _node(access: DataPlaneAccess, name: str) -> dict[str, Any] | None:
    try:
        return as_dict(await access.client.get(Node, name))
    except ApiError as error:
        if error.status.code == 404:
            return None
        raise
