"""Names of the API that several layers share: labels, annotations, finalizers, derived names.

They live here once, below every layer that uses them (operator, control
plane, CLI, platforms), so that a key written by one is the key read by the
others. Keys in HyperShift's domain are HyperShift's own; `hcp.io/` keys are
hcp's.
"""

from __future__ import annotations

import uuid

FINALIZER = "hypershift.openshift.io/finalizer"
"""On HostedClusters and NodePools: the operator removes what they made before they go."""

CLUSTER_ANNOTATION = "hypershift.openshift.io/cluster"
"""`<namespace>/<name>` of the HostedCluster an object belongs to (control-plane namespace, HostedControlPlane)."""

RESTART_DATE_ANNOTATION = "hypershift.openshift.io/restart-date"
"""Changing this annotation on a HostedCluster rolls every control-plane pod (docs 12.4)."""

FORCE_UPGRADE_TO_ANNOTATION = "hypershift.openshift.io/force-upgrade-to"
"""On a HostedCluster: the release image it may move to although hcp would refuse the update (docs 6)."""

CERTIFICATE_VALIDITY_ANNOTATION = "hcp.io/certificate-validity"
"""On a HostedCluster (copied to its HostedControlPlane): how long the leaf certificates and kubeconfigs
of its control plane are valid, a Go duration ("10m", "8760h"); each is renewed at two thirds of it.
CAs keep their ten years."""

RESOURCE_REQUEST_OVERRIDE_PREFIX = "resource-request-override.hypershift.openshift.io"
"""HyperShift's annotations `<prefix>/<deployment>.<container>: memory=1Gi,cpu=500m` on a HostedCluster
(copied to its HostedControlPlane): the requests of that control-plane container (hcp.controlplane.overrides)."""

HOSTED_CONTROL_PLANE_LABEL = "hypershift.openshift.io/hosted-control-plane"
"""On a control-plane namespace: "true". On the objects in it: the namespace's name (HyperShift's colocation label)."""

HOSTED_CLUSTER_UID_LABEL = "hcp.io/hosted-cluster-uid"
"""The UID of the HostedCluster an object was made for: the mark of ownership.

The operator adopts, changes or deletes a control-plane namespace and the
copies it made only when they carry its own HostedCluster's UID; a namespace
of the expected name without it (or with another UID) belongs to someone else.
"""

AUTO_CREATED_LABEL = "hypershift.openshift.io/auto-created-for-infra"
"""HyperShift's label on what its CLI creates; the value is the cluster's infra ID (its name in hcp)."""

MAX_CONTROL_PLANE_NAMESPACE = 63
"""A namespace name is a DNS label."""


def control_plane_namespace(namespace: str, name: str) -> str:
    """The namespace of a HostedCluster's control plane: `<namespace>-<name>`, as HyperShift names it."""
    return f"{namespace}-{name}"


def control_plane_namespace_metadata(namespace: str, name: str, uid: str) -> dict:
    """The metadata that marks a control-plane namespace as HostedCluster `namespace/name`'s (UID `uid`).

    The operator creates the namespace so; a restore (hcp.backup.restore_cluster) creates it
    before the operator starts, with the same marks, so the operator adopts it.
    """
    return {"name": control_plane_namespace(namespace, name),
            "labels": {HOSTED_CONTROL_PLANE_LABEL: "true", HOSTED_CLUSTER_UID_LABEL: uid},
            "annotations": {CLUSTER_ANNOTATION: f"{namespace}/{name}"}}


def cluster_id(spec_cluster_id: str | None, uid: str) -> str:
    """A HostedCluster's cluster ID: its spec.clusterID, or when unset the one the operator gives its
    HostedControlPlane (a UUID derived from the HostedCluster's UID). Metrics carry it as label `_id`."""
    return spec_cluster_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"hcp:{uid}"))
