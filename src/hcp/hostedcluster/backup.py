"""`hcp backup cluster` and `hcp restore cluster`: a whole hosted cluster to storage and back.

The bundle's content and the renames of a restore are decided in hcp.backup.bundle (pure);
this module reads and writes clusters and storage.

Backup, in order (a failure removes what this run stored; a bundle is complete only once its
manifest.json, written last, is there):
1. read the HostedCluster, its NodePools, the Secrets it references and the control
   plane's signers and service-account key;
2. take the etcd snapshot with an HCPEtcdBackup (the operator's Job snapshots a live member
   and stores it with its sha256): into the bundle itself for an S3 target, or through the
   management cluster's object store for a directory, then copied down;
3. prove it: fetch it, check its sha256s and restore it into a scratch etcd data dir
   (hcp.backup.verify); the manifest records its revision and key count;
4. store cluster.yaml and secrets.yaml, then manifest.json.

Restore, in order:
1. read the bundle, checking each file's sha256 against the manifest;
2. check the target: the operator is installed, and nothing exists under the names the
   restore would use (a Secret that exists with the same content is reused);
3. make the snapshot reachable from the control plane: the bundle's own object when it is
   in S3 and the target's Secret gave the credentials, else copied into the target's
   object store (Secret hypershift/object-store-credentials);
4. create the Secrets, the NodePools and the HostedCluster, paused, all or nothing
   (hcp.hostedcluster.lifecycle.create_cluster); then the control-plane namespace, marked
   with the new HostedCluster's UID, with the saved signers and service-account key and
   the credentials etcd restores with; unpause the HostedCluster;
5. wait for etcd (restored from the snapshot) and the API server; give the Nodes of
   renamed NodePools their new pool label; unpause the NodePools and wait for their nodes;
6. remove the restore credentials and any staged copy of the snapshot.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightkube import ApiError
from lightkube.resources.core_v1 import Namespace, Node, Secret
from lightkube.types import PatchType

from hcp import __version__
from hcp.api import HCPEtcdBackup
from hcp.api.names import control_plane_namespace, control_plane_namespace_metadata
from hcp.api.v1beta1.etcdbackup import BACKUP_COMPLETED, BACKUP_SUCCEEDED_REASON, TERMINAL_REASONS
from hcp.backup import objectstore
from hcp.backup.bundle import (
    CLUSTER_FILE,
    MANIFEST,
    SECRETS_FILE,
    Bundle,
    BundleError,
    RestorePlan,
    bundle_prefix,
    referenced_secrets,
    restore_objects,
)
from hcp.backup.credentials import (
    CredentialsError,
    S3Credentials,
    decode_secret_data,
    parse_credentials,
    s3_storage,
)
from hcp.backup.storage import (
    DEFAULT_REGION,
    DirectoryTarget,
    S3Storage,
    S3Target,
    Storage,
    StorageError,
    file_sha256,
    open_storage,
    parse_target,
)
from hcp.backup.verify import VerifyReport, verify_file
from hcp.controlplane.components.etcd.adapter import RESTORE_CREDENTIALS_SECRET
from hcp.hostedcluster.kube import FIELD_MANAGER, HostedClusterError, Kube
from hcp.hostedcluster.kubeconfig import admin_kubeconfig
from hcp.hostedcluster.lifecycle import (
    CONTROL_PLANES,
    HOSTED_CLUSTERS,
    NODE_POOLS,
    POLL_SECONDS,
    create_cluster,
    destroy_cluster,
    hosted_cluster,
    wait_for_cluster,
)
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict
from hcp.management import object_store
from hcp.operator import install
from hcp.platforms.provider import NODE_POOL_LABEL

OPERATOR_NAMESPACE = install.NAMESPACE
STORE_SECRET = object_store.SECRET_NAME
"""The Secret `hcp management-cluster up` writes for the embedded object store."""
STAGING_PREFIX = "hcp-staging"
"""Key prefix in the embedded store's bucket for snapshots passing through on their way to or from a directory."""
BACKUPS = resource_of(HCPEtcdBackup)
CLUSTER_BACKUP_LABEL = "hcp.io/cluster-backup"
"""On the HCPEtcdBackup `hcp backup cluster` makes: the bundle it is for."""
SNAPSHOT_TIMEOUT = 600.0

Log = Callable[[str], None]


class BackupError(Exception):
    """A whole-cluster backup or restore failed; the message is one line."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --- credentials and storage -------------------------------------------------------------

def read_credentials(kube: Kube, name: str) -> S3Credentials:
    """The S3 credentials in Secret `name` of the operator's namespace (HCPEtcdBackup's format)."""
    return _credentials_secret(kube, name)[1]


def _credentials_secret(kube: Kube, name: str) -> tuple[Any, S3Credentials]:
    """Secret `name` of the operator's namespace and the S3 credentials it holds, read once."""
    secret = kube.get_or_none(Secret, name, OPERATOR_NAMESPACE)
    where = f"credential Secret {name!r} in namespace {OPERATOR_NAMESPACE!r}"
    if secret is None:
        raise CredentialsError(f"credential Secret {name!r} not found in namespace {OPERATOR_NAMESPACE!r}")
    return secret, parse_credentials(decode_secret_data(secret.data), where=where)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A private (0700) temporary directory, removed with everything in it (snapshots and keys) at the end."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path.chmod(0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def open_place(target: S3Target | DirectoryTarget, credentials: S3Credentials | None, region: str,
               scratch: Path) -> Storage:
    """Storage for a target; an S3 one with `credentials` (their CA written into `scratch`)."""
    if isinstance(target, DirectoryTarget):
        return open_storage(target)
    if credentials is None:
        raise BackupError(f"{target}: no credentials for the bucket (--credentials-secret or --credentials-file)")
    return s3_storage(credentials, target.bucket, target.key_prefix, region, scratch)


def _join(*parts: str) -> str:
    return "/".join(part.strip("/") for part in parts if part)


# --- backup ------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupResult:
    location: str
    """The bundle's URL (s3://bucket/prefix/ns-name/stamp) or directory."""
    snapshot: VerifyReport
    objects: int


def backup_cluster(kube: Kube, namespace: str, name: str, target_text: str, *, credentials_secret: str | None,
                   credentials: S3Credentials | None, region: str, etcdutl: Path, log: Log,
                   timeout: float = SNAPSHOT_TIMEOUT,
                   paused_until: dict[str, str | None] | None = None) -> BackupResult:
    """Save HostedCluster `namespace/name` as a bundle under `target_text` (s3://BUCKET[/PREFIX] or a directory)."""
    target = parse_target(target_text)
    cluster = hosted_cluster(kube, namespace, name)
    cp_namespace = control_plane_namespace(namespace, name)
    if kube.get_or_none(CONTROL_PLANES, name, cp_namespace) is None:
        raise BackupError(f"HostedCluster {namespace}/{name} has no control plane yet ({cp_namespace}); "
                          "back it up once it is Available")
    user_secrets = {}
    for role, secret_name in referenced_secrets(cluster).items():
        secret = kube.get_or_none(Secret, secret_name, namespace)
        if secret is None:
            raise BackupError(f"Secret {namespace}/{secret_name} ({role} of HostedCluster {namespace}/{name}) "
                              "not found")
        user_secrets[role] = as_dict(secret)
    control_plane_secrets = {s.metadata.name: as_dict(s) for s in kube.list(Secret, cp_namespace)}
    pools = [as_dict(p) for p in kube.list(NODE_POOLS, namespace) if (p.spec or {}).get("clusterName") == name]
    bundle = Bundle.collect(cluster, sorted(pools, key=lambda p: p["metadata"]["name"]), user_secrets,
                            control_plane_secrets, paused_until)
    created = _now()
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    prefix = bundle_prefix(namespace, name, stamp)
    log(f"saving HostedCluster {namespace}/{name}: {len(bundle.node_pools)} NodePool(s), "
        f"{len(bundle.secrets)} Secret(s) and an etcd snapshot, to {target}/{prefix}")

    if isinstance(target, S3Target):
        secret_name = credentials_secret or STORE_SECRET
        credentials = credentials or read_credentials(kube, secret_name)
        snapshot_bucket, snapshot_prefix, region_ = target.bucket, _join(target.key_prefix, prefix), region
    else:  # through the management cluster's own object store
        secret_name = STORE_SECRET
        store = read_credentials(kube, STORE_SECRET)
        snapshot_bucket, snapshot_prefix, region_ = objectstore.DEFAULT_BUCKET, _join(STAGING_PREFIX, prefix), \
            DEFAULT_REGION

    with scratch_dir("hcp-backup-") as scratch:
        place = open_place(target, credentials, region, scratch)
        if isinstance(place, S3Storage) and not place.bucket_exists():  # wrong credentials raise here too
            raise StorageError(f"s3://{target.bucket}: the bucket does not exist")
        place_bundle = _Sub(place, prefix)
        written: list[str] = []
        try:
            snapshot_url = _take_snapshot(kube, cp_namespace, stamp, snapshot_bucket, snapshot_prefix, secret_name,
                                          region_, log, timeout)
            snapshot_key = snapshot_url.rsplit("/", 1)[1]
            local = scratch / "snapshot.db"
            if isinstance(target, S3Target):
                written.append(snapshot_key)
                place_bundle.get(snapshot_key, local)
            else:
                staged = open_place(S3Target(snapshot_bucket, snapshot_prefix), store, region_, scratch)
                try:
                    staged.get(snapshot_key, local)
                    place_bundle.put(snapshot_key, local)
                    written.append(snapshot_key)
                finally:
                    staged.delete(snapshot_key)
            report = verify_file(local, etcdutl, scratch / "verify", snapshot_url)
            log(f"etcd snapshot {place_bundle.url(snapshot_key)}: revision {report.revision}, "
                f"{report.total_key} keys, {report.size} bytes; restores with etcdutl")
            files = {}
            for file_name, content in ((CLUSTER_FILE, bundle.cluster_document()),
                                       (SECRETS_FILE, bundle.secrets_document())):
                path = scratch / file_name
                path.write_bytes(content)
                path.chmod(0o600)
                files[file_name] = place_bundle.put(file_name, path).sha256 or file_sha256(path)
                written.append(file_name)
            spec = cluster.get("spec") or {}
            version = ((cluster.get("status") or {}).get("version") or {}).get("desired") or {}
            manifest = bundle.make_manifest(
                created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ"), source_server=kube.server,
                release_image=spec.get("release", {}).get("image", ""),
                kubernetes_version=version.get("version", ""), hcp_version=__version__,
                etcd={"key": snapshot_key, "sha256": report.sha256, "size": report.size,
                      "revision": report.revision, "totalKey": report.total_key},
                files=files)
            path = scratch / MANIFEST
            path.write_text(json.dumps(manifest, indent=2) + "\n")
            place_bundle.put(MANIFEST, path)
            written.append(MANIFEST)
        except BaseException:
            for key in reversed(written):
                try:
                    place_bundle.delete(key)
                except StorageError:
                    log(f"could not remove {place_bundle.url(key)}")
            raise
    if isinstance(target, DirectoryTarget):
        (target.path / prefix).chmod(0o700)
    return BackupResult(place_bundle.url(), report, len(manifest["objects"]))


class _Sub:
    """A storage seen below a key prefix."""

    def __init__(self, storage: Storage, prefix: str):
        self.storage, self.prefix = storage, prefix

    def url(self, key: str = "") -> str:
        return self.storage.url(_join(self.prefix, key))

    def put(self, key: str, source: Path):
        return self.storage.put(_join(self.prefix, key), source)

    def get(self, key: str, destination: Path):
        return self.storage.get(_join(self.prefix, key), destination)

    def delete(self, key: str) -> None:
        self.storage.delete(_join(self.prefix, key))


def _take_snapshot(kube: Kube, cp_namespace: str, stamp: str, bucket: str, key_prefix: str, credentials: str,
                   region: str, log: Log, timeout: float) -> str:
    """Take the etcd snapshot with an HCPEtcdBackup and return its URL; the HCPEtcdBackup is removed after."""
    name = f"cluster-backup-{stamp.lower()}"
    body = {"apiVersion": HCPEtcdBackup.model_fields["api_version"].default, "kind": "HCPEtcdBackup",
            "metadata": {"name": name, "namespace": cp_namespace, "labels": {CLUSTER_BACKUP_LABEL: stamp.lower()}},
            "spec": {"storage": {"storageType": "S3", "s3": {
                "bucket": bucket, "region": region, "keyPrefix": key_prefix, "credentials": {"name": credentials}}}}}
    made = kube.client.create(BACKUPS.from_dict(body))
    log(f"taking the etcd snapshot: HCPEtcdBackup {cp_namespace}/{name}")
    try:
        deadline = time.monotonic() + timeout
        reported = ""
        while True:
            live = as_dict(kube.client.get(BACKUPS, name, namespace=cp_namespace))
            condition = next((c for c in (live.get("status") or {}).get("conditions") or []
                              if c["type"] == BACKUP_COMPLETED), None)
            if condition and condition.get("reason") in TERMINAL_REASONS:
                if condition["reason"] != BACKUP_SUCCEEDED_REASON:
                    raise BackupError(f"the etcd snapshot failed ({condition['reason']}): {condition.get('message')}")
                return live["status"]["snapshotURL"]
            if condition and condition.get("message") and condition["message"] != reported:
                reported = condition["message"]
                log(f"  {condition.get('reason')}: {reported}")
            if time.monotonic() > deadline:
                raise BackupError(f"the etcd snapshot did not finish in {timeout:.0f}s: "
                                  f"{(condition or {}).get('message') or 'no status yet'}; "
                                  f"see `kubectl -n {cp_namespace} describe hcpetcdbackup {name}`")
            time.sleep(POLL_SECONDS)
    finally:
        try:
            kube.delete(BACKUPS, name, cp_namespace, uid=made.metadata.uid)
        except ApiError:
            pass


# --- restore -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreResult:
    namespace: str
    name: str
    endpoint: str
    nodes: int


def read_bundle(place: Storage, prefix: str, scratch: Path) -> Bundle:
    """The bundle at `prefix`, its files checked against their recorded and manifest sha256s."""
    sub = _Sub(place, prefix)
    manifest_path = scratch / MANIFEST
    try:
        sub.get(MANIFEST, manifest_path)
    except StorageError as error:
        if "no such object" not in str(error):
            raise
        newest = _newest_bundle(place, prefix)
        hint = f"; the newest backup there is {newest}" if newest else ""
        raise BackupError(f"{sub.url()}: no {MANIFEST}, so not a complete cluster backup{hint}") from None
    try:
        files = json.loads(manifest_path.read_bytes()).get("files") or {}
    except ValueError:
        raise BundleError(f"{sub.url(MANIFEST)}: not JSON") from None
    contents = {}
    for file_name in (CLUSTER_FILE, SECRETS_FILE):
        path = scratch / file_name
        info = sub.get(file_name, path)
        expected = files.get(file_name)
        if expected and (info.sha256 or file_sha256(path)) != expected:
            raise BackupError(f"{sub.url(file_name)}: its sha256 is not the one the manifest records")
        contents[file_name] = path.read_bytes()
    return Bundle.parse(manifest_path.read_bytes(), contents[CLUSTER_FILE], contents[SECRETS_FILE], sub.url())


def _newest_bundle(place: Storage, prefix: str) -> str | None:
    try:
        manifests = [o for o in place.list(_join(prefix, "")) if o.key.endswith(f"/{MANIFEST}")]
    except StorageError:
        return None
    if not manifests:
        return None
    newest = max(manifests, key=lambda o: o.key)
    return place.url(newest.key.rsplit("/", 1)[0])


def split_source(text: str) -> tuple[S3Target | DirectoryTarget, str]:
    """A bundle's location as (the place to open, the prefix of the bundle in it)."""
    target = parse_target(text)
    if isinstance(target, DirectoryTarget):
        return target, ""
    return S3Target(target.bucket), target.key_prefix


def restore_cluster(kube: Kube, source_text: str, *, namespace: str | None, name: str | None,
                    credentials_secret: str | None, credentials: S3Credentials | None, region: str, log: Log,
                    wait: bool = True, timeout: float | None = 900.0,
                    node_address: Callable[[], str] | None = None,
                    api_server_address: str | None = None) -> RestoreResult:
    """Recreate the hosted cluster a bundle holds, on the management cluster `kube` reaches.

    Services published by NodePort move to `api_server_address` when given, else, on another
    management cluster than the one backed up, to the address `node_address()` finds there.
    """
    place_target, prefix = split_source(source_text)
    target_secret = None  # the target's Secret the bundle is read with, when it is
    if isinstance(place_target, S3Target) and credentials is None:
        target_secret, credentials = _credentials_secret(kube, credentials_secret or STORE_SECRET)
    with scratch_dir("hcp-restore-") as scratch:
        place = open_place(place_target, credentials, region, scratch)
        bundle = read_bundle(place, prefix, scratch)
        namespace = namespace or bundle.namespace
        name = name or bundle.name
        etcd = bundle.manifest.get("etcd") or {}
        if not etcd.get("key"):
            raise BundleError(f"{place.url(prefix)}: the manifest names no etcd snapshot")
        log(f"restoring {bundle.namespace}/{bundle.name} from {place.url(prefix) if prefix else place.url()} "
            f"(taken {bundle.manifest.get('createdAt')}, etcd revision {etcd.get('revision')}) "
            f"as HostedCluster {namespace}/{name}")
        _check_free(kube, bundle, namespace, name)

        staged: tuple[Storage, str] | None = None
        snapshot_key = _join(prefix, etcd["key"])
        if target_secret is not None:
            snapshot_url = f"s3://{place_target.bucket}/{snapshot_key}"
            restore_credentials = target_secret
        else:
            restore_credentials, store_credentials = _credentials_secret(kube, STORE_SECRET)
            store = open_place(S3Target(objectstore.DEFAULT_BUCKET), store_credentials, region, scratch)
            local = scratch / "snapshot.db"
            info = place.get(snapshot_key, local)
            if etcd.get("sha256") and (info.sha256 or file_sha256(local)) != etcd["sha256"]:
                raise BackupError(f"{place.url(snapshot_key)}: its sha256 is not the one the manifest records")
            staged_key = _join(STAGING_PREFIX, "restores", f"{namespace}-{name}", etcd["key"])
            store.put(staged_key, local)
            local.unlink()
            staged = (store, staged_key)
            snapshot_url = f"s3://{objectstore.DEFAULT_BUCKET}/{staged_key}"
            log(f"staged the etcd snapshot at {snapshot_url} for the control plane to read")

        cp_namespace = control_plane_namespace(namespace, name)
        address = api_server_address
        if address is None and node_address is not None and bundle.manifest.get("managementServer") != kube.server:
            address = node_address()
            log(f"another management cluster than the backup's: services published by NodePort move to {address}")
        plan = restore_objects(bundle, namespace=namespace, name=name, snapshot_url=snapshot_url,
                               restored_from=place.url(prefix) if prefix else place.url(),
                               control_plane_namespace=cp_namespace, node_port_address=address)
        try:
            create_cluster(kube, plan.create, log)
        except BaseException:
            _unstage(staged, log)
            raise
        try:
            _prepare_control_plane(kube, plan, namespace, name, restore_credentials, log)
            _set_paused(kube, HOSTED_CLUSTERS, namespace, name,
                        plan.paused_until[f"HostedCluster/{name}"])
            log(f"unpaused HostedCluster {namespace}/{name}: etcd restores from the snapshot")
        except BaseException as error:
            log(f"the restore failed before the control plane started ({error}); removing what it created")
            destroy_cluster(kube, namespace, name, log, 120.0)
            _unstage(staged, log)
            raise
        if not wait:
            return RestoreResult(namespace, name, "", 0)
        wait_for_cluster(kube, namespace, name, 0, log, timeout)
        hosted = kube.other(admin_kubeconfig(kube, namespace, name))
        try:
            _relabel_nodes(hosted, plan, log)
            for pool in plan.node_pools:
                pool_name = pool["metadata"]["name"]
                _set_paused(kube, NODE_POOLS, namespace, pool_name, plan.paused_until[f"NodePool/{pool_name}"])
            nodes = _wait_for_pools(kube, namespace, [p["metadata"]["name"] for p in plan.node_pools], log, timeout)
        finally:
            hosted.close()
        _delete_restore_credentials(kube, cp_namespace)
        _unstage(staged, log)
        status = as_dict(kube.client.get(HOSTED_CLUSTERS, name, namespace=namespace)).get("status") or {}
        endpoint = status.get("controlPlaneEndpoint") or {}
        return RestoreResult(namespace, name, f"https://{endpoint.get('host')}:{endpoint.get('port')}", nodes)


def _check_free(kube: Kube, bundle: Bundle, namespace: str, name: str) -> None:
    """Refuse a restore that would take over anything that exists; before anything is made."""
    if kube.get_or_none(HOSTED_CLUSTERS, name, namespace) is not None:
        raise BackupError(f"HostedCluster {namespace}/{name} already exists; restore under another name with --name")
    cp_namespace = control_plane_namespace(namespace, name)
    if kube.get_or_none(Namespace, cp_namespace) is not None:
        raise BackupError(f"namespace {cp_namespace} exists (a control plane not yet removed, or someone else's); "
                          "wait for it to go or restore under another name with --name")
    plan = restore_objects(bundle, namespace=namespace, name=name, snapshot_url="s3://x/y", restored_from="",
                           control_plane_namespace=cp_namespace)
    for pool in plan.node_pools:
        if kube.get_or_none(NODE_POOLS, pool["metadata"]["name"], namespace) is not None:
            raise BackupError(f"NodePool {namespace}/{pool['metadata']['name']} already exists; "
                              "restore under another name with --name")
    for secret in (o for o in plan.create if o["kind"] == "Secret"):
        live = kube.get_or_none(Secret, secret["metadata"]["name"], namespace)
        if live is not None and (live.data or {}) != secret.get("data", {}):
            raise BackupError(f"Secret {namespace}/{secret['metadata']['name']} exists with other content; "
                              "restore under another name with --name")


def _prepare_control_plane(kube: Kube, plan: RestorePlan, namespace: str, name: str, restore_credentials: Any,
                           log: Log) -> None:
    """The control-plane namespace (the new HostedCluster's), its saved signers and key, and etcd's credentials."""
    cluster = kube.client.get(HOSTED_CLUSTERS, name, namespace=namespace)
    metadata = control_plane_namespace_metadata(namespace, name, cluster.metadata.uid)
    kube.client.create(Namespace.from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}))
    for secret in plan.control_plane_secrets:
        kube.client.create(Secret.from_dict(secret))
    if restore_credentials is not None:
        copy = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": RESTORE_CREDENTIALS_SECRET, "namespace": plan.control_plane_namespace},
                "data": dict(restore_credentials.data or {})}
        kube.client.create(Secret.from_dict(copy))
    log(f"created namespace {plan.control_plane_namespace} with the saved signers and service-account key "
        f"({len(plan.control_plane_secrets)} Secrets)")


def _set_paused(kube: Kube, resource: Any, namespace: str, name: str, value: str | None) -> None:
    kube.client.patch(resource, name, {"spec": {"pausedUntil": value}}, namespace=namespace,
                      patch_type=PatchType.MERGE, field_manager=FIELD_MANAGER)


def _relabel_nodes(hosted: Kube, plan: RestorePlan, log: Log) -> None:
    """Nodes of a renamed NodePool carry its old name in their pool label: give them the new one."""
    for old, new in plan.renamed_pools.items():
        nodes = hosted.list(Node, labels={NODE_POOL_LABEL: old})
        for node in nodes:
            hosted.client.patch(Node, node.metadata.name, {"metadata": {"labels": {NODE_POOL_LABEL: new}}},
                                patch_type=PatchType.MERGE, field_manager=FIELD_MANAGER)
        if nodes:
            log(f"relabelled {len(nodes)} Node(s) of NodePool {old} as {new}")


def _wait_for_pools(kube: Kube, namespace: str, pools: list[str], log: Log, timeout: float | None) -> int:
    """Wait until each NodePool has its replicas ready; the number of nodes."""
    deadline = time.monotonic() + timeout if timeout else None
    pending = list(pools)
    total = 0
    while pending:
        for pool_name in list(pending):
            pool = as_dict(kube.client.get(NODE_POOLS, pool_name, namespace=namespace))
            wanted = (pool.get("spec") or {}).get("replicas")
            ready = ((pool.get("status") or {}).get("replicas")) or 0
            if wanted is None or ready >= wanted:
                log(f"NodePool {namespace}/{pool_name}: {ready} node(s) ready")
                total += ready
                pending.remove(pool_name)
        if pending and deadline is not None and time.monotonic() > deadline:
            raise HostedClusterError(f"timed out waiting for the nodes of NodePool(s) {', '.join(pending)}; "
                                     f"see `kubectl -n {namespace} describe nodepool {pending[0]}`")
        if pending:
            time.sleep(POLL_SECONDS)
    return total


def _delete_restore_credentials(kube: Kube, cp_namespace: str) -> None:
    try:
        kube.client.delete(Secret, RESTORE_CREDENTIALS_SECRET, namespace=cp_namespace)
    except ApiError as error:
        if error.status.code != 404:
            raise


def _unstage(staged: tuple[Storage, str] | None, log: Log) -> None:
    if staged is None:
        return
    store, key = staged
    try:
        store.delete(key)
    except StorageError as error:
        log(f"could not remove the staged snapshot {store.url(key)}: {error}")
