"""The health watch of settled control planes: a cheap /readyz probe between full passes.

A HostedControlPlane is Available while every component serves and its
published endpoint answers /readyz (hcp.controlplane.controller.derived_conditions).
The components' side is watched: their Deployments and StatefulSets are in the
operator's caches, and a kube-apiserver whose own /readyz fails stops being
Ready, which changes its Deployment, which brings a full pass. What no watch
shows is the path a client outside takes to the published endpoint. The full
pass of a settled control plane comes only every controller.RESYNC seconds,
so in between this controller asks that endpoint /readyz every HEALTH_PROBE
seconds, the way the full pass does (controller.probe_readyz) and with
nothing else: no render, no list, no write. When a control plane that says
it is Available does not answer, it queues a full pass, which probes again
and writes the condition: the one place Available is decided stays the full pass.

Only a control plane that says Available=True (and is not paused, not being
deleted, and has a published endpoint and a root CA) is probed: one that is not
Available is still progressing and its own passes come every
controller.PROGRESS_RECHECK seconds. The decision is pure (`probe_target`)
and every HostedControlPlane change re-evaluates it, so a control plane that
becomes Available is probed from then on, also after an operator restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hcp.api.pause import pause_state
from hcp.controlplane.context import Endpoint
from hcp.controlplane.pki import CA_CERT_KEY, ROOT_CA, secret_data
from hcp.kube.controller import Result
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict, split_key

HEALTH_PROBE = 120.0
"""Seconds between two probes of a settled control plane's published /readyz: how late at most (plus the
full pass it brings) a control plane that stopped answering outside is said not Available. A probe is one
TLS connection, about 5 ms of the operator's CPU: 0.04 mCPU per control plane at this period."""

Probe = Callable[[Endpoint, bytes], Awaitable[tuple[bool, str]]]
"""Whether the endpoint answers /readyz trusting the CA, and why not (controller.probe_readyz)."""


def probe_target(hcp: dict[str, Any], root_ca: bytes | None, now: datetime | None = None) -> Endpoint | None:
    """The endpoint to probe for this HostedControlPlane (a dict), or None when it is not for this probe: not
    Available=True (still progressing: its own passes look), paused (not looked at), being deleted, without
    a published endpoint in its status or without a root CA to trust (pure)."""
    metadata, spec, status = hcp.get("metadata") or {}, hcp.get("spec") or {}, hcp.get("status") or {}
    if metadata.get("deletionTimestamp") or pause_state(spec.get("pausedUntil"), now).paused:
        return None
    available = next((c for c in status.get("conditions") or () if c.get("type") == "Available"), None)
    if available is None or available.get("status") != "True":
        return None
    published = status.get("controlPlaneEndpoint") or {}
    if not published.get("host") or not published.get("port") or not root_ca:
        return None
    return Endpoint(published["host"], int(published["port"]))


class HealthProbe:
    """Probes each settled HostedControlPlane's published /readyz every HEALTH_PROBE seconds; calls
    `full_pass(key)` (the HostedControlPlane controller's queue) when one that says Available does not answer.

    `secrets`: the operator's cache of control-plane Secrets (managed-by hcp), where the root CA is read.
    """

    def __init__(self, *, control_planes: Informer, secrets: Informer, full_pass: Callable[[str], None],
                 probe: Probe) -> None:
        self.control_planes = control_planes
        self.secrets = secrets
        self.full_pass = full_pass
        self.probe = probe

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.control_planes.get(namespace, name)
        if live is None:
            return None
        root_ca = self.secrets.get(namespace, ROOT_CA)
        ca = secret_data(as_dict(root_ca)).get(CA_CERT_KEY) if root_ca is not None else None
        endpoint = probe_target(as_dict(live), ca)
        if endpoint is None:
            return None  # a change of the HostedControlPlane (it becomes Available) brings it back
        ready, _ = await self.probe(endpoint, ca)
        if not ready:
            self.full_pass(key)
        return Result(requeue_after=HEALTH_PROBE)
