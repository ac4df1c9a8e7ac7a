"""Building blocks of the hosted components' objects: metadata, RBAC, node-agent pod settings.

Every object carries COMPONENT_LABEL=<component NAME>, pod templates too, so
a component's objects and pods are found by one selector whoever applied them.
"""

from __future__ import annotations

import base64
from typing import Any

from hcp.dataplane.components.context import COMPONENT_LABEL

KUBE_SYSTEM = "kube-system"
RBAC = "rbac.authorization.k8s.io"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where kubelet mounts a pod's service-account token and the cluster CA (kube-root-ca.crt)."""
NODE_CRITICAL = "system-node-critical"
CLUSTER_CRITICAL = "system-cluster-critical"
TOLERATE_EVERYTHING = ({"operator": "Exists"},)
"""Node agents run on every node whatever its taints (not-ready and unreachable ones included)."""
LINUX = {"kubernetes.io/os": "linux"}


def metadata(component: str, name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {**labels, COMPONENT_LABEL: component}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def service_account(component: str, name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(component, name, namespace)}


def cluster_role(component: str, name: str, rules: list[dict[str, Any]], **labels: str) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": metadata(component, name, **labels),
            "rules": rules}


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def binding(component: str, name: str, role: str, account: str, namespace: str, *,
            role_kind: str = "ClusterRole", binding_namespace: str | None = None) -> dict[str, Any]:
    """A ClusterRoleBinding, or with `binding_namespace` a RoleBinding, of `role` to a ServiceAccount."""
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding" if binding_namespace else "ClusterRoleBinding",
        "metadata": metadata(component, name, binding_namespace),
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }


def config_map(component: str, name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(component, name, namespace), "data": data}


def host_path(name: str, path: str, kind: str) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def field_env(name: str, field_path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}
