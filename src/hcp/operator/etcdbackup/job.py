"""The Job that takes an HCPEtcdBackup, and the copy of its credentials Secret that the Job mounts (pure).

HyperShift runs its backup Job in the operator's namespace and lends it the etcd
certificates through a Role and NetworkPolicy made for the occasion. hcp runs it in the
control-plane namespace instead, beside etcd, with the etcd client certificate Secret
that is already there: the operator writes nothing outside control-plane namespaces and
no RBAC at all. The credentials Secret lives in the operator's namespace (HyperShift's
rule), so a copy goes beside the Job, owned by the Job: it is garbage-collected with the
Job, which the controller deletes once the backup's outcome is recorded.

Names are fixed by the HCPEtcdBackup's name (`etcd-backup-<name>`, shortened with a hash
when too long for the label the Job controller puts on its pods), so creating the Job
twice is a conflict, never a second backup.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from importlib import resources
from typing import Any

import yaml

from hcp.api import HCPEtcdBackup, HostedControlPlane
from hcp.controlplane.components.component import adapt_pod, container
from hcp.controlplane.components.sizing import requests
from hcp.controlplane.context import RenderContext
from hcp.controlplane.labels import stamp
from hcp.controlplane.pki import ETCD_CLIENT_TLS
from hcp.images.python_app import PYTHON

COMPONENT = "etcd-backup"
JOB_PREFIX = "etcd-backup-"
BACKUP_LABEL = "hcp.io/etcd-backup"
"""On the Job, its pods and the credentials copy: the UID of the HCPEtcdBackup they serve."""
MAX_JOB_NAME = 63
"""The Job controller labels the Job's pods with its name, and a label value has at most 63 characters."""
BACKUP_DIR = "/var/lib/etcd-backup"
CREDENTIALS_DIR = "/etc/etcd-backup/credentials"
SNAPSHOT_CONTAINER, UPLOAD_CONTAINER = "snapshot", "upload"


@functools.cache
def _template() -> dict[str, Any]:
    return yaml.safe_load(resources.files(__package__).joinpath("job.yaml").read_text())


def job_name(backup_name: str) -> str:
    """`etcd-backup-<name>`; a name too long for that keeps its start and gets a hash of the whole."""
    name = JOB_PREFIX + backup_name
    if len(name) <= MAX_JOB_NAME:
        return name
    digest = hashlib.sha256(backup_name.encode()).hexdigest()[:10]
    return name[: MAX_JOB_NAME - len(digest) - 1].rstrip("-.") + "-" + digest


def credentials_copy_name(backup_name: str) -> str:
    return job_name(backup_name) + "-credentials"


def _owner(obj: dict[str, Any]) -> dict[str, Any]:
    """A controller reference without blockOwnerDeletion, which would need the owner's finalizers right
    where OwnerReferencesPermissionEnforcement is on; nothing waits on these owners' foreground deletion."""
    metadata = obj["metadata"]
    if not metadata.get("uid"):
        raise ValueError(f"{obj['kind']} {metadata.get('name')} has no uid; owners must be read from the server")
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": metadata["name"], "uid": metadata["uid"],
            "controller": True, "blockOwnerDeletion": False}


def render_job(backup: HCPEtcdBackup, hcp: HostedControlPlane, *, backup_uid: str, etcd_image: str,
               operator_image: str) -> dict[str, Any]:
    """The Job taking `backup` (an S3 one) of the etcd of `hcp`, owned by the backup."""
    namespace = backup.metadata.namespace
    s3 = backup.spec.storage.s3
    if s3 is None:
        raise ValueError("only S3 backups are rendered")
    name = backup.metadata.name
    job = copy.deepcopy(_template())
    job["metadata"]["name"] = job_name(name)
    job["metadata"]["labels"][BACKUP_LABEL] = backup_uid
    job["metadata"]["ownerReferences"] = [_owner({"apiVersion": backup.api_version, "kind": backup.kind,
                                                  "metadata": {"name": name, "uid": backup_uid}})]
    stamp(job, namespace)
    template = job["spec"]["template"]
    template["metadata"]["labels"][BACKUP_LABEL] = backup_uid
    ctx = RenderContext.for_hcp(hcp, images={"etcd": etcd_image}, kubernetes_version="",
                                api_endpoint=("0.0.0.0", 0), operator_image=operator_image)
    adapt_pod(ctx, template, component=COMPONENT, replicas=1)
    pod = template["spec"]
    snapshot = container(pod, SNAPSHOT_CONTAINER)
    snapshot["image"] = etcd_image
    snapshot["resources"] = requests("10m", "50Mi")
    upload = container(pod, UPLOAD_CONTAINER)
    upload["image"] = operator_image
    upload["resources"] = requests("10m", "100Mi")
    upload["command"] = [
        PYTHON, "-m", "hcp.backup.upload",
        f"--snapshot={BACKUP_DIR}/snapshot.db",
        f"--snapshot-status={BACKUP_DIR}/status.json",
        f"--bucket={s3.bucket}",
        f"--region={s3.region}",
        f"--key-prefix={s3.key_prefix}",
        f"--credentials-dir={CREDENTIALS_DIR}",
    ]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    volumes["client-tls"]["secret"]["secretName"] = ETCD_CLIENT_TLS
    volumes["credentials"]["secret"]["secretName"] = credentials_copy_name(name)
    return job


def render_credentials_copy(job: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The credentials Secret `source` (as the API serves it), copied beside `job` (as served) and owned by it."""
    metadata = job["metadata"]
    labels = {BACKUP_LABEL: metadata["labels"][BACKUP_LABEL]}
    secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": metadata["name"] + "-credentials", "namespace": metadata["namespace"],
                     "labels": labels, "ownerReferences": [_owner(job)]},
        "data": dict(source.get("data") or {}),
    }
    return stamp(secret, metadata["namespace"])
