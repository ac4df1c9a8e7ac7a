"""HCPEtcdBackups, control planes, Jobs and Pods as the API serves them, for the backup controller's tests."""

from __future__ import annotations

import copy
from typing import Any

from hcp.api import HCPEtcdBackup, HostedControlPlane

NAMESPACE = "clusters-demo"
BACKUP_UID = "8d0f3a5e-1111-4222-8333-944455556666"
CLUSTER_UID = "c1c1c1c1-2222-4333-8444-955566667777"
ETCD_IMAGE = "registry.hcp.internal:5000/hcp/etcd:v3.6.16"
OPERATOR_IMAGE = "registry.hcp.internal:5000/hcp/operator:0.1.0@sha256:" + "a" * 64
REPORT = ('{"snapshotURL":"s3://hcp-backups/clusters-demo/1765000000.db","sha256":"' + "ab" * 32 +
          '","size":4096,"revision":4711,"totalKey":1033,"etcdVersion":"3.6.0"}')


def backup_body(name: str = "nightly", **s3: Any) -> dict[str, Any]:
    return {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HCPEtcdBackup",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": BACKUP_UID, "generation": 1},
        "spec": {"storage": {"storageType": "S3", "s3": {
            "bucket": "hcp-backups", "region": "us-east-1", "keyPrefix": "clusters-demo",
            "credentials": {"name": "object-store-credentials"}, **s3}}},
    }


def backup(name: str = "nightly", **s3: Any) -> HCPEtcdBackup:
    return HCPEtcdBackup.model_validate(backup_body(name, **s3))


def control_plane_body(*, labelled: bool = True, management_type: str = "Managed") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "demo", "namespace": NAMESPACE, "uid": "hcp-uid",
                                "annotations": {"hypershift.openshift.io/cluster": "clusters/demo"}}
    if labelled:
        metadata["labels"] = {"hcp.io/hosted-cluster-uid": CLUSTER_UID}
    etcd: dict[str, Any] = {"managementType": management_type}
    if management_type == "Managed":
        etcd["managed"] = {"storage": {"type": "PersistentVolume", "persistentVolume": {"size": "8Gi"}}}
    else:
        etcd["unmanaged"] = {"endpoint": "https://etcd.example:2379", "tls": {"clientSecret": {"name": "etcd"}}}
    return {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane", "metadata": metadata,
        "spec": {
            "releaseImage": "registry.hcp.internal:5000/hcp/release:v1.37.1",
            "pullSecret": {"name": "pull-secret"}, "issuerURL": "https://kubernetes.default.svc",
            "sshKey": {}, "infraID": "demo", "platform": {"type": "KWOK"}, "dns": {"baseDomain": ""},
            "controllerAvailabilityPolicy": "SingleReplica",
            "services": [{"service": s, "servicePublishingStrategy": {"type": "NodePort",
                                                                      "nodePort": {"address": "172.30.1.2"}}}
                         for s in ("APIServer", "OAuthServer", "Konnectivity", "Ignition")],
            "etcd": etcd,
            "nodeSelector": {"pool": "control-plane"},
        },
    }


def control_plane(**kwargs: Any) -> HostedControlPlane:
    return HostedControlPlane.model_validate(control_plane_body(**kwargs))


def statefulset(ready: int, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "etcd", "namespace": NAMESPACE,
                         "labels": {"app.kubernetes.io/managed-by": "hcp"}},
            "spec": {"replicas": replicas, "serviceName": "etcd-discovery",
                     "selector": {"matchLabels": {"app": "etcd"}},
                     "template": {"metadata": {"labels": {"app": "etcd"}}, "spec": {"containers": []}}},
            "status": {"replicas": replicas, "readyReplicas": ready}}


def job_status(condition: str | None, reason: str = "", message: str = "") -> dict[str, Any]:
    if condition is None:
        return {"active": 1}
    return {"conditions": [{"type": condition, "status": "True", "reason": reason, "message": message}]}


def terminated(name: str, code: int, message: str = "", reason: str = "") -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": code}
    if message:
        state["message"] = message
    if reason:
        state["reason"] = reason
    return {"name": name, "image": "registry.hcp.internal:5000/hcp/x:1", "imageID": "", "ready": False,
            "restartCount": 0, "state": {"terminated": state}}


def pod(init: list[dict[str, Any]] = (), main: list[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd-backup-nightly-abcde"},
            "status": {"initContainerStatuses": copy.deepcopy(list(init)),
                       "containerStatuses": copy.deepcopy(list(main))}}
