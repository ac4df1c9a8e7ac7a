"""Objects of a hosted cluster as the operator leaves them, for seeding the fake API server."""

from __future__ import annotations

import base64
from typing import Any

RELEASE = "registry.hcp.internal:5000/hcp/release:v1.37.1"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def condition(type_: str, status: str, message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": "AsExpected", "message": message,
            "lastTransitionTime": "2030-01-01T00:00:00Z"}


def hosted_cluster(name: str = "demo", namespace: str = "clusters", *, release: str = RELEASE,
                   available: bool = False) -> dict[str, Any]:
    cluster = {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"release": {"image": release}, "platform": {"type": "KWOK"},
                 "pullSecret": {"name": f"{name}-pull-secret"}, "sshKey": {"name": f"{name}-ssh-key"},
                 "services": []},
    }
    if available:
        cluster["status"] = {
            "conditions": [condition("Available", "True", "The hosted control plane is available")],
            "kubeconfig": {"name": f"{name}-admin-kubeconfig"},
            "controlPlaneEndpoint": {"host": "10.0.0.2", "port": 30443},
            "version": {"desired": {"image": release, "version": release.rsplit(":v", 1)[-1]}},
        }
    return cluster


def admin_kubeconfig(name: str, namespace: str = "clusters", server: str = "https://10.0.0.2:30443",
                     owner_uid: str | None = None) -> dict[str, Any]:
    text = (f"apiVersion: v1\nkind: Config\nclusters: [{{name: {name}, cluster: {{server: '{server}'}}}}]\n"
            f"users: [{{name: admin, user: {{token: secret-token-of-{name}}}}}]\n"
            f"contexts: [{{name: admin, context: {{cluster: {name}, user: admin}}}}]\ncurrent-context: admin\n")
    metadata: dict[str, Any] = {"name": f"{name}-admin-kubeconfig", "namespace": namespace}
    if owner_uid:
        metadata["ownerReferences"] = [{"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
                                        "name": name, "uid": owner_uid}]
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque",
            "data": {"kubeconfig": b64(text)}}


def secret(name: str, namespace: str, data: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque",
            "data": {k: b64(v) for k, v in data.items()}}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def node(name: str, address: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name},
                                     {"type": "InternalIP", "address": address}]}}
