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
content the pod mounts, as the operator's caches hold it. A changed Secret
changes the digest, the annotation is patched, the kubelet syncs the pod and
rewrites its files (0.3 s measured). Nothing restarts: a pod's annotations
are not part of any workload's template, so no Deployment or StatefulSet
rolls, and components that read their files only at start are rolled by their
config hash as before (hcp.controlplane.components.component.set_config_hash).

The digest covers the keys each volume mounts (all of them, or its `items`),
of Secret and ConfigMap volumes and of projected volumes' Secret and ConfigMap
sources; what the caches do not hold (e.g. kube-root-ca.crt, which is not
hcp's) counts as absent and so never changes the digest. The operator's
ValidatingAdmissionPolicy lets it change this one annotation of a pod and
nothing else (hcp.operator manifests).

The digest and the decision are pure (`mounted_keys`, `content_digest`,
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
"""On pods: the digest of the Secret and ConfigMap content they mount, as last made known to the kubelet."""

SECRET, CONFIG_MAP = "Secret", "ConfigMap"

Mount = tuple[str, str, tuple[str, ...] | None]
"""(kind, name, the keys mounted or None for all of them)."""

Lookup = Callable[[str, str, str], Mapping[str, str] | None]
"""(kind, namespace, name) -> the object's data (key -> value as the API holds it), None when not known."""


def _keys(source: Mapping[str, Any]) -> tuple[str, ...] | None:
    items = source.get("items")
    return tuple(sorted(item["key"] for item in items)) if items else None


def mounted_keys(pod_spec: Mapping[str, Any]) -> list[Mount]:
    """The Secrets and ConfigMaps a pod's volumes mount, with the keys they mount (pure)."""
    mounts: list[Mount] = []
    for volume in pod_spec.get("volumes") or ():
        if secret := volume.get("secret"):
            mounts.append((SECRET, secret["secretName"], _keys(secret)))
        elif config_map := volume.get("configMap"):
            mounts.append((CONFIG_MAP, config_map["name"], _keys(config_map)))
        elif projected := volume.get("projected"):
            for source in projected.get("sources") or ():
                if secret := source.get("secret"):
                    mounts.append((SECRET, secret["name"], _keys(secret)))
                elif config_map := source.get("configMap"):
                    mounts.append((CONFIG_MAP, config_map["name"], _keys(config_map)))
    return sorted(set(mounts), key=lambda mount: (mount[0], mount[1], mount[2] or ()))


def content_digest(namespace: str, mounts: Iterable[Mount], lookup: Lookup) -> str:
    """A short digest of the mounted content: one value per mounted key, None for an unknown object (pure)."""
    content = []
    for kind, name, keys in mounts:
        data = lookup(kind, namespace, name)
        if data is None:
            content.append([kind, name, None])
            continue
        chosen = keys if keys is not None else tuple(sorted(data))
        content.append([kind, name, [[key, data.get(key)] for key in chosen]])
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def patch_for(pod: Mapping[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    """The merge patch that brings the pod's annotation to the digest of what it mounts; None when it is
    already there, the pod is going away or mounts nothing (pure)."""
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return None
    mounts = mounted_keys(pod.get("spec") or {})
    if not mounts:
        return None
    digest = content_digest(metadata.get("namespace") or "", mounts, lookup)
    if (metadata.get("annotations") or {}).get(MOUNTED_CONTENT_ANNOTATION) == digest:
        return None
    return {"metadata": {"annotations": {MOUNTED_CONTENT_ANNOTATION: digest}}}


def _data(obj: Any) -> dict[str, str]:
    """A cached Secret's or ConfigMap's keys and values (binaryData too), as the API holds them."""
    return {**(getattr(obj, "data", None) or {}), **(getattr(obj, "binaryData", None) or {})}


class MountRefresh:
    """Keeps MOUNTED_CONTENT_ANNOTATION of the pods in `pods` (informers; a key is looked up in each) equal
    to the digest of the content they mount, read from the Secret and ConfigMap informers given."""

    def __init__(self, client: AsyncClient, *, pods: Sequence[Informer], secrets: Sequence[Informer],
                 config_maps: Sequence[Informer]) -> None:
        self.client = client
        self.pods = pods
        self.sources = {SECRET: secrets, CONFIG_MAP: config_maps}

    def lookup(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        for informer in self.sources[kind]:
            if (obj := informer.get(namespace, name)) is not None:
                return _data(obj)
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
