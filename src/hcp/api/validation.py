"""What a HostedCluster or NodePool needs beyond its schema to be served; the operator reports problems as conditions.

The CRD schemas refuse malformed specs at admission, generated from the same
models. What remains is what a schema cannot know, or what an object admitted
under an older schema may still carry:

- `hosted_cluster_problems`: facts that span fields or objects the schema does
  not see together, e.g. the length of `<namespace>-<name>`;
- `namespace_owner_problem`: whether a control-plane namespace is this
  HostedCluster's to use (it carries its UID) or someone else's.

Every function here is pure, so a property test can feed it generated specs.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Any

from hcp.api.formats import DNS1123_LABEL
from hcp.api.names import (
    CLUSTER_ANNOTATION,
    HOSTED_CLUSTER_UID_LABEL,
    HOSTED_CONTROL_PLANE_LABEL,
    MAX_CONTROL_PLANE_NAMESPACE,
    control_plane_namespace,
)
from hcp.api.v1beta1.common import SecretEncryptionType
from hcp.api.v1beta1.hostedcluster import HostedCluster
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS, NodePool
from hcp.api.v1beta1.openshiftconfig import node_port_range
from hcp.api.v1beta1.platform import PlatformType

HOSTED_CLUSTER_PLATFORMS = (PlatformType.KWOK, PlatformType.NONE, PlatformType.CONTAINER)
"""Platforms a HostedCluster may have: its control plane does not depend on the platform."""

MAX_NODE_POOL_NAME = 57
"""A machine is named `<nodepool>-<5 characters>`, and a node name must fit a 63-character label value."""


def hosted_cluster_problems(hc: HostedCluster) -> list[str]:
    """Why this HostedCluster cannot be served, beyond what its schema checks (empty: none)."""
    problems = []
    namespace, name = hc.metadata.namespace or "", hc.metadata.name or ""
    target = control_plane_namespace(namespace, name)
    if len(target) > MAX_CONTROL_PLANE_NAMESPACE or not re.fullmatch(DNS1123_LABEL, target):
        problems.append(f"the control-plane namespace name {target!r} (<namespace>-<name>) must be a DNS label of "
                        f"at most {MAX_CONTROL_PLANE_NAMESPACE} characters; use a shorter name or namespace")
    if hc.spec.platform.type not in HOSTED_CLUSTER_PLATFORMS:
        problems.append(f"platform {hc.spec.platform.type} is not supported; hcp hosts clusters of platform "
                        + " or ".join(str(p) for p in HOSTED_CLUSTER_PLATFORMS))
    services = [s.service for s in hc.spec.services]
    duplicated = sorted({str(s) for s in services if services.count(s) > 1})
    if duplicated:
        problems.append(f"spec.services lists {', '.join(duplicated)} more than once")
    if "APIServer" not in services:
        problems.append("spec.services must publish the APIServer service")
    problems += _overlapping_networks(hc)
    problems += _node_port_range(hc)
    encryption = hc.spec.secret_encryption
    if encryption is not None and encryption.type == SecretEncryptionType.KMS:
        problems.append(KMS_NOT_SERVED)
    return problems


KMS_NOT_SERVED = ("spec.secretEncryption type kms is not supported: hcp encrypts Secrets at rest with aescbc only "
                  "(type aescbc, aescbc.activeKey), and does not serve a cluster that asks for encryption without it")
"""Why a HostedCluster asking for KMS encryption is not served (its settings are HyperShift's, admitted and
reported): said before anything is created, rather than as the control plane's render error."""


def _node_port_range(hc: HostedCluster) -> list[str]:
    """HyperShift's check of spec.configuration.network.serviceNodePortRange beyond its pattern (the hosted
    kube-apiserver would not start with a range whose first port is above its last), in its words."""
    configuration = hc.spec.configuration
    network = configuration.network if configuration is not None else None
    if network is None or not network.service_node_port_range:
        return []
    first, last = node_port_range(network.service_node_port_range)
    if first <= last:
        return []
    return [f"spec.configuration.network.serviceNodePortRange: Invalid value: \"{network.service_node_port_range}\": "
            f"invalid ServiceNodePortRange format: invalid range: minimum port {first} must be less than or equal "
            f"to maximum port {last}"]


def _overlapping_networks(hc: HostedCluster) -> list[str]:
    networking = hc.spec.networking
    named = [(f"clusterNetwork {e.cidr}", e.cidr) for e in networking.cluster_network]
    named += [(f"serviceNetwork {e.cidr}", e.cidr) for e in networking.service_network]
    named += [(f"machineNetwork {e.cidr}", e.cidr) for e in networking.machine_network or ()]
    networks = [(label, ipaddress.ip_network(cidr, strict=False)) for label, cidr in named]
    return [f"{a} overlaps {b}" for (a, net_a), (b, net_b) in itertools.combinations(networks, 2)
            if net_a.version == net_b.version and net_a.overlaps(net_b)]


def node_pool_problems(pool: NodePool) -> list[str]:
    """Why this NodePool's machines cannot be made, beyond what its schema checks (empty: none)."""
    problems = []
    replicas = pool.spec.replicas or 0
    if pool.spec.auto_scaling is not None:
        replicas = pool.spec.auto_scaling.max
    if replicas > MAX_NODE_POOL_REPLICAS:
        problems.append(f"{replicas} nodes exceed the largest NodePool hcp supports ({MAX_NODE_POOL_REPLICAS})")
    if replicas < 0:
        problems.append(f"replicas must not be negative, not {replicas}")
    name = pool.metadata.name or ""
    if len(name) > MAX_NODE_POOL_NAME:
        problems.append(f"machine names <nodepool>-<5 characters> must be DNS labels (the node's hostname label): "
                        f"a NodePool name may have at most {MAX_NODE_POOL_NAME} characters, not {len(name)}")
    return problems


def pool_platforms_served(cluster_platform: PlatformType | str) -> tuple[PlatformType, ...]:
    """The NodePool platforms a hosted cluster of this platform can serve.

    A KWOK cluster's control plane runs kwok (simulated kubelets) and no ignition
    server; every other cluster runs the ignition server real machines join
    through, and no kwok. Machines of platform Container are privileged pods in
    the control-plane namespace, which Pod Security admits only in a Container
    cluster's (hcp.controlplane.podsecurity: the others enforce `restricted`).
    The control-plane components' predicates read this too.
    """
    if cluster_platform == PlatformType.KWOK:
        return (PlatformType.KWOK,)
    if cluster_platform == PlatformType.CONTAINER:
        return (PlatformType.NONE, PlatformType.CONTAINER)
    return (PlatformType.NONE,)


def pool_platform_problem(cluster_platform: PlatformType | str, pool_platform: PlatformType | str) -> str:
    """Empty if a NodePool of `pool_platform` can have machines in a cluster of `cluster_platform`; else why not."""
    served = pool_platforms_served(cluster_platform)
    if pool_platform in served:
        return ""
    why = (" (machines of platform Container are privileged pods, which Pod Security admits only in the "
           "control-plane namespace of a HostedCluster of platform Container)"
           if pool_platform == PlatformType.CONTAINER else "")
    return (f"a HostedCluster of platform {cluster_platform} cannot serve NodePools of platform {pool_platform}: "
            f"its control plane serves NodePools of platform {' or '.join(str(p) for p in served)}{why}")


def namespace_owner_problem(namespace: Any | None, hc_uid: str, hc_key: str) -> str:
    """Empty if the control-plane namespace is absent or this HostedCluster's; else why it is not.

    Only the UID mark counts: a name, a label or an annotation can be written by
    anyone, and two HostedClusters (`c/a-b`, `c-a/b`) map to the same name.
    """
    if namespace is None:
        return ""
    metadata = namespace.metadata
    labels = metadata.labels or {}
    if labels.get(HOSTED_CLUSTER_UID_LABEL) == hc_uid:
        return ""
    if metadata.deletionTimestamp:
        return f"namespace {metadata.name} is still being deleted; the control plane is created once it is gone"
    claimed = (metadata.annotations or {}).get(CLUSTER_ANNOTATION)
    if labels.get(HOSTED_CLUSTER_UID_LABEL) and claimed and claimed != hc_key:
        whose = f"it is the control plane of HostedCluster {claimed}"
    elif labels.get(HOSTED_CLUSTER_UID_LABEL):
        whose = "it was made for another HostedCluster (another uid)"
    elif labels.get(HOSTED_CONTROL_PLANE_LABEL):
        whose = f"it is not marked {HOSTED_CLUSTER_UID_LABEL}={hc_uid}"
    else:
        whose = "it was not made by hcp"
    return (f"namespace {metadata.name} already exists and {whose}; hcp creates nothing in it and never deletes it. "
            f"Delete this HostedCluster and create it under another name or namespace")
