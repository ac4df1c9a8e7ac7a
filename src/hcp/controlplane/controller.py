"""The HostedControlPlane controller: from a HostedControlPlane to running control-plane pods.

Every pass recomputes the whole desired state: resolve the release, publish
the API server and the konnectivity server, keep the PKI, render every
component and apply it all with server-side apply, owned by the
HostedControlPlane so that deleting it removes everything (an object the
watch-fed caches show as this controller left it is not sent again,
hcp.kube.applied: a change by anyone is a watch event and a pass), then delete
what a component rendered before and renders no more (the EncryptionConfiguration
once spec.secretEncryption is gone: hcp.controlplane.render.leftovers). Status is
derived from what is observed, never remembered: each enabled component
reports its own (hcp.controlplane.status: its workloads available and rolled
out, or degraded, from the workloads and, while something is rolling, its
pods), and the HostedControlPlane's Available (every component serves and
the published endpoint answers /readyz), Degraded (which components, and
why) and the release it runs (every component rolled out) follow from them.
Components are applied in the order their dependencies give
(hcp.controlplane.ordering). The konnectivity endpoint is learnt
the same way as the API server's but not waited for: the control plane runs
without agents, and Available means what it meant before.

When passes come: on a change of anything a pass reads that is watched (the
HostedControlPlane, every object it renders, the copies of its HostedCluster's
Secrets and ConfigMaps, CertificateRevocationRequests), every PROGRESS_RECHECK
seconds while it is not settled, and, once settled, every RESYNC seconds (ten
minutes) for what is not watched and for any missed event. A settled control
plane's health in between is the cheap /readyz probe of
hcp.controlplane.health, which asks for a full pass when the endpoint stops
answering; so an idle control plane costs the operator (near) nothing.

Certificates: the PKI renews each leaf and kubeconfig at two thirds of its
life (hcp.controlplane.pki), so a pass comes back no later than the earliest
renewal (`requeue_after`), and the digests of the PKI Secrets go into the
render so that the pods that read a renewed certificate only at start roll.
An invalid hcp.io/certificate-validity annotation is ignored (the default
validity applies) and said in ValidConfiguration.

A HostedControlPlane is served only in a control-plane namespace that hcp
made for a HostedCluster (it carries the HostedCluster's UID mark); one
anywhere else is reported, not rendered. What the models refuse, what
cannot be rendered and what the API server refuses become
ValidConfiguration=False with the reason, never a retry loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from lightkube import ApiError, AsyncClient, operators
from lightkube.codecs import resource_registry
from lightkube.resources.core_v1 import ConfigMap, Namespace, Node, Pod, Secret

from hcp.api import HostedControlPlane
from hcp.api.meta import Condition
from hcp.api.names import HOSTED_CLUSTER_UID_LABEL, HOSTED_CONTROL_PLANE_LABEL
from hcp.api.parse import parse
from hcp.api.v1beta1.hostedcluster import AUDIT_WEBHOOK_KUBECONFIG_KEY
from hcp.api.v1beta1.networking import ServiceType
from hcp.controlplane.components import COMPONENTS
from hcp.controlplane.components.component import COMPONENT_LABEL
from hcp.controlplane.components.etcd.adapter import restore_failure
from hcp.controlplane.components.kube_apiserver.authentication import CA_BUNDLE_KEY, oidc_ca_names
from hcp.controlplane.context import COMPONENT_IMAGES, Endpoint, RenderContext, RenderError
from hcp.controlplane.pki import (
    BREAK_GLASS_SIGNER, CA_CERT_KEY, IGNITION_SERVICE, KAS_SERVICE, KONNECTIVITY_SERVICE, ROOT_CA,
    admin_kubeconfig_ref, certificate_validity, client_ca_bundle, earliest_renewal, fingerprints, pki_secrets,
    secret_data,
)
from hcp.controlplane.revocation_pass import RevocationPass
from hcp.controlplane.ordering import by_component, held, is_workload, update_order, waiting_for
from hcp.controlplane.labels import RENDERED_BY_LABEL, stamp
from hcp.controlplane.publishing import needs_node_addresses, published_endpoint, service_strategy
from hcp.controlplane.render import KINDS, leftovers, render
from hcp.controlplane.status import (
    UNSCHEDULABLE, ComponentStatus, component_status, degraded_condition, workload_available, workload_rolled_out,
)
from hcp.ignition.join import RegistryMirror
from hcp.kube.applied import AppliedObjects
from hcp.kube.apply import apply, apply_status, delete_if_exists, get_or_none, owner_reference
from hcp.kube.conditions import find_condition, refused_status, set_condition
from hcp.kube.controller import Result
from hcp.kube.events import NORMAL, WARNING, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.leftovers import LiveObject, describe, object_key
from hcp.kube.objects import as_dict, split_key
from hcp.api.pause import pause_state
from hcp.release.resolver import Releases
from hcp.release import Release, ReleaseError

log = logging.getLogger(__name__)

PUBLISHED_SERVICES = ((ServiceType.API_SERVER, KAS_SERVICE), (ServiceType.KONNECTIVITY, KONNECTIVITY_SERVICE),
                      (ServiceType.IGNITION, IGNITION_SERVICE))
"""The services published outside the management cluster, with the Service of each: applied from the
provisional render, so that their endpoints are known before the PKI and the rest are rendered."""
UPDATE_ORDER = update_order(COMPONENTS)
"""The components, every dependency before its dependents: the order a pass applies them in."""
PROGRESS_RECHECK = 5.0
"""Seconds between passes while the control plane is not settled (not Available, rolling, revoking)."""
RETRY_RECHECK = 60.0
"""Seconds between passes while the release or the configuration is refused: what is wrong may be outside
any watch (a release pushed to the registry later)."""
RESYNC = 600.0
"""Seconds between full passes of a settled control plane (Available, rolled out), unless something it
reads changes first. Every input that changes in normal operation is watched: the HostedControlPlane, every
object it renders (their caches), the copies of the HostedCluster's Secrets and ConfigMaps in its namespace,
CertificateRevocationRequests; certificate renewal is a time of its own (`requeue_after`); the published
endpoint's /readyz is probed every hcp.controlplane.health.HEALTH_PROBE seconds without a pass. This resync
is for what is not watched and changes rarely (the control-plane namespace's labels, the release payload in
its registry, the management nodes' addresses a NodePort is published on) and for any event the watches
missed: still level-triggered, only later. Ten minutes: a settled control plane costs the operator (near)
nothing in between, and a missed change is still corrected within minutes."""


@dataclass(frozen=True)
class ControlPlaneSettings:
    """What the operator is told about its world that control planes render from."""

    image: str = ""
    """The operator's own image (OPERATOR_IMAGE): hcp's services in control planes run it."""
    registry_mirrors: tuple[RegistryMirror, ...] = ()
    """Where nodes pull the release's images from (operator flag --node-registry)."""
    pull_secret: bytes | None = field(default=None, repr=False)
    """The registry's pull credentials (dockerconfigjson, operator flag --registry-auth): copied into each
    control-plane namespace as Secret PULL_SECRET, which every control-plane pod pulls with."""


PULL_SECRET = "pull-secret"
"""The control-plane namespace's pull secret, named as HyperShift names it there."""


def pull_secret(namespace: str, dockerconfigjson: bytes) -> dict[str, Any]:
    """The dockerconfigjson Secret control-plane pods name in imagePullSecrets."""
    return stamp({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": PULL_SECRET},
                  "type": "kubernetes.io/dockerconfigjson",
                  "data": {".dockerconfigjson": base64.b64encode(dockerconfigjson).decode()}}, namespace)


@dataclass
class Observed:
    """What one pass saw of the control plane, for its status."""

    components: dict[str, ComponentStatus]
    """The status of each enabled component, in update order."""
    endpoint: Endpoint | None
    api_ready: bool
    api_error: str = ""
    etcd_restore_error: str | None = None
    """The failed snapshot restore of an etcd member (restoreSnapshotURL), if any."""
    next_renewal: datetime | None = None
    """When the first leaf certificate or kubeconfig of the PKI is due for renewal."""
    revocation_in_progress: bool = False
    """A CertificateRevocationRequest is under way: the pass comes back soon to take its next step."""


def requeue_after(recheck: float, next_renewal: datetime | None, now: datetime) -> float:
    """Seconds until the next pass: `recheck`, or sooner when a certificate is due for renewal before.

    A second past the renewal time, so that the pass finds it due; never less than a second.
    """
    if next_renewal is None:
        return recheck
    return max(1.0, min(recheck, (next_renewal - now).total_seconds() + 1.0))


def etcd_condition(rolled_out: bool, restore_error: str | None, why: str = "") -> tuple[bool, str, str]:
    """EtcdAvailable's status, reason and message: a failed restore is said as such, not as a wait, and a
    wait says what its pods say holds it (`why`: a member no node fits, hcp.controlplane.status.why_not_ready)."""
    if rolled_out:
        return True, "QuorumAvailable", "etcd cluster is available"
    if restore_error:
        return False, "EtcdRestoreFailed", f"restoring restoreSnapshotURL failed: {restore_error}"
    return False, "EtcdWaitingForQuorum", "Waiting for etcd to be ready" + (f": {why}" if why else "")


def derived_conditions(observed: Observed) -> dict[str, tuple[bool, str, str]]:
    """EtcdAvailable, KubeAPIServerAvailable, Available and Degraded (status, reason, message) from the
    components' statuses, the API endpoint's answer and a failed etcd restore.

    Available while every enabled component serves and the published API answers /readyz, also during an
    update (HyperShift: a rolling control plane stays Available); a component that does not serve yet, as in
    a new control plane, holds it back. A disabled component (an unmanaged etcd) is not in `observed` and is
    not waited for. Degraded names each degraded component and why, whether or not it is available.

    What a component's pods say holds it back (hcp.controlplane.status.why_not_ready) leads the messages, so
    that `kubectl get hostedcluster` and `hcp create cluster --wait` say "cannot be scheduled: ... Insufficient
    cpu" rather than only "waiting"; when it is a pod no node fits, Available's reason is `Unschedulable` (the
    pod condition's own reason: HyperShift has no reason of its own for this), which a capacity-aware caller
    can match on.
    """
    statuses = observed.components
    derived: dict[str, tuple[bool, str, str]] = {}
    if "etcd" in statuses:
        etcd = statuses["etcd"]
        derived["EtcdAvailable"] = etcd_condition(etcd.rolled_out, observed.etcd_restore_error,
                                                  etcd.why.message if etcd.why else "")
    else:
        derived["EtcdAvailable"] = (True, "EtcdUnmanaged", "etcd is unmanaged: it is run outside hcp")
    kas = statuses.get("kube-apiserver")
    kas_ok = kas is not None and kas.available
    derived["KubeAPIServerAvailable"] = (
        kas_ok, "AsExpected" if kas_ok else "NotAvailable",
        "Kube APIServer deployment is available" if kas_ok else "Waiting for the kube-apiserver deployment"
        + (f": {kas.why.message}" if kas is not None and kas.why else ""))
    not_serving = [status for status in statuses.values() if not status.available]
    available = not not_serving and observed.api_ready
    reason = "AsExpected" if available else "ComponentsNotAvailable"
    if available:
        message = "The hosted control plane is available"
        held = [status for status in statuses.values() if status.waiting_for]
        if held:
            message += "; updating in dependency order: " + ", ".join(
                f"{status.name} waits for {', '.join(status.waiting_for)}" for status in held)
        stuck = [status for status in statuses.values() if status.why]
        if stuck:  # serving on its old pods; the new ones do not come
            message += "; " + "; ".join(f"{status.name} cannot finish its rollout: {status.why.message}"
                                        for status in stuck)
    elif observed.endpoint is None:
        message = "Waiting for the API server endpoint to be published"
    elif observed.etcd_restore_error:
        message = f"etcd cannot start: restoring restoreSnapshotURL failed: {observed.etcd_restore_error}"
    elif any(status.why for status in not_serving):
        # What a person can act on first: each held component with what its pods say, then the others.
        ordered = sorted(not_serving, key=lambda status: status.why is None)
        message = f"Waiting for {', '.join(status.name for status in ordered)} to roll out: " + "; ".join(
            f"{status.name}: {status.why.message if status.why else status.message}" for status in ordered
            if status.why or status.message)
        if any(status.why and status.why.reason == UNSCHEDULABLE for status in not_serving):
            reason = UNSCHEDULABLE
    elif not_serving:
        details = "; ".join(status.message for status in not_serving if status.message)
        message = f"Waiting for {', '.join(status.name for status in not_serving)} to roll out" + \
            (f" ({details})" if details else "")
    else:
        message = f"The API server at {observed.endpoint.url} is not ready: {observed.api_error}"
    derived["Available"] = (available, reason, message)
    derived["Degraded"] = degraded_condition(statuses.values())
    return derived


class HostedControlPlaneController:
    def __init__(self, client: AsyncClient, releases: Releases, events: EventRecorder, *,
                 control_planes: Informer, owned: dict[str, Informer],
                 settings: ControlPlaneSettings = ControlPlaneSettings(), revocations: Informer | None = None):
        """`owned`: a cache per kind of render.KINDS of the objects hcp manages (its managed-by label), which
        this controller must watch: an unchanged object found there is not applied again (hcp.kube.applied)."""
        self.client = client
        self.revocations = revocations
        """CertificateRevocationRequests (hcp.controlplane.revocation_pass); None: not served."""
        self.settings = settings
        self.releases = releases
        self.events = events
        self.control_planes = control_planes
        self.owned = owned
        self.applied = AppliedObjects()

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.control_planes.get(namespace, name)
        if live is None or live.metadata.deletionTimestamp:
            self.applied.forget(namespace)
            return None
        refused = await self._not_servable(live)
        if refused:
            await apply_status(self.client, HostedControlPlane, name, namespace,
                               refused_status(live, ("ValidConfiguration", "Available"), refused))
            return None  # a change of the object brings it back
        hcp = HostedControlPlane.model_validate(as_dict(live))
        conditions = list(hcp.status.conditions or []) if hcp.status else []
        generation = hcp.metadata.generation

        def condition(type_: str, status: bool, reason: str, message: str) -> None:
            nonlocal conditions
            conditions = set_condition(conditions, type_, "True" if status else "False", reason, message, generation)

        pause = pause_state(hcp.spec.paused_until)
        condition("ReconciliationPaused", pause.paused, "ReconciliationPaused" if pause.paused else "AsExpected",
                  f"Reconciliation paused until {hcp.spec.paused_until}" if pause.paused else "Reconciliation active")
        if pause.paused:
            await self._write_status(hcp, conditions)
            return Result(requeue_after=pause.resume_in)

        try:
            release = await self.releases.resolve(hcp.spec.control_plane_release_image or hcp.spec.release_image)
        except ReleaseError as error:
            condition("ValidReleaseImage", False, "InvalidImage", str(error))
            condition("Available", False, "InvalidReleaseImage", str(error))
            await self._write_status(hcp, conditions)
            return Result(requeue_after=RETRY_RECHECK)
        condition("ValidReleaseImage", True, "AsExpected", f"Release image is valid (Kubernetes {release.version})")

        owner = owner_reference(live)
        try:
            observed = await self._apply_desired_state(hcp, release, owner)
        except (RenderError, ApiError) as error:
            if isinstance(error, ApiError) and error.status.code not in (400, 403, 422):
                raise
            message = str(error) if isinstance(error, RenderError) else \
                f"the API server refused a control-plane object: {error.status.message}"
            condition("ValidConfiguration", False, "InvalidConfiguration", message)
            condition("Available", False, "InvalidConfiguration", message)
            await self._write_status(hcp, conditions)
            return Result(requeue_after=RETRY_RECHECK)
        _, validity_problem = certificate_validity(hcp)
        if validity_problem:
            condition("ValidConfiguration", False, "InvalidCertificateValidity", validity_problem)
        else:
            condition("ValidConfiguration", True, "AsExpected", "Configuration passes validation")

        was_available = find_condition(conditions, "Available")
        derived = derived_conditions(observed)
        for type_, (status, reason, message) in derived.items():
            condition(type_, status, reason, message)
        available, _, message = derived["Available"]
        all_rolled_out = all(status.rolled_out for status in observed.components.values())
        if available and (was_available is None or was_available.status != "True"):
            await self.events.record(live, NORMAL, "ControlPlaneAvailable", message)
        elif not available and was_available is not None and was_available.status == "True":
            await self.events.record(live, WARNING, "ControlPlaneUnavailable", message)

        await self._write_status(hcp, conditions, observed=observed, release=release, available=available,
                                 all_rolled_out=all_rolled_out)
        settled = available and all_rolled_out and not observed.revocation_in_progress
        return Result(requeue_after=requeue_after(RESYNC if settled else PROGRESS_RECHECK,
                                                  observed.next_renewal, datetime.now(UTC)))

    async def _apply_desired_state(self, hcp: HostedControlPlane, release: Release, owner: dict) -> Observed:
        namespace = hcp.metadata.namespace
        images = {c: release.component(c) for c in COMPONENT_IMAGES}
        secrets = {s.metadata.name: secret_data(as_dict(s))
                   async for s in self.client.list(Secret, namespace=namespace)}
        encryption_keys = {name: data["key"] for name, data in secrets.items() if "key" in data}
        webhook = hcp.spec.audit_webhook.name if hcp.spec.audit_webhook else ""
        webhook_kubeconfig = (secrets.get(webhook) or {}).get(AUDIT_WEBHOOK_KUBECONFIG_KEY) if webhook else None
        oidc_ca_bundles = {}
        for ca_name in oidc_ca_names(hcp):  # the copies the HostedCluster controller keeps here
            found = await get_or_none(self.client, ConfigMap, ca_name, namespace)
            if found is not None and (found.data or {}).get(CA_BUNDLE_KEY):
                oidc_ca_bundles[ca_name] = found.data[CA_BUNDLE_KEY]

        def context(endpoint: Endpoint, published: dict[ServiceType, Endpoint | None],
                    certificates: dict[str, dict[str, str]] | None = None, bundle: str = "") -> RenderContext:
            return RenderContext.for_hcp(hcp, images=images, kubernetes_version=release.version,
                                         api_endpoint=endpoint, encryption_keys=encryption_keys,
                                         konnectivity_endpoint=published.get(ServiceType.KONNECTIVITY),
                                         ignition_endpoint=published.get(ServiceType.IGNITION),
                                         operator_image=self.settings.image,
                                         registry_mirrors=self.settings.registry_mirrors,
                                         image_pull_secret=PULL_SECRET if self.settings.pull_secret else "",
                                         certificates=certificates, client_ca_bundle=bundle,
                                         audit_webhook_kubeconfig=webhook_kubeconfig,
                                         oidc_ca_bundles=oidc_ca_bundles)

        if self.settings.pull_secret:  # before any pod that pulls with it
            wanted = pull_secret(namespace, self.settings.pull_secret)
            if secret_data(wanted) != secrets.get(PULL_SECRET):
                await self._apply(_owned(wanted, owner))
        provisional = context(Endpoint("0.0.0.0", 6443), {})
        endpoints = await self._publish(hcp, render(provisional), owner)
        endpoint = endpoints[ServiceType.API_SERVER]
        if endpoint is None:
            unpublished = "waiting for the API server endpoint to be published"
            return Observed({c.name: ComponentStatus(c.name, False, False, message=unpublished)
                             for c in UPDATE_ORDER if c.enabled(provisional)}, None, False)
        # Not waited for: the control plane runs without it; its certificate gains the host once known.
        konnectivity, ignition = endpoints[ServiceType.KONNECTIVITY], endpoints[ServiceType.IGNITION]

        # A revocation under way first takes its copy of the break-glass signer and replaces it (in `secrets`), so
        # that the PKI below re-issues the admin kubeconfig from the new signer in this same pass.
        revocation = RevocationPass(self.client, hcp, owner, self.revocations.list(namespace)) \
            if self.revocations is not None else None
        if revocation is not None:
            await revocation.prepare(secrets)
        validity, _ = certificate_validity(hcp)  # an invalid annotation is reported by reconcile
        pki = pki_secrets(namespace, hcp, endpoint.host, secrets, endpoint_port=endpoint.port,
                          konnectivity_host=konnectivity.host if konnectivity else None,
                          ignition_host=ignition.host if ignition else None, validity=validity)
        for secret in pki:
            if secret_data(secret) != secrets.get(secret["metadata"]["name"]):
                await self._apply(_owned(secret, owner))
        pki_data = {secret["metadata"]["name"]: secret_data(secret) for secret in pki}
        break_glass = pki_data[BREAK_GLASS_SIGNER][CA_CERT_KEY]
        trusted = revocation.trusted(break_glass) if revocation is not None else [break_glass]
        bundle = client_ca_bundle(pki_data[ROOT_CA][CA_CERT_KEY], trusted)
        ctx = context(endpoint, endpoints, fingerprints(pki), bundle)
        rendered = render(ctx)
        grouped = by_component(rendered)
        settled: dict[str, bool] = {}  # per component applied so far: rolled out, available, not held
        holding: dict[str, tuple[str, ...]] = {}
        for component in UPDATE_ORDER:
            if not component.enabled(ctx):
                continue  # renders nothing; a dependency on it has nothing to wait for
            waits = waiting_for(component, settled)
            ok = not waits
            for obj in grouped.get(component.name, ()):
                key = (obj["kind"], obj["metadata"]["name"])
                existing = self.owned[obj["kind"]].get(namespace, obj["metadata"]["name"])
                if (is_workload(obj) or key in component.gates) and held(component, waits, existing is not None):
                    holding[component.name] = waits  # updated once its dependencies are rolled out (docs 6.7)
                    continue
                live = await self._apply(_owned(obj, owner), existing)
                if is_workload(obj) and not (workload_rolled_out(live) and workload_available(live)):
                    ok = False
            settled[component.name] = ok
        await self._remove_leftovers(hcp, rendered)

        # Only what is rendered counts: an unmanaged etcd, or an ignition server with nothing to serve yet, is
        # not waited for. The pods are listed once, and only while something rolls: a workload whose pods all
        # run fine is rolled out, so a steady control plane costs no list.
        present = {(obj["kind"], obj["metadata"]["name"]) for obj in rendered if is_workload(obj)}
        live_workloads = {component.name: {(kind, name): self.owned[kind].get(namespace, name)
                                            for kind, name in component.workloads if (kind, name) in present}
                          for component in UPDATE_ORDER if component.enabled(ctx)}
        pods: dict[str, list[dict[str, Any]]] = {}
        if not all(workload_rolled_out(w) for each in live_workloads.values() for w in each.values()):
            async for pod in self.client.list(Pod, namespace=namespace, labels={COMPONENT_LABEL: operators.exists()}):
                pods.setdefault((pod.metadata.labels or {}).get(COMPONENT_LABEL, ""), []).append(as_dict(pod))
        statuses = {name: component_status(name, workloads, pods.get(name, ()), holding.get(name, ()))
                    for name, workloads in live_workloads.items()}
        restore_error = None
        managed = hcp.spec.etcd.managed
        if "etcd" in statuses and not statuses["etcd"].rolled_out and managed and managed.storage.restore_snapshot_url:
            restore_error = restore_failure(pods.get("etcd", []))
        ca = secrets.get(ROOT_CA, {}).get("ca.crt")
        # Asked only once the API server's pods serve: before, the answer is known, and the attempts' pauses
        # would only hold this pass (and what it would notice next) back while a new control plane starts.
        kas = statuses.get("kube-apiserver")
        if not ca:
            api_ready, api_error = False, "no root CA yet"
        elif kas is not None and not kas.available:
            api_ready, api_error = False, "kube-apiserver is not available"
        else:
            api_ready, api_error = await probe_readyz(endpoint, ca)
        if revocation is not None:
            admin_name, admin_key = admin_kubeconfig_ref(hcp)
            await revocation.finish(pki_data[ROOT_CA][CA_CERT_KEY], pki_data[BREAK_GLASS_SIGNER],
                                    pki_data[admin_name][admin_key])
        observed = Observed(statuses, endpoint, api_ready, api_error, restore_error, earliest_renewal(pki))
        observed.revocation_in_progress = revocation is not None and revocation.in_progress
        return observed

    async def _remove_leftovers(self, hcp: HostedControlPlane, rendered: list[dict[str, Any]]) -> None:
        """Delete the objects a component rendered before and renders no more (RENDERED_BY_LABEL).

        Only after the whole render was applied, so a pass that failed earlier
        deletes nothing. A refusal is a Warning event, not a failed pass: the
        control plane runs either way, and the next pass tries again.
        """
        namespace = hcp.metadata.namespace
        resources = {kind: resource_registry.load(api_version, kind) for api_version, kind in KINDS}
        removed: list[str] = []
        try:
            live = [LiveObject((kind, namespace, obj.metadata.name), (obj.metadata.labels or {})[RENDERED_BY_LABEL])
                    for kind in resources for obj in self.owned[kind].list(namespace)
                    if RENDERED_BY_LABEL in (obj.metadata.labels or {}) and not obj.metadata.deletionTimestamp]
            for obj in leftovers({object_key(o) for o in rendered}, live):
                kind, _, name = obj.key
                await delete_if_exists(self.client, resources[kind], name, namespace)
                removed.append(f"{describe(obj.key)} ({obj.component})")
        except ApiError as error:
            message = f"Cannot remove what the control plane no longer renders: {error.status.message}"
            log.warning(message, extra={"namespace": namespace})
            await self.events.record(hcp, WARNING, "ControlPlaneObjectRemoveFailed", message)
        if removed:
            message = f"Removed what no component renders any more: {', '.join(removed)}"
            log.info(message, extra={"namespace": namespace})
            await self.events.record(hcp, NORMAL, "ControlPlaneObjectsRemoved", message)

    async def _not_servable(self, live: Any) -> str:
        """Why this HostedControlPlane is not rendered (empty: it is): not in a namespace hcp made, or invalid."""
        namespace = await self.client.get(Namespace, live.metadata.namespace)
        labels = namespace.metadata.labels or {}
        if labels.get(HOSTED_CONTROL_PLANE_LABEL) != "true" or not labels.get(HOSTED_CLUSTER_UID_LABEL):
            return (f"namespace {live.metadata.namespace} is not a control-plane namespace made by hcp for a "
                    f"HostedCluster; hcp renders control planes only there (create a HostedCluster instead)")
        hcp, invalid = parse(HostedControlPlane, as_dict(live))
        if hcp is None:
            return f"the HostedControlPlane is invalid: {invalid}"
        if not any(s.service == "APIServer" for s in hcp.spec.services):
            return "spec.services must publish the APIServer service"
        return ""

    async def _publish(self, hcp: HostedControlPlane, provisional: list[dict[str, Any]],
                       owner: dict) -> dict[ServiceType, Endpoint | None]:
        """Apply each published Service from the provisional render and read where it is reached."""
        services = {o["metadata"]["name"]: o for o in provisional if o["kind"] == "Service"}
        rendered = [(service_type, name) for service_type, name in PUBLISHED_SERVICES if name in services]
        strategies = {service_type: service_strategy(hcp, service_type) for service_type, _ in rendered}
        node_addresses = await self._node_addresses() if any(map(needs_node_addresses, strategies.values())) else []
        endpoints: dict[ServiceType, Endpoint | None] = {service_type: None for service_type, _ in PUBLISHED_SERVICES}
        for service_type, name in rendered:
            service = services[name]
            live_service = await self._apply(_owned(service, owner), self.owned["Service"].get(
                hcp.metadata.namespace, name))
            endpoints[service_type] = published_endpoint(strategies[service_type], as_dict(live_service),
                                                         node_addresses)
        return endpoints

    async def _apply(self, body: dict[str, Any], cached: Any = None) -> Any:
        """Apply `body` unless the cache shows it as this controller last left it (hcp.kube.applied); returns the
        live object (the cached one when skipped)."""
        if cached is not None and self.applied.unchanged(body, cached):
            return cached
        live = await apply(self.client, body)
        self.applied.remember(body, live)
        return live

    async def _node_addresses(self) -> list[str]:
        """The management nodes' InternalIPs, where a NodePort without an address is reached."""
        addresses = []
        async for node in self.client.list(Node):
            addresses += [a.address for a in (node.status.addresses if node.status else None) or []
                          if a.type == "InternalIP"][:1]
        return addresses

    async def _write_status(self, hcp: HostedControlPlane, conditions: list[Condition], *,
                            observed: Observed | None = None, release: Release | None = None,
                            available: bool = False, all_rolled_out: bool = False) -> None:
        status: dict[str, Any] = {"conditions": [as_dict(c) for c in conditions], "ready": available}
        previous = hcp.status
        status["initialized"] = available or bool(previous and previous.initialized)
        if observed and observed.endpoint:
            status["controlPlaneEndpoint"] = {"host": observed.endpoint.host, "port": observed.endpoint.port}
            name, key = admin_kubeconfig_ref(hcp)
            status["kubeConfig"] = {"name": name, "key": key}
        elif previous and previous.control_plane_endpoint:  # not looked at this pass (paused, invalid)
            status["controlPlaneEndpoint"] = as_dict(previous.control_plane_endpoint)
            if previous.kube_config:
                status["kubeConfig"] = as_dict(previous.kube_config)
        if release and all_rolled_out:
            status["version"] = release.version
            status["releaseImage"] = release.image
        elif previous and previous.version:
            status["version"] = previous.version
            status["releaseImage"] = previous.release_image
        await apply_status(self.client, HostedControlPlane, hcp.metadata.name, hcp.metadata.namespace, status)


def _owned(obj: dict, owner: dict) -> dict:
    metadata = obj.setdefault("metadata", {})
    metadata["ownerReferences"] = [owner]
    return obj


PROBE_ATTEMPTS = 5
PROBE_INTERVAL = 0.3


@functools.lru_cache(maxsize=256)
def _trusting(ca_pem: bytes) -> ssl.SSLContext:
    """A client TLS context trusting `ca_pem`, made once per CA: loading the CA is most of a probe's own work,
    and a context serves any number of connections."""
    return ssl.create_default_context(cadata=ca_pem.decode())


async def probe_readyz(endpoint: Endpoint, ca_pem: bytes) -> tuple[bool, str]:
    """Whether the published endpoint answers /readyz, as a client outside would see it.

    A few attempts, each on a new connection: during a roll, a replica that is shutting down answers
    /readyz with a failure on purpose for --shutdown-delay-duration (so that it leaves the Service) while
    it still serves, and the Service may route one probe to it; the API is available if any replica says
    it is ready.
    """
    context = _trusting(ca_pem)
    problem = ""
    for attempt in range(PROBE_ATTEMPTS):
        if attempt:
            await asyncio.sleep(PROBE_INTERVAL)
        try:
            async with httpx.AsyncClient(verify=context, timeout=5.0) as client:
                response = await client.get(f"{endpoint.url}/readyz")
        except httpx.HTTPError as error:
            problem = str(error) or type(error).__name__
            continue
        if response.status_code == 200:
            return True, ""
        problem = f"/readyz returned {response.status_code}"
    return False, problem
