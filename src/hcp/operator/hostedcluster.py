"""The HostedCluster controller: the user's object, turned into a control-plane namespace and its HostedControlPlane.

It validates the release and configuration, creates namespace
`<namespace>-<name>`, copies the Secrets and ConfigMaps the control plane reads
(and deletes the copies of those the spec no longer names: `stale_copies`), applies
the HostedControlPlane with the spec propagated, and mirrors what the control
plane reports back into the HostedCluster's status (conditions, version
history, endpoint) plus the `<name>-admin-kubeconfig` Secret. A finalizer
makes deletion remove NodePools and the whole control-plane namespace first (its pods
without the grace periods meant for rolls: `DESTROY_GRACE_SECONDS`).

Ownership: the control-plane namespace and the Secrets copied into it carry
the HostedCluster's UID (HOSTED_CLUSTER_UID_LABEL). A namespace of the
expected name without this HostedCluster's UID belongs to someone else (a
user, or another HostedCluster whose `<namespace>-<name>` is the same): the
HostedCluster reports ValidConfiguration=False and nothing is created in it
or deleted from it, ever. The admin-kubeconfig Secret is written only when it
is absent or already owned by this HostedCluster. It follows the control
plane's Secret: the control plane renews the admin kubeconfig's client
certificate at two thirds of its life, so a pass comes back soon after that
time (`kubeconfig_recheck`) to copy the renewed one, without waiting for an
unrelated change.

A spec the models refuse (admitted under an older schema) or that cannot be
served is reported as ValidConfiguration=False within one pass; deletion
never depends on the spec, so it always completes.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

from lightkube import ApiError, AsyncClient, operators
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod, Secret
from lightkube.types import PatchType

from hcp.api import API_VERSION, HostedCluster, HostedControlPlane, NodePool
from hcp.api.meta import Condition, LocalObjectReference
from hcp.api.v1beta1.clusteroptions import unhonoured_fields
from hcp.api.v1beta1.etcd import EtcdManagementType
from hcp.api.v1beta1.hostedcluster import AUDIT_WEBHOOK_KUBECONFIG_KEY
from hcp.api.names import (
    CERTIFICATE_VALIDITY_ANNOTATION,
    CLUSTER_ANNOTATION,
    FORCE_UPGRADE_TO_ANNOTATION,
    FINALIZER,
    HOSTED_CLUSTER_UID_LABEL,
    HOSTED_CONTROL_PLANE_LABEL,
    RESOURCE_REQUEST_OVERRIDE_PREFIX,
    RESTART_DATE_ANNOTATION,
    cluster_id,
    control_plane_namespace,
    control_plane_namespace_metadata,
)
from hcp.controlplane.components.kube_apiserver.authentication import (
    CA_BUNDLE_KEY, ca_bundle_problem, oidc_ca_names, provider_problems,
)
from hcp.controlplane.context import RenderError
from hcp.controlplane.overrides import resource_overrides
from hcp.controlplane.podsecurity import namespace_labels
from hcp.controlplane.status import UNSCHEDULABLE
from hcp.kube.apply import apply, apply_status, delete_if_exists, get_or_none, owner_reference, resource_of
from hcp.kube.conditions import find_condition, is_true, refused_status, set_condition
from hcp.kube.controller import Result
from hcp.kube.events import NORMAL, EventRecorder
from hcp.kube.informer import Informer
from hcp.kube.leftovers import LiveObject, ObjectKey, leftovers
from hcp.kube.objects import as_dict, split_key
from hcp.api.pause import pause_state
from hcp.api.parse import parse
from hcp.api.validation import hosted_cluster_problems, namespace_owner_problem
from hcp.api.v1beta1.platform import PlatformType
from hcp.pki import renew_at
from hcp.pki.kubeconfig import client_certificate
from hcp.release import ReleaseError
from hcp.release.resolver import Releases
from hcp.release.updates import available_updates, channel_problem, update_problem
from hcp.release.versions import supported_release_versions

log = logging.getLogger(__name__)

PROPAGATED_SPEC = (
    "channel", "pullSecret", "issuerURL", "networking", "sshKey", "clusterID", "infraID", "platform", "dns",
    "controllerAvailabilityPolicy", "infrastructureAvailabilityPolicy", "fips", "services", "etcd",
    "configuration", "auditWebhook", "secretEncryption", "pausedUntil", "nodeSelector", "tolerations", "labels",
)
PROPAGATED_ANNOTATIONS = (RESTART_DATE_ANNOTATION, CERTIFICATE_VALIDITY_ANNOTATION)
"""The HostedCluster's annotations its HostedControlPlane carries too (and every resource-request override)."""


def propagated_annotation(key: str) -> bool:
    """Whether the HostedControlPlane carries this annotation of its HostedCluster: the listed ones, and
    HyperShift's resource-request overrides, whose keys name the container they size."""
    return key in PROPAGATED_ANNOTATIONS or key.startswith(RESOURCE_REQUEST_OVERRIDE_PREFIX + "/")


DELETE_RECHECK = 2.0
PROGRESS_RECHECK = 5.0
DESTROY_GRACE_SECONDS = 1
"""The grace period of a control plane's pods once its namespace is being deleted.

Graceful termination is for rolls: an API server that keeps answering while it
leaves its Service, an etcd member that leaves its cluster. A control plane
being destroyed has nobody to be graceful to (its clients and its etcd go in
the same deletion, its volume after them), and the namespace controller
deletes all its pods at once with their own grace periods: etcd is gone in
seconds, and kube-apiserver, which cannot finish its shutdown without etcd,
was held for its whole 30 s, and the namespace controller, which waits out
the longest grace period before it looks again, took another 10 s. Measured:
a KWOK HostedCluster took 50 s to delete, kube-apiserver Terminating for 31 s
of it. Machines of platform Container are not control-plane pods (they carry
no HOSTED_CONTROL_PLANE_LABEL) and keep theirs: their entrypoint stops the
kubelet and containerd they run. 1 s, not 0: with 0 the API server forgets a pod at
once and its containers are killed afterwards, so the namespace could be gone
while they still run."""
KUBECONFIG_RENEWAL_DELAY = 5.0
"""How long after the admin kubeconfig's renewal time a pass looks for the renewed one."""


def control_plane_manifest(hc: HostedCluster, spec: dict[str, Any], target: str) -> dict[str, Any]:
    """The HostedControlPlane of a HostedCluster: its spec propagated, defaults filled in (pure)."""
    hcp_spec = {key: spec[key] for key in PROPAGATED_SPEC if spec.get(key) is not None}
    hcp_spec["releaseImage"] = spec["release"]["image"]
    if (spec.get("controlPlaneRelease") or {}).get("image"):
        hcp_spec["controlPlaneReleaseImage"] = spec["controlPlaneRelease"]["image"]
    hcp_spec.setdefault("sshKey", {})  # a cluster without an SSH key has an empty reference, as in HyperShift
    hcp_spec.setdefault("infraID", hc.metadata.name)
    hcp_spec["clusterID"] = cluster_id(hcp_spec.get("clusterID"), hc.metadata.uid)
    annotations = {CLUSTER_ANNOTATION: f"{hc.metadata.namespace}/{hc.metadata.name}"}
    for key, value in (hc.metadata.annotations or {}).items():
        if value and propagated_annotation(key):
            annotations[key] = value
    return {"apiVersion": API_VERSION, "kind": "HostedControlPlane",
            "metadata": {"name": hc.metadata.name, "namespace": target, "annotations": annotations,
                         "labels": {HOSTED_CLUSTER_UID_LABEL: hc.metadata.uid}},
            "spec": hcp_spec}


SUPPORTED_CONFIGURATION = "SupportedConfiguration"
"""Condition naming the HyperShift fields set on a HostedCluster that hcp accepts but does not act on
(hcp.api.v1beta1.clusteroptions). Informational: such a cluster is served, only without those settings."""


def unsupported_fields_message(fields: list[str]) -> str:
    """The SupportedConfiguration message: every field set that hcp does not honour, or that there is none."""
    if not fields:
        return "Every field set is honoured"
    message = (f"hcp accepts but does not honour {', '.join(fields)}: the cluster is served without them "
               "(docs/configuration.md, \"Accepted but not honoured\", says why for each)")
    if KMS_FIELD in fields:
        message += (", except that with secretEncryption type kms it is not served at all (ValidConfiguration): "
                    "hcp does not store Secrets unencrypted when encryption was asked for")
    return message


KMS_FIELD = "spec.secretEncryption.kms"


def resource_override_problems(annotations: dict[str, str] | None) -> list[str]:
    """A resource-request override annotation that cannot be read, said on the HostedCluster itself
    (ValidConfiguration=False, which `hcp create cluster --wait` stops at) rather than only on the
    HostedControlPlane, where a user who set it on the HostedCluster would not look."""
    try:
        resource_overrides(annotations)
    except RenderError as error:
        return [str(error)]
    return []


PROGRESSING = "HostedCluster is deploying, upgrading, or reconfiguring"


def progressing_message(available: Condition | None) -> str:
    """Progressing's message while the release is not rolled out: HyperShift's sentence, and why it cannot
    go on when the control plane says so (its Available=False with reason Unschedulable: a pod no node fits,
    which waiting alone does not fix; the message names the pod and the scheduler's reason)."""
    if available is not None and available.status == "False" and available.reason == UNSCHEDULABLE:
        return f"{PROGRESSING}, and cannot go on: {available.message}"
    return PROGRESSING


OIDC_ISSUER_CA = "OIDC issuer CA"
REQUIRED_KEYS = {"audit webhook": AUDIT_WEBHOOK_KUBECONFIG_KEY, OIDC_ISSUER_CA: CA_BUNDLE_KEY}
"""Data keys a copied Secret or ConfigMap must have, by what it is: without it the control plane could not start
the part that reads it, so an object lacking it is reported here, where the user's object shows it."""

COPIES = "copied Secrets and ConfigMaps"
"""The component the HostedCluster controller's copies count as, for hcp.kube.leftovers."""


def copied_references(hc: HostedCluster) -> dict[str, LocalObjectReference | None]:
    """The Secrets of the HostedCluster's namespace the control plane reads, by what they are: the pull
    secret, the SSH key, the aescbc keys spec.secretEncryption names, an unmanaged etcd's client
    certificates and the audit webhook's kubeconfig, which kube-apiserver mounts (pure)."""
    wanted = {"pull secret": hc.spec.pull_secret, "SSH key": hc.spec.ssh_key, "audit webhook": hc.spec.audit_webhook}
    etcd = hc.spec.etcd
    if etcd.management_type == EtcdManagementType.UNMANAGED and etcd.unmanaged is not None:
        wanted["etcd client"] = etcd.unmanaged.tls.client_secret
    encryption = hc.spec.secret_encryption
    if encryption is not None and encryption.aescbc is not None:
        wanted["active encryption key"] = encryption.aescbc.active_key
        wanted["backup encryption key"] = encryption.aescbc.backup_key
    return wanted


COPIED_CONFIG_MAP_RECHECK = 60.0
"""How often a HostedCluster whose control plane reads a copied ConfigMap (the OIDC issuer CA) is looked at again:
nothing watches ConfigMaps, and a CA the user replaces in place must reach the API servers without another change."""


def copied_config_maps(hc: HostedCluster) -> dict[str, LocalObjectReference]:
    """The ConfigMaps of the HostedCluster's namespace the control plane reads, by what they are: the issuer
    CA of the OIDC provider (spec.configuration.authentication type OIDC), which kube-apiserver trusts (pure)."""
    names = oidc_ca_names(hc)  # at most one: oidcProviders has at most one entry
    return {OIDC_ISSUER_CA: LocalObjectReference(name=names[0])} if names else {}


def stale_copies(target: str, copied: list[str], live: list[str], kind: str = "Secret") -> list[ObjectKey]:
    """The copies in `target` (Secrets marked with the HostedCluster's UID, `live`) to delete: those not
    copied this pass, because the spec no longer names them (a backupKey after a rotation, every key once
    secretEncryption is gone, an SSH key removed). Pure; decided like the components' leftovers."""
    found = [LiveObject((kind, target, name), COPIES) for name in live]
    return [obj.key for obj in leftovers({(kind, target, name) for name in copied}, found)]


def hurried_pods(pods: list[Any]) -> list[str]:
    """The pods of a control plane being destroyed to delete again with DESTROY_GRACE_SECONDS: those not yet
    deleting with a grace period that short (pure)."""
    return [pod.metadata.name for pod in pods
            if pod.metadata.deletionGracePeriodSeconds is None
            or pod.metadata.deletionGracePeriodSeconds > DESTROY_GRACE_SECONDS]


def kubeconfig_recheck(kubeconfig: bytes | None, now: datetime) -> float | None:
    """Seconds until a pass should look for a renewed admin kubeconfig; None when there is nothing to renew.

    Just after the renewal time of its client certificate; while that time has
    passed without a new one (the control plane renews it on its next pass),
    every PROGRESS_RECHECK.
    """
    cert = client_certificate(kubeconfig) if kubeconfig else None
    if cert is None:
        return None
    return max(PROGRESS_RECHECK, (renew_at(cert) - now).total_seconds() + KUBECONFIG_RENEWAL_DELAY)


def _last_completed(hc: HostedCluster) -> dict[str, Any] | None:
    """The newest Completed entry of status.version.history (image, version), if any."""
    version = hc.status.version if hc.status else None
    for entry in (version.history or []) if version else []:
        entry = as_dict(entry)
        if entry.get("state") == "Completed":
            return entry
    return None


def history_version(history: list[dict[str, Any]]) -> str:
    """The version of the newest Completed entry of a history."""
    return next((entry["version"] for entry in history if entry.get("state") == "Completed"), "")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HostedClusterController:
    def __init__(self, client: AsyncClient, releases: Releases, events: EventRecorder, *,
                 clusters: Informer, control_planes: Informer, node_pools: Informer):
        self.client = client
        self.releases = releases
        self.events = events
        self.clusters = clusters
        self.control_planes = control_planes
        self.node_pools = node_pools

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        live = self.clusters.get(namespace, name)
        if live is None:
            return None
        target = control_plane_namespace(namespace, name)
        if live.metadata.deletionTimestamp:
            return await self._delete(live, namespace, name, target)
        hc, invalid = parse(HostedCluster, as_dict(live))
        if hc is None:
            await apply_status(self.client, HostedCluster, name, namespace, refused_status(
                live, ("ValidConfiguration", "Available"), f"the HostedCluster is invalid: {invalid}"))
            return None  # a change of the object brings it back
        if FINALIZER not in (hc.metadata.finalizers or []):
            await self._set_finalizers(live, [*(hc.metadata.finalizers or []), FINALIZER])

        conditions = list(hc.status.conditions or []) if hc.status else []
        generation = hc.metadata.generation

        def condition(type_: str, status: str | bool, reason: str, message: str) -> None:
            nonlocal conditions
            value = status if isinstance(status, str) else ("True" if status else "False")
            conditions = set_condition(conditions, type_, value, reason, message, generation)

        unhonoured = unhonoured_fields(hc.spec)
        condition(SUPPORTED_CONFIGURATION, not unhonoured, "UnsupportedFields" if unhonoured else "AsExpected",
                  unsupported_fields_message(unhonoured))
        pause = pause_state(hc.spec.paused_until)
        condition("ReconciliationPaused", pause.paused, "ReconciliationPaused" if pause.paused else "AsExpected",
                  f"Reconciliation paused until {hc.spec.paused_until}" if pause.paused else "Reconciliation active")
        if pause.paused:
            await self._pause_control_plane(target, name, hc.spec.paused_until, hc.metadata.uid)
            await self._write_status(live, hc, conditions, None)
            return Result(requeue_after=pause.resume_in)

        problems = [pause.invalid] if pause.invalid else []
        problems += hosted_cluster_problems(hc)
        problems += resource_override_problems(hc.metadata.annotations)
        problems += provider_problems(hc.spec)
        existing_namespace = await get_or_none(self.client, Namespace, target)
        not_ours = namespace_owner_problem(existing_namespace, hc.metadata.uid, key)
        if not_ours:
            problems.append(not_ours)
        try:
            release = await self.releases.resolve(hc.spec.release.image)
            condition("ValidReleaseImage", True, "AsExpected", f"Release image is valid (Kubernetes {release.version})")
        except ReleaseError as error:
            release = None
            condition("ValidReleaseImage", False, "InvalidImage", str(error))

        spec = as_dict(live)["spec"]
        if release is not None:
            release = await self._gate_update(hc, release, condition)
            if release is not None:
                spec = {**spec, "release": {**spec["release"], "image": release.image}}
        copied = await self._copy_secrets(hc, namespace, target, problems) if release and not problems else {}
        copied_maps = await self._copy_config_maps(hc, namespace, target, problems) \
            if release and not problems else {}
        condition("ValidConfiguration", not problems, "InvalidConfiguration" if problems else "AsExpected",
                  "; ".join(problems) or "Configuration passes validation")
        if release is None or problems:
            condition("Available", is_true(conditions, "Available"),
                      "InvalidConfiguration" if problems else "InvalidReleaseImage",
                      "; ".join(problems) or "The release image is not valid")
            await self._write_status(live, hc, conditions, None)
            terminating = existing_namespace is not None and existing_namespace.metadata.deletionTimestamp
            return Result(requeue_after=DELETE_RECHECK if terminating else 60.0)

        if not await self._ensure_namespace(hc, target, existing_namespace):
            return Result(requeue_after=1.0)  # created by someone else just now: look again
        try:
            for copy in [*copied.values(), *copied_maps.values()]:
                await apply(self.client, copy)
            await self._remove_stale_copies(hc, target, list(copied), list(copied_maps))
            await apply(self.client, control_plane_manifest(hc, spec, target))
        except ApiError as error:
            if error.status.code not in (400, 403, 422):
                raise
            message = f"the control plane's objects were refused: {error.status.message}"
            condition("ValidConfiguration", False, "InvalidConfiguration", message)
            condition("Available", False, "InvalidConfiguration", message)
            await self._write_status(live, hc, conditions, None)
            return Result(requeue_after=60.0)

        control_plane = self.control_planes.get(target, name)
        hcp = parse(HostedControlPlane, as_dict(control_plane))[0] if control_plane else None  # invalid: reported there
        kubeconfig, conflict, published = await self._publish_kubeconfig(live, hcp, namespace, name, target)
        hcp_conditions = hcp.status.conditions if hcp and hcp.status else None
        for type_ in ("Available", "Degraded"):
            mirrored = find_condition(hcp_conditions, type_)
            if mirrored is not None:
                condition(type_, str(mirrored.status), mirrored.reason or "AsExpected", mirrored.message or "")
            elif type_ == "Available":
                condition(type_, False, "WaitingForControlPlane", "Waiting for the hosted control plane to report")
            else:
                condition(type_, False, "AsExpected", "")
        if conflict:
            condition("Degraded", True, "KubeconfigSecretConflict", conflict)

        history = self._history(hc, release, hcp)
        completed = history[0]["state"] == "Completed"
        condition("Progressing", not completed, "AsExpected" if completed else "Progressing",
                  "HostedCluster is at expected version" if completed
                  else progressing_message(find_condition(hcp_conditions, "Available")))
        current = history_version(history) or release.version
        reason, message = channel_problem(hc.spec.channel, current)
        condition("ClusterVersionRetrievedUpdates", not reason, reason or "AsExpected", message or (
            f"Updates are offered from channel {hc.spec.channel}" if hc.spec.channel
            else "No channel is set: every supported release hcp may update to is offered"))
        updates = available_updates(current, self._releases_like(release), hc.spec.channel) if completed else []
        version = {"desired": {"image": release.image, "version": release.version}, "history": history,
                   "observedGeneration": generation, "availableUpdates": updates or None}
        previous = find_condition(hc.status.conditions if hc.status else None, "Available")
        if find_condition(conditions, "Available").status == "True" and (previous is None or previous.status != "True"):
            await self.events.record(live, NORMAL, "HostedClusterAvailable", "The hosted control plane is available")
        await self._write_status(live, hc, conditions, version, kubeconfig=kubeconfig, hcp=hcp)
        recheck = kubeconfig_recheck(published, datetime.now(UTC))
        if not completed:
            recheck = min(recheck or PROGRESS_RECHECK, PROGRESS_RECHECK)
        if copied_maps:
            recheck = min(recheck or COPIED_CONFIG_MAP_RECHECK, COPIED_CONFIG_MAP_RECHECK)
        return None if recheck is None else Result(requeue_after=recheck)

    async def _pause_control_plane(self, target: str, name: str, paused_until: str, uid: str) -> None:
        """Re-apply the control plane as it is, with pausedUntil set: no other spec change reaches it."""
        live = self.control_planes.get(target, name)
        if live is None or (live.metadata.labels or {}).get(HOSTED_CLUSTER_UID_LABEL) != uid:
            return  # none yet, or not this HostedCluster's
        current = as_dict(live)
        annotations = {key: value for key, value in (current["metadata"].get("annotations") or {}).items()
                       if key == CLUSTER_ANNOTATION or propagated_annotation(key)}
        labels = {key: value for key, value in (current["metadata"].get("labels") or {}).items()
                  if key == HOSTED_CLUSTER_UID_LABEL}
        await apply(self.client, {
            "apiVersion": API_VERSION, "kind": "HostedControlPlane",
            "metadata": {"name": name, "namespace": target, "annotations": annotations, "labels": labels},
            "spec": {**current["spec"], "pausedUntil": paused_until},
        })

    async def _ensure_namespace(self, hc: HostedCluster, target: str, existing: Any | None) -> bool:
        """Create the control-plane namespace marked with the HostedCluster's UID, or keep ours up to date.

        An absent namespace is created (never applied: apply would take over one
        made by someone else in the meantime); False if it appeared meanwhile.
        """
        metadata = control_plane_namespace_metadata(hc.metadata.namespace, hc.metadata.name, hc.metadata.uid)
        # Pod Security: `restricted`, which every control-plane pod meets, but `privileged` where the machines
        # of platform Container are privileged pods (hcp.controlplane.podsecurity).
        privileged_machines = hc.spec.platform.type == PlatformType.CONTAINER
        metadata["labels"].update(namespace_labels(privileged_machines=privileged_machines))
        if existing is not None:
            await apply(self.client, {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
            return True
        try:
            await self.client.create(Namespace(metadata=ObjectMeta(**metadata)))
        except ApiError as error:
            if error.status.code == 409:
                return False
            raise
        return True

    async def _copy_secrets(self, hc: HostedCluster, namespace: str, target: str,
                            problems: list[str]) -> dict[str, dict[str, Any]]:
        """The Secrets the control plane reads, as copies for its namespace; missing ones become problems."""
        return await self._copies(Secret, copied_references(hc), hc, namespace, target, problems)

    async def _copy_config_maps(self, hc: HostedCluster, namespace: str, target: str,
                                problems: list[str]) -> dict[str, dict[str, Any]]:
        """The ConfigMaps the control plane reads, as copies for its namespace; missing ones become problems."""
        return await self._copies(ConfigMap, copied_config_maps(hc), hc, namespace, target, problems)

    async def _copies(self, resource: Any, references: dict[str, LocalObjectReference | None], hc: HostedCluster,
                      namespace: str, target: str, problems: list[str]) -> dict[str, dict[str, Any]]:
        """Copies for the control-plane namespace of the objects `references` name, by name; a missing object
        or key becomes a problem, said on the HostedCluster where the user looks."""
        kind = resource.__name__
        copies = {}
        for what, reference in references.items():
            if reference is None or not reference.name:
                continue
            try:
                source = await self.client.get(resource, reference.name, namespace=namespace)
            except ApiError as error:
                if error.status.code != 404:
                    raise
                problems.append(f"{what} {kind} {reference.name} not found in namespace {namespace}")
                continue
            required = REQUIRED_KEYS.get(what)
            if required and required not in (source.data or {}):
                problems.append(f"{what} {kind} {reference.name} has no key {required!r}")
                continue
            content_problem = ca_bundle_problem(source.data[CA_BUNDLE_KEY]) if what == OIDC_ISSUER_CA else ""
            if content_problem:
                problems.append(f"{what} {kind} {reference.name}: {content_problem}")
                continue
            copy: dict[str, Any] = {
                "apiVersion": "v1", "kind": kind,
                "metadata": {"name": reference.name, "namespace": target,
                             "labels": {HOSTED_CLUSTER_UID_LABEL: hc.metadata.uid},
                             "annotations": {CLUSTER_ANNOTATION: f"{namespace}/{hc.metadata.name}"}},
                "data": source.data or {},
            }
            if kind == "Secret":
                copy["type"] = source.type or "Opaque"
            copies[reference.name] = copy
        return copies

    async def _remove_stale_copies(self, hc: HostedCluster, target: str, copied: list[str],
                                   copied_maps: list[str]) -> None:
        """Delete the copies the spec no longer names; only after every wanted one was found and applied."""
        for resource, wanted in ((Secret, copied), (ConfigMap, copied_maps)):
            kind = resource.__name__
            live = [s.metadata.name async for s in self.client.list(
                resource, namespace=target, labels={HOSTED_CLUSTER_UID_LABEL: hc.metadata.uid})]
            for _, namespace, name in stale_copies(target, wanted, live, kind):
                await delete_if_exists(self.client, resource, name, namespace)
                log.info(f"removed a copied {kind} its HostedCluster no longer names",
                         extra={"namespace": namespace, "name": name})

    async def _publish_kubeconfig(self, live: Any, hcp: HostedControlPlane | None, namespace: str, name: str,
                                  target: str) -> tuple[str | None, str, bytes | None]:
        """`<name>-admin-kubeconfig` (key `kubeconfig`) in the HostedCluster's namespace, owned by it.

        A copy of the control plane's Secret as it is now, so a renewed kubeconfig
        replaces the old one. Returns the Secret's name once published, why it
        cannot be (a Secret of that name that this HostedCluster does not own is
        left alone), and the kubeconfig published.
        """
        reference = hcp.status.kube_config if hcp and hcp.status else None
        if reference is None:
            return None, "", None
        source = await get_or_none(self.client, Secret, reference.name, target)
        content = (source.data or {}).get(reference.key) if source is not None else None
        if not content:
            return None, "", None
        secret_name = f"{name}-admin-kubeconfig"
        current = await get_or_none(self.client, Secret, secret_name, namespace)
        if current is not None and not any(ref.uid == live.metadata.uid
                                           for ref in current.metadata.ownerReferences or ()):
            return None, (f"Secret {namespace}/{secret_name} exists and is not owned by this HostedCluster; "
                          f"hcp does not overwrite it, so the admin kubeconfig is not published"), None
        await apply(self.client, {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret_name, "namespace": namespace, "ownerReferences": [owner_reference(live)]},
            "data": {"kubeconfig": content},
        })
        return secret_name, "", base64.b64decode(content)

    async def _gate_update(self, hc: HostedCluster, release: Any, condition: Any) -> Any | None:
        """The release the control plane goes to: the requested one, or, for an update hcp refuses
        (hcp.release.updates), the one it completed last, with ValidReleaseImage=False saying why."""
        completed = _last_completed(hc)
        problem = update_problem(completed["version"], release.version) if completed else ""
        if not problem:
            return release
        requested = hc.spec.release.image
        if (hc.metadata.annotations or {}).get(FORCE_UPGRADE_TO_ANNOTATION) == requested:
            condition("ValidReleaseImage", True, "AsExpected",
                      f"Release image is valid (Kubernetes {release.version}); {problem}, "
                      f"but annotation {FORCE_UPGRADE_TO_ANNOTATION} forces it")
            return release
        condition("ValidReleaseImage", False, "UnsupportedUpdate",
                  f"{problem}; the control plane stays on {completed['version']} ({completed['image']}). "
                  f"To force it, annotate the HostedCluster {FORCE_UPGRADE_TO_ANNOTATION}={requested}")
        try:
            return await self.releases.resolve(completed["image"])
        except ReleaseError as error:
            condition("ValidReleaseImage", False, "UnsupportedUpdate", f"{problem}; and {error}")
            return None

    @staticmethod
    def _releases_like(release: Any) -> list[tuple[str, str]]:
        """The supported releases, as images in the repository of `release` (where hcp publishes them all)."""
        repository = release.image.rsplit(":", 1)[0]
        return [(f"{repository}:v{version}", version) for version in supported_release_versions()]

    def _history(self, hc: HostedCluster, release: Any, hcp: HostedControlPlane | None) -> list[dict[str, Any]]:
        """The update history, newest first: a Partial entry per new desired release, Completed once rolled out."""
        previous = hc.status.version if hc.status else None
        history = [as_dict(entry) for entry in (previous.history or [])] if previous else []
        if not history or history[0].get("image") != release.image:
            history.insert(0, {"state": "Partial", "startedTime": _now(), "completionTime": None,
                               "version": release.version, "image": release.image, "verified": False})
        rolled_out = (hcp is not None and hcp.status is not None and hcp.status.ready
                      and hcp.status.release_image == release.image)
        if rolled_out and history[0]["state"] != "Completed":
            history[0] = {**history[0], "state": "Completed", "completionTime": _now()}
        return history

    async def _write_status(self, live: Any, hc: HostedCluster, conditions: list[Condition],
                            version: dict[str, Any] | None, *, kubeconfig: str | None = None,
                            hcp: HostedControlPlane | None = None) -> None:
        """Conditions always; version, kubeconfig and endpoint as newly observed, else as last reported."""
        previous = hc.status
        status: dict[str, Any] = {"conditions": [as_dict(c) for c in conditions]}
        if version is not None:
            status["version"] = version
        elif previous and previous.version:
            status["version"] = as_dict(previous.version)
        kubeconfig = kubeconfig or (previous.kubeconfig.name if previous and previous.kubeconfig else None)
        if kubeconfig:
            status["kubeconfig"] = {"name": kubeconfig}
        endpoint = hcp.status.control_plane_endpoint if hcp and hcp.status else None
        endpoint = endpoint or (previous.control_plane_endpoint if previous else None)
        if endpoint:
            status["controlPlaneEndpoint"] = as_dict(endpoint)
        await apply_status(self.client, HostedCluster, hc.metadata.name, hc.metadata.namespace, status)

    async def _set_finalizers(self, live: Any, finalizers: list[str]) -> None:
        await self.client.patch(
            resource_of(HostedCluster), live.metadata.name,
            {"metadata": {"finalizers": finalizers, "resourceVersion": live.metadata.resourceVersion}},
            namespace=live.metadata.namespace, patch_type=PatchType.MERGE,
        )

    async def _delete(self, live: Any, namespace: str, name: str, target: str) -> Result | None:
        """NodePools, then the control plane and its namespace; the finalizer goes when all are gone.

        Reads nothing of the spec, so an invalid one cannot block deletion; the
        namespace is deleted only if it carries this HostedCluster's UID.
        """
        if FINALIZER not in (live.metadata.finalizers or []):
            return None
        pools = [p for p in self.node_pools.list(namespace) if (p.spec or {}).get("clusterName") == name]
        for pool in pools:
            if not pool.metadata.deletionTimestamp:
                await delete_if_exists(self.client, resource_of(NodePool), pool.metadata.name, namespace)
        existing = await get_or_none(self.client, Namespace, target)
        namespace_exists = False
        if existing is not None and not namespace_owner_problem(existing, live.metadata.uid, f"{namespace}/{name}"):
            await delete_if_exists(self.client, resource_of(HostedControlPlane), name, target)
            namespace_exists = await delete_if_exists(self.client, Namespace, target)
        if pools or namespace_exists:
            if namespace_exists:
                await self._hurry_control_plane_pods(target)
                await self.events.record(live, NORMAL, "DeletingControlPlane",
                                         f"Deleting control-plane namespace {target}")
            return Result(requeue_after=DELETE_RECHECK)
        await self._set_finalizers(live, [f for f in live.metadata.finalizers if f != FINALIZER])
        return None

    async def _hurry_control_plane_pods(self, target: str) -> None:
        """Delete the control-plane pods of a namespace being deleted again, with DESTROY_GRACE_SECONDS.

        Only after the namespace is Terminating: no ReplicaSet or StatefulSet can
        make a replacement there any more (NamespaceLifecycle refuses creates).
        Level-triggered: each pass of the deletion shortens what is still longer.
        """
        pods = [pod async for pod in self.client.list(
            Pod, namespace=target, labels={HOSTED_CONTROL_PLANE_LABEL: operators.exists()})]
        for name in hurried_pods(pods):
            try:
                await self.client.delete(Pod, name, namespace=target, grace_period=DESTROY_GRACE_SECONDS)
            except ApiError as error:
                if error.status.code != 404:
                    raise
