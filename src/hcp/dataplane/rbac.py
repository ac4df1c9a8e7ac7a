"""The node-bootstrap RBAC of a hosted cluster: the ClusterRoleBindings kubeadm makes, and one for the API server.

- bootstrap tokens (group system:bootstrappers) may ask for certificates
  (system:node-bootstrapper), and their node client CSRs are approved by
  kube-controller-manager's csrapproving controller (...:nodeclient);
- nodes (group system:nodes) get their renewed client certificates the same
  way (...:selfnodeclient);
- the API server's kubelet client (user kube-apiserver-kubelet-client, in no
  group) may use the kubelet API (system:kubelet-api-admin): kubelets ask the
  API server whether their caller may, and this is the answer.

The ClusterRoles are the API server's own bootstrap policy; only the bindings
are hcp's. Pure: the controller applies what `needs_apply` says differs.
"""

from __future__ import annotations

from typing import Any

from hcp.controlplane.labels import MANAGED_BY, MANAGED_BY_LABEL
from hcp.controlplane.pki import KAS_KUBELET_CLIENT_USER
from hcp.dataplane.tokens import BOOTSTRAPPERS_GROUP

RBAC_GROUP = "rbac.authorization.k8s.io"
LABELS = {MANAGED_BY_LABEL: MANAGED_BY}
NODES_GROUP = "system:nodes"

_BINDINGS = (
    ("hcp:node-bootstrapper", "system:node-bootstrapper", "Group", BOOTSTRAPPERS_GROUP),
    ("hcp:node-autoapprove-bootstrap",
     "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "Group", BOOTSTRAPPERS_GROUP),
    ("hcp:node-autoapprove-certificate-rotation",
     "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "Group", NODES_GROUP),
    ("hcp:kube-apiserver-kubelet-client", "system:kubelet-api-admin", "User", KAS_KUBELET_CLIENT_USER),
)


def cluster_role_bindings() -> list[dict[str, Any]]:
    """Every ClusterRoleBinding hcp keeps in a hosted cluster."""
    return [
        {
            "apiVersion": f"{RBAC_GROUP}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": dict(LABELS)},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC_GROUP, "kind": kind, "name": subject}],
        }
        for name, role, kind, subject in _BINDINGS
    ]


def needs_apply(desired: dict[str, Any], live: dict[str, Any] | None) -> bool:
    """Whether the live binding (a dict, None if absent) differs from the desired one in what hcp sets."""
    if live is None:
        return True
    labels = (live.get("metadata") or {}).get("labels") or {}
    return (live.get("roleRef") != desired["roleRef"] or live.get("subjects") != desired["subjects"]
            or any(labels.get(key) != value for key, value in desired["metadata"]["labels"].items()))
