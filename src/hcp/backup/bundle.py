"""A whole-cluster backup ("bundle"): what it holds, how it is laid out, and how it becomes objects again.

`hcp backup cluster` saves, under `<target>/<namespace>-<name>/<UTC time>/`:

    manifest.json   what was saved: the cluster, its release, the etcd snapshot (key, sha256,
                    revision, key count) and every object by kind, name and role, plus the
                    sha256 of each file below
    cluster.yaml    the HostedCluster and its NodePools (spec, labels, annotations; no status)
    secrets.yaml    the Secrets they reference (pull secret, SSH key, encryption keys) and the
                    control plane's signers and service-account signing key
    <unix>.db       the etcd snapshot (HCPEtcdBackup's key)

Only the signers (root-ca, etcd-signer, kas-aggregator-client-signer, konnectivity-signer,
customer-system-admin-signer)
and sa-signing-key are saved of the control plane's PKI: every other certificate and
kubeconfig the operator derives from them (hcp.controlplane.pki keeps what still fits and
re-issues the rest), so a restore under another name or endpoint re-issues exactly the
certificates whose names changed, while every credential issued before the backup (admin
kubeconfigs, kubelet certificates, konnectivity agents, service-account tokens) stays valid.

Everything here is pure: the cleaning of live objects into saved ones, the manifest, and
the plan of a restore (`restore_objects`), which renames a cluster and everything named
after it. The CLI side (hcp.backup.cluster) reads and writes clusters and storage.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from hcp.api.names import AUTO_CREATED_LABEL, HOSTED_CLUSTER_UID_LABEL
from hcp.controlplane.labels import stamp
from hcp.controlplane.pki import SA_SIGNING_KEY, SIGNERS

API_VERSION = "hcp.io/v1alpha1"
KIND = "ClusterBackup"
MANIFEST = "manifest.json"
CLUSTER_FILE = "cluster.yaml"
SECRETS_FILE = "secrets.yaml"
PKI_SECRETS = (*SIGNERS, SA_SIGNING_KEY)
"""The control plane's Secrets a bundle keeps: the signers and the service-account key (see above)."""
PAUSED = "true"
"""spec.pausedUntil while a restore puts the pieces in place: HyperShift's "paused until unpaused"."""
RESTORED_FROM_ANNOTATION = "hcp.io/restored-from"
"""On a restored HostedCluster: the bundle it came from."""
ROLE_PULL_SECRET, ROLE_SSH_KEY = "pull-secret", "ssh-key"
ROLE_ACTIVE_KEY, ROLE_BACKUP_KEY, ROLE_CONTROL_PLANE = "encryption-key", "backup-encryption-key", "control-plane"
_REFERENCES = {  # role -> path of the reference in a HostedCluster's spec
    ROLE_PULL_SECRET: ("pullSecret",),
    ROLE_SSH_KEY: ("sshKey",),
    ROLE_ACTIVE_KEY: ("secretEncryption", "aescbc", "activeKey"),
    ROLE_BACKUP_KEY: ("secretEncryption", "aescbc", "backupKey"),
}
_KEPT_METADATA = ("name", "namespace", "labels", "annotations")
_DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


class BundleError(ValueError):
    """A bundle cannot be made or used; the message is one line."""


def bundle_prefix(namespace: str, name: str, stamp_: str) -> str:
    """Where a cluster's bundle goes below the target: `<namespace>-<name>/<stamp>`."""
    return f"{namespace}-{name}/{stamp_}"


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """A live object as it is saved: what a user set, without status or what the server keeps."""
    metadata = {key: copy.deepcopy(value) for key, value in obj.get("metadata", {}).items()
                if key in _KEPT_METADATA and value}
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items()
                   if key not in _DROPPED_ANNOTATIONS}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    saved = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": metadata}
    for key in ("type", "data", "spec"):
        if key in obj and obj[key] is not None:
            saved[key] = copy.deepcopy(obj[key])
    return saved


def _get(spec: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(spec, dict):
            return None
        spec = spec.get(key)
    return spec


def referenced_secrets(cluster: dict[str, Any]) -> dict[str, str]:
    """role -> name of each Secret the HostedCluster's spec references (in its own namespace)."""
    spec = cluster.get("spec") or {}
    found = {}
    for role, path in _REFERENCES.items():
        reference = _get(spec, path)
        if isinstance(reference, dict) and reference.get("name"):
            found[role] = reference["name"]
    return found


def check_backup_source(cluster: dict[str, Any]) -> None:
    """Refuse what a bundle cannot bring back: a cluster whose etcd hcp does not run."""
    etcd = (cluster.get("spec") or {}).get("etcd") or {}
    if etcd.get("managementType", "Managed") != "Managed":
        metadata = cluster["metadata"]
        raise BundleError(f"HostedCluster {metadata['namespace']}/{metadata['name']} has unmanaged etcd; "
                          "hcp backs up only the etcd it runs (back up your etcd yourself)")


@dataclass
class Bundle:
    """The objects of a bundle and its manifest, as saved or as read back."""

    cluster: dict[str, Any]
    node_pools: list[dict[str, Any]]
    secrets: dict[str, dict[str, Any]]
    """role -> saved Secret; control-plane ones under `control-plane/<name>`."""
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.cluster["metadata"]["namespace"]

    @property
    def name(self) -> str:
        return self.cluster["metadata"]["name"]

    @classmethod
    def collect(cls, cluster: dict[str, Any], node_pools: list[dict[str, Any]],
                user_secrets: dict[str, dict[str, Any]], control_plane_secrets: dict[str, dict[str, Any]],
                paused_until: dict[str, str | None] | None = None) -> Bundle:
        """A bundle of live objects. `user_secrets` by role (referenced_secrets), the control plane's by name.

        `paused_until` (`<kind>/<name>` -> value, None for none) is saved in place of the live
        spec.pausedUntil: a migration pauses the cluster for its backup, and the copy must not stay paused.
        """
        check_backup_source(cluster)
        missing = [name for name in PKI_SECRETS if name not in control_plane_secrets]
        if missing:
            metadata = cluster["metadata"]
            raise BundleError(f"the control plane of HostedCluster {metadata['namespace']}/{metadata['name']} has "
                              f"no Secret {', '.join(missing)} yet; back it up once it is Available")
        secrets = {role: _clean(secret) for role, secret in user_secrets.items()}
        for name in PKI_SECRETS:
            saved = _clean(control_plane_secrets[name])
            saved["metadata"].pop("labels", None)  # the namespace's own; stamped again on restore
            secrets[f"{ROLE_CONTROL_PLANE}/{name}"] = saved
        saved = [_clean(cluster), *(_clean(pool) for pool in node_pools)]
        for obj in saved:
            key = f"{obj['kind']}/{obj['metadata']['name']}"
            if paused_until and key in paused_until:
                obj["spec"].pop("pausedUntil", None)
                if paused_until[key] is not None:
                    obj["spec"]["pausedUntil"] = paused_until[key]
        return cls(saved[0], saved[1:], secrets)

    def cluster_document(self) -> bytes:
        return yaml.safe_dump_all([self.cluster, *self.node_pools], sort_keys=False).encode()

    def secrets_document(self) -> bytes:
        items = [{**secret, "metadata": {**secret["metadata"],
                                         "annotations": {**secret["metadata"].get("annotations", {}),
                                                         "hcp.io/backup-role": role}}}
                 for role, secret in sorted(self.secrets.items())]
        return yaml.safe_dump_all(items, sort_keys=False).encode()

    def make_manifest(self, *, created_at: str, source_server: str, release_image: str, kubernetes_version: str,
                      etcd: dict[str, Any], files: dict[str, str], hcp_version: str) -> dict[str, Any]:
        """The manifest: what was saved and the sha256 of each file (etcd's in `etcd`)."""
        objects = [{"kind": "HostedCluster", "name": self.name},
                   *({"kind": "NodePool", "name": pool["metadata"]["name"]} for pool in self.node_pools),
                   *({"kind": "Secret", "name": secret["metadata"]["name"], "role": role}
                     for role, secret in sorted(self.secrets.items()))]
        self.manifest = {
            "apiVersion": API_VERSION, "kind": KIND,
            "cluster": {"namespace": self.namespace, "name": self.name,
                        "uid": self.cluster["metadata"].get("uid", "")},
            "createdAt": created_at, "hcpVersion": hcp_version, "managementServer": source_server,
            "release": {"image": release_image, "kubernetesVersion": kubernetes_version},
            "etcd": etcd, "files": files, "objects": objects,
        }
        return self.manifest

    @classmethod
    def parse(cls, manifest: bytes, cluster_document: bytes, secrets_document: bytes, where: str) -> Bundle:
        """Read a bundle back; a BundleError names `where` when a piece is not what `hcp backup cluster` wrote."""
        try:
            parsed = json.loads(manifest)
            objects = [o for o in yaml.safe_load_all(cluster_document) if o]
            secret_items = [o for o in yaml.safe_load_all(secrets_document) if o]
        except (ValueError, yaml.YAMLError) as error:
            raise BundleError(f"{where}: not a cluster backup ({str(error).splitlines()[0]})") from None
        if not isinstance(parsed, dict) or parsed.get("kind") != KIND or parsed.get("apiVersion") != API_VERSION:
            raise BundleError(f"{where}: {MANIFEST} is not a {KIND} ({API_VERSION}) manifest")
        clusters = [o for o in objects if isinstance(o, dict) and o.get("kind") == "HostedCluster"]
        if len(clusters) != 1:
            raise BundleError(f"{where}: {CLUSTER_FILE} holds {len(clusters)} HostedClusters, not 1")
        secrets: dict[str, dict[str, Any]] = {}
        for item in secret_items:
            annotations = dict(item.get("metadata", {}).get("annotations") or {})
            role = annotations.pop("hcp.io/backup-role", None)
            if not role:
                raise BundleError(f"{where}: a Secret in {SECRETS_FILE} has no hcp.io/backup-role")
            item["metadata"]["annotations"] = annotations
            if not annotations:
                del item["metadata"]["annotations"]
            secrets[role] = item
        missing = [name for name in PKI_SECRETS if f"{ROLE_CONTROL_PLANE}/{name}" not in secrets]
        if missing:
            raise BundleError(f"{where}: {SECRETS_FILE} lacks the control plane's {', '.join(missing)}")
        return cls(clusters[0], [o for o in objects if o.get("kind") == "NodePool"], secrets, parsed)


@dataclass(frozen=True)
class RestorePlan:
    """What a restore creates, and what it sets once the pieces are in place."""

    create: list[dict[str, Any]]
    """In order: namespace, Secrets, NodePools (paused), HostedCluster (paused) — the commit point last."""
    control_plane_secrets: list[dict[str, Any]]
    """For the control-plane namespace, made once the HostedCluster exists (it carries its UID)."""
    control_plane_namespace: str
    paused_until: dict[str, str | None]
    """`<kind>/<name>` -> the spec.pausedUntil it had when saved, set again (None: removed) to start it."""
    renamed_pools: dict[str, str]
    """Old NodePool name -> new one, for the pool label of the Nodes in the hosted cluster."""

    @property
    def cluster(self) -> dict[str, Any]:
        return self.create[-1]

    @property
    def node_pools(self) -> list[dict[str, Any]]:
        return [o for o in self.create if o["kind"] == "NodePool"]


def renamer(old: str, new: str):
    """How a name derived from the cluster's is renamed: `<old>-x` -> `<new>-x`, `<old>` -> `<new>`, else `<new>-x`."""
    def rename(name: str) -> str:
        if old == new:
            return name
        if name == old:
            return new
        if name.startswith(f"{old}-"):
            return new + name[len(old):]
        return f"{new}-{name}"
    return rename


def restore_objects(bundle: Bundle, *, namespace: str, name: str, snapshot_url: str,
                    restored_from: str, control_plane_namespace: str,
                    node_port_address: str | None = None) -> RestorePlan:
    """The objects that bring `bundle` back as HostedCluster `namespace/name`, starting etcd from `snapshot_url`.

    The HostedCluster and NodePools are created paused, so the operator makes
    nothing until the control plane's Secrets are in its namespace; the Secrets
    named after the cluster (and the NodePools) follow its new name. With
    `node_port_address` (another management cluster's), services published by
    NodePort are published there instead, on ports the target allocates.
    """
    rename = renamer(bundle.name, name)

    def relabel(labels: dict[str, str] | None) -> dict[str, str]:
        out = {key: (name if key == AUTO_CREATED_LABEL and value == bundle.name else value)
               for key, value in (labels or {}).items()}
        out.pop(HOSTED_CLUSTER_UID_LABEL, None)
        return out

    def moved(obj: dict[str, Any], new_name: str) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        out["metadata"]["name"], out["metadata"]["namespace"] = new_name, namespace
        labels = relabel(out["metadata"].get("labels"))
        if labels:
            out["metadata"]["labels"] = labels
        else:
            out["metadata"].pop("labels", None)
        return out

    cluster = moved(bundle.cluster, name)
    spec = cluster["spec"]
    secrets = []
    for role, path in _REFERENCES.items():
        saved = bundle.secrets.get(role)
        reference = _get(spec, path)
        if saved is None or not isinstance(reference, dict):
            continue
        reference["name"] = rename(saved["metadata"]["name"])
        secrets.append(moved(saved, reference["name"]))
    if node_port_address:
        for service in spec.get("services") or []:
            strategy = service.get("servicePublishingStrategy") or {}
            if strategy.get("type") == "NodePort":
                strategy["nodePort"] = {"address": node_port_address}
    storage = spec.setdefault("etcd", {}).setdefault("managed", {}).setdefault("storage", {})
    storage["restoreSnapshotURL"] = [snapshot_url]
    paused = {f"HostedCluster/{name}": spec.get("pausedUntil")}
    spec["pausedUntil"] = PAUSED
    annotations = cluster["metadata"].setdefault("annotations", {})
    annotations[RESTORED_FROM_ANNOTATION] = restored_from

    pools, renamed = [], {}
    for pool in bundle.node_pools:
        new_name = rename(pool["metadata"]["name"])
        renamed[pool["metadata"]["name"]] = new_name
        restored = moved(pool, new_name)
        restored["spec"]["clusterName"] = name
        paused[f"NodePool/{new_name}"] = restored["spec"].get("pausedUntil")
        restored["spec"]["pausedUntil"] = PAUSED
        pools.append(restored)

    control_plane = []
    for role, saved in sorted(bundle.secrets.items()):
        if role.startswith(f"{ROLE_CONTROL_PLANE}/"):
            secret = copy.deepcopy(saved)
            secret["metadata"] = {"name": saved["metadata"]["name"]}
            control_plane.append(stamp(secret, control_plane_namespace))
    namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    return RestorePlan([namespace_object, *secrets, *pools, cluster], control_plane, control_plane_namespace,
                       paused, {old: new for old, new in renamed.items() if old != new})

