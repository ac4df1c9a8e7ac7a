"""Mounted Secrets and ConfigMaps refreshed in a pod within a second of a change, not a minute or two.

Several components re-read a mounted file when it changes instead of being
restarted: kube-apiserver its client CA bundle (certificate revocation) and
its structured authentication configuration (OIDC), etcd its certificates,
Prometheus its configuration. The kubelet learns of the new Secret or
ConfigMap at once (it watches them), but it rewrites the files of a running
pod only when it next syncs that pod: on its periodic resync, every minute
plus jitter (measured here: 78 s for one Secret), unless the pod itself
changes. So this controller changes the pod: it keeps the annotation
MOUNTED_CONTENT_ANNOTATION of each pod it watches equal to a digest of the
Secrets and ConfigMaps the pod mounts, as the operator's caches hold them. A
changed Secret changes the digest, the annotation is patched, the kubelet
syncs the pod and rewrites its files (0.3 s measured). Nothing restarts: a pod's annotations
are not part of any workload's template, so no Deployment or StatefulSet
rolls, and components that read their files only at start are rolled by their
config hash as before (hcp.controlplane.components.component.set_config_hash).

The digest covers the versions (uid and resourceVersion) of the Secrets and
ConfigMaps a pod mounts through Secret, ConfigMap and projected volumes, never
their content, so nothing derived from a secret value appears on a pod; a
change of any key of one of them marks the pod, which only costs the kubelet a
sync. What the caches do not hold (e.g. kube-root-ca.crt, which is not hcp's)
counts as absent and so never changes the digest. The operator's
ValidatingAdmissionPolicy lets it change this one annotation of a pod and
nothing else (hcp.operator manifests).

The digest and the decision are pure (`mounted_objects`, `versions_digest`,
`patch_for`); `MountRefresh` reads the caches and patches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from hcp.kube.controller import Result
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict, split_key

MOUNTED_CONTENT_ANNOTATION = "hcp.io/mounted-content"
"""On pods: a digest of the versions of the Secrets and ConfigMaps they mount, as last made known to the kubelet."""

SECRET, CONFIG_MAP = "Secret", "ConfigMap"

Mount = tuple[str, str]
"""(kind, name) of a mounted Secret or ConfigMap."""

Lookup = Callable[[str, str, str], str | None]
"""(kind, namespace, name) -> the object's version ("uid/resourceVersion"), None when it is not known."""


def mounted_objects(pod_spec: Mapping[str, Any]) -> list[Mount]:
    """The Secrets and ConfigMaps a pod's volumes mount (pure)."""
    mounts: set[Mount] = set()
    for volume in pod_spec.get("volumes") or ():
        if secret := volume.get("secret"):
            mounts.add((SECRET, secret["secretName"]))
        elif config_map := volume.get("configMap"):
            mounts.add((CONFIG_MAP, config_map["name"]))
        elif projected := volume.get("projected"):
            for source in projected.get("sources") or ():
                if secret := source.get("secret"):
                    mounts.add((SECRET, secret["name"]))
                elif config_map := source.get("configMap"):
                    mounts.add((CONFIG_MAP, config_map["name"]))
    return sorted(mounts)


def versions_digest(namespace: str, mounts: Iterable[Mount], lookup: Lookup) -> str:
    """A short digest of the mounted objects' versions, None for one the caches do not hold (pure)."""
    versions = [[kind, name, lookup(kind, namespace, name)] for kind, name in mounts]
    return hashlib.sha256(json.dumps(versions).encode()).hexdigest()[:16]


def patch_for(pod: Mapping[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    """The merge patch that brings the pod's annotation to the digest of what it mounts; None when it is
    already there, the pod is going away or mounts nothing (pure)."""
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return None
    mounts = mounted_objects(pod.get("spec") or {})
    if not mounts:
        return None
    digest = versions_digest(metadata.get("namespace") or "", mounts, lookup)
    if (metadata.get("annotations") or {}).get(MOUNTED_CONTENT_ANNOTATION) == digest:
        return None
    return {"metadata": {"annotations": {MOUNTED_CONTENT_ANNOTATION: digest}}}


class MountRefresh:
    """Keeps MOUNTED_CONTENT_ANNOTATION of the pods in `pods` (informers; a key is looked up in each) equal
    to the digest of what they mount, read from the Secret and ConfigMap informers given."""

    def __init__(self, client: AsyncClient, *, pods: Sequence[Informer], secrets: Sequence[Informer],
                 config_maps: Sequence[Informer]) -> None:
        self.client = client
        self.pods = pods
        self.sources = {SECRET: secrets, CONFIG_MAP: config_maps}

    def lookup(self, kind: str, namespace: str, name: str) -> str | None:
        for informer in self.sources[kind]:
            if (obj := informer.get(namespace, name)) is not None:
                return f"{obj.metadata.uid}/{obj.metadata.resourceVersion}"
        return None

    async def reconcile(self, key: str) -> Result | None:
        namespace, name = split_key(key)
        pod = next((found for informer in self.pods if (found := informer.get(namespace, name)) is not None), None)
        if pod is None:
            return None
        patch = patch_for(as_dict(pod), self.lookup)
        if patch is None:
            return None
        try:
            await self.client.patch(Pod, name, patch, namespace=namespace, patch_type=PatchType.MERGE)
        except ApiError as error:
            if error.status.code != 404:  # gone meanwhile: nothing to refresh
                raise
        return None
