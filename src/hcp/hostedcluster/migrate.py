"""`hcp migrate cluster`: move a hosted cluster to another management cluster (the docs' DR procedure, 7.5).

The docs' seven manual steps, as one command with a line per step:

1. check the target: the operator is installed, it has an object store to stage the snapshot in,
   and nothing exists under the cluster's names;
2. pause the source: spec.pausedUntil on the HostedCluster and its NodePools (the operator then
   changes nothing), then scale its kube-apiserver to 0, so that no write is acknowledged after
   the snapshot: every write a client saw succeed is in it;
3. back it up (hcp.hostedcluster.backup) into a private local directory, with the pauses the
   objects had before step 2;
4. restore it on the target and wait until it is Available and every NodePool has its nodes;
5. remove the source: its HostedCluster (the operator removes the control plane) and the
   Secrets `hcp create cluster` made.

Until step 5 the source is untouched but paused: if step 3 or 4 fails, what the target has of
the cluster is destroyed and the source is unpaused (the operator scales its API server back),
so the cluster is where it was. The window without a hosted API runs from step 2 to the end of
step 4, and is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from hcp.api.names import control_plane_namespace
from hcp.backup.bundle import PAUSED
from hcp.backup.storage import DEFAULT_REGION
from hcp.hostedcluster.backup import (
    STORE_SECRET,
    BackupError,
    RestoreResult,
    backup_cluster,
    read_credentials,
    restore_cluster,
    scratch_dir,
)
from hcp.hostedcluster.kube import FIELD_MANAGER, Kube
from hcp.hostedcluster.lifecycle import (
    CONTROL_PLANES,
    HOSTED_CLUSTERS,
    NODE_POOLS,
    POLL_SECONDS,
    destroy_cluster,
    hosted_cluster,
)
from hcp.kube.objects import as_dict
from hcp.operator import install

KAS_DEPLOYMENT = "kube-apiserver"
STOP_TIMEOUT = 120.0
STOP_GRACE_SECONDS = 1

Log = Callable[[str], None]


@dataclass(frozen=True)
class MigrateResult:
    restored: RestoreResult
    unavailable_seconds: float
    """From the source's API server being stopped to the target's being Available with its nodes."""
    backup: str


def migrate_cluster(source: Kube, target: Kube, namespace: str, name: str, *, etcdutl: Path, log: Log,
                    target_address: Callable[[], str], keep_backup: Path | None = None, timeout: float = 900.0,
                    region: str = DEFAULT_REGION) -> MigrateResult:
    """Move HostedCluster `namespace/name` from `source` to `target`; see the module docstring."""
    cluster = hosted_cluster(source, namespace, name)
    if source.server == target.server:
        raise BackupError("the target management cluster is the source (both kubeconfigs reach "
                          f"{source.server}); to copy a cluster here, use hcp backup cluster and hcp restore cluster")
    log(f"step 1/5: checking the target management cluster {target.server}")
    _check_target(target, namespace, name)
    pools = [as_dict(p) for p in source.list(NODE_POOLS, namespace) if (p.spec or {}).get("clusterName") == name]
    paused = {f"HostedCluster/{name}": (cluster.get("spec") or {}).get("pausedUntil")}
    paused.update({f"NodePool/{p['metadata']['name']}": (p.get("spec") or {}).get("pausedUntil") for p in pools})

    log(f"step 2/5: pausing {namespace}/{name} on the source and stopping its API server")
    started = time.monotonic()
    try:
        _pause(source, namespace, paused, PAUSED)
        _stop_api_server(source, namespace, name)
        log("  the hosted API is down from here: no write is acknowledged until the target serves")
        with scratch_dir("hcp-migrate-") as scratch:
            directory = keep_backup or scratch
            log(f"step 3/5: backing up to {directory}")
            backup = backup_cluster(source, namespace, name, str(directory), credentials_secret=None,
                                    credentials=None, region=region, etcdutl=etcdutl, log=_indent(log),
                                    paused_until=paused)
            log(f"step 4/5: restoring on the target {target.server}")
            try:
                restored = restore_cluster(target, backup.location, namespace=namespace, name=name,
                                           credentials_secret=None, credentials=None, region=region,
                                           log=_indent(log), wait=True, timeout=timeout,
                                           node_address=target_address)
            except BaseException:
                log("  the restore failed: removing what the target has of the cluster")
                try:
                    destroy_cluster(target, namespace, name, _indent(log), 300.0)
                except Exception as error:  # noqa: BLE001 - reported; the source is restarted regardless
                    log(f"  could not remove it from the target: {error}")
                raise
    except BaseException as error:
        log(f"the migration failed ({error}); starting the source again")
        _pause(source, namespace, paused, None)
        log(f"  {namespace}/{name} is unpaused on the source; its operator starts its API server again")
        raise
    unavailable = time.monotonic() - started
    log(f"step 5/5: removing {namespace}/{name} from the source")
    destroy_cluster(source, namespace, name, _indent(log), 600.0)
    return MigrateResult(restored, unavailable, backup.location)


def _indent(log: Log) -> Log:
    return lambda message: log(f"  {message}")


def _check_target(target: Kube, namespace: str, name: str) -> None:
    if target.get_or_none(Deployment, install.DEPLOYMENT, install.NAMESPACE) is None:
        raise BackupError(f"the target management cluster {target.server} has no hcp operator "
                          "(Deployment hypershift/operator); run `hcp install` there first")
    if target.get_or_none(HOSTED_CLUSTERS, name, namespace) is not None:
        raise BackupError(f"the target already has HostedCluster {namespace}/{name}")
    read_credentials(target, STORE_SECRET)  # the snapshot is staged in the target's object store


def _pause(kube: Kube, namespace: str, paused: dict[str, str | None], value: str | None) -> None:
    """Set spec.pausedUntil of each object to `value`, or back to what it was (value None)."""
    for key, before in paused.items():
        kind, name = key.split("/", 1)
        resource = HOSTED_CLUSTERS if kind == "HostedCluster" else NODE_POOLS
        try:
            kube.client.patch(resource, name, {"spec": {"pausedUntil": value if value is not None else before}},
                              namespace=namespace, patch_type=PatchType.MERGE, field_manager=FIELD_MANAGER)
        except ApiError as error:
            if error.status.code != 404:
                raise


def _stop_api_server(kube: Kube, namespace: str, name: str) -> None:
    """Scale kube-apiserver to 0 once the control plane is paused, and wait until its pods are gone."""
    target = control_plane_namespace(namespace, name)
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:  # the operator must have paused the HostedControlPlane, or it scales the API server back
        control_plane = kube.get_or_none(CONTROL_PLANES, name, target)
        if control_plane is None or (as_dict(control_plane).get("spec") or {}).get("pausedUntil") == PAUSED:
            break
        if time.monotonic() > deadline:
            raise BackupError(f"the operator did not pause HostedControlPlane {target}/{name} within "
                              f"{STOP_TIMEOUT:.0f}s; is it running?")
        time.sleep(POLL_SECONDS)
    kube.client.patch(Deployment, KAS_DEPLOYMENT, {"spec": {"replicas": 0}}, namespace=target,
                      patch_type=PatchType.MERGE, field_manager=FIELD_MANAGER)
    # Its graceful stop is pointless here (the API is going down on purpose, and a request it cuts short was
    # never acknowledged) and slower than needed (it drains its watches for up to
    # --shutdown-watch-termination-grace-period).
    # One second, not zero: a graceful deletion keeps the Pod until the kubelet has stopped it, so "gone" below
    # means no API server process is left that could acknowledge a write after the snapshot.
    for pod in kube.list(Pod, target, labels={"app": KAS_DEPLOYMENT}):
        try:
            kube.client.delete(Pod, pod.metadata.name, namespace=target, grace_period=STOP_GRACE_SECONDS)
        except ApiError as error:
            if error.status.code != 404:
                raise
    while kube.list(Pod, target, labels={"app": KAS_DEPLOYMENT}):
        if time.monotonic() > deadline:
            raise BackupError(f"the API server pods of {target} did not stop within {STOP_TIMEOUT:.0f}s")
        time.sleep(POLL_SECONDS)

