"""network-policy: who may connect to the pods of a control-plane namespace.

One hosted cluster's pods (its machines of platform Container, and whatever runs
on the management cluster) must not reach another's etcd or the internal ports
of its control plane, while nodes and users reach what is published. So every
pod of the namespace takes no connection but those a policy of
network-policies.yaml allows: control-plane pods from each other; kube-apiserver,
the konnectivity server and the ignition server (the published endpoints) from
anywhere; the controllers' secure ports from the operator's namespace; metrics
ports from namespaces labelled hcp.io/monitoring=true (a hook for a Prometheus);
and, in a cluster of platform Container, the machines (nodes) from anywhere.

A component rather than part of the namespace's setup: the policies are rendered,
applied and pruned like every other control-plane object (a Container cluster's
`machines` policy is rendered only there, the ignition server's only where it runs), and listed first in COMPONENTS so that
a new namespace is closed before its first pod starts.

Egress is left open, as HyperShift leaves it but for private clusters (where it
keeps control-plane pods from the management cluster's API server): the control
plane dials its nodes through konnectivity, the ignition server and kube-apiserver
reach nothing of another hosted cluster's but what is published, backups and
restores reach object storage wherever it is, and an audit webhook may be anywhere.

A NetworkPolicy is only as good as the management cluster's network plugin: one
that does not enforce policies accepts and ignores them. The embedded cluster's
bridge plugin has no policy engine; kube-router's firewall beside it enforces
them (hcp.management.host_processes.kube_router_process), and
tests/integration/test_isolation.py dials through them. docs/configuration.md
("Isolation") says what is enforced where.
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.platform import PlatformType
from hcp.api.validation import pool_platforms_served
from hcp.controlplane.components.component import load
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext

NAME = "network-policy"
OPERATOR_NAMESPACE = "hypershift"
"""The operator's namespace (hcp.operator.install.NAMESPACE, fixed as its admission policy's user name is)."""
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace to its name: a selector no one can forge by labelling."""
MONITORING_LABEL = "hcp.io/monitoring"
"""On a namespace (value "true") whose pods may scrape the control plane's metrics ports."""
MACHINES_POLICY = "machines"
IGNITION_POLICY = "ignition-server"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    objects = load(__package__, "network-policies.yaml")
    operator = objects["NetworkPolicy/operator"]["spec"]["ingress"][0]["from"][0]
    operator["namespaceSelector"]["matchLabels"] = {NAMESPACE_NAME_LABEL: OPERATOR_NAMESPACE}
    served = pool_platforms_served(ctx.hcp.spec.platform.type)
    if PlatformType.NONE not in served:  # the ignition server's predicate: a KWOK cluster runs none
        del objects[f"NetworkPolicy/{IGNITION_POLICY}"]
    if PlatformType.CONTAINER not in served:
        del objects[f"NetworkPolicy/{MACHINES_POLICY}"]
    return list(objects.values())


COMPONENT = Component(NAME, render)
