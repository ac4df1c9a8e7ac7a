"""HyperShift's resource-request override annotations, applied to the rendered workloads.

A HostedCluster (and the HostedControlPlane it makes, which carries the
annotations on) may set the requests of any control-plane container:

    resource-request-override.hypershift.openshift.io/<deployment>.<container>: memory=1Gi,cpu=500m

`<deployment>` is the name of a Deployment or StatefulSet in the control-plane
namespace (kube-apiserver, etcd, ...), `<container>` one of its containers or
init containers. The listed resources replace the rendered requests; the others
are kept. Why: the defaults are sized for a small cluster, and a control plane
that serves more (or a management cluster with less to spare) needs them
changed per cluster without a new hcp; the same keys as HyperShift's, so the
procedures and scripts that set them work unchanged.

A value that cannot be read is a render error (the HostedControlPlane's
ValidConfiguration=False says which annotation and why) rather than silently
ignored: the user asked for a size and would otherwise not learn that they did
not get it. An annotation naming a workload or container that is not rendered
is ignored, as in HyperShift (a component may not be enabled for this cluster).

Pure: annotations in, rendered objects changed in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from hcp.api.names import RESOURCE_REQUEST_OVERRIDE_PREFIX
from hcp.controlplane.context import RenderError

Overrides = dict[tuple[str, str], dict[str, str]]
"""(workload name, container name) -> resource name -> quantity."""

_QUANTITY = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
"""A Kubernetes resource quantity (non-negative), so that a typo is reported here with its annotation rather
than as the API server's refusal of a Deployment the user never wrote."""
_RESOURCE_NAME = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-z0-9A-Z]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def resource_overrides(annotations: Mapping[str, str] | None) -> Overrides:
    """The overrides the annotations ask for; RenderError naming the first one that cannot be read."""
    overrides: Overrides = {}
    for key, value in sorted((annotations or {}).items()):
        prefix, _, target = key.partition("/")
        if prefix != RESOURCE_REQUEST_OVERRIDE_PREFIX:
            continue
        workload, dot, container = target.rpartition(".")  # container names have no dots; workload names may
        if not dot or not workload or not container:
            raise RenderError(f"annotation {key}: the name after the slash must be <deployment>.<container>")
        requests: dict[str, str] = {}
        for item in value.split(","):
            resource, equals, quantity = (part.strip() for part in item.partition("="))
            if not equals or not _RESOURCE_NAME.match(resource) or not _QUANTITY.match(quantity):
                raise RenderError(f"annotation {key}: {value!r} is not a list of resource=quantity "
                                  f"(e.g. memory=1Gi,cpu=500m)")
            requests[resource] = quantity
        overrides[(workload, container)] = requests
    return overrides


def apply_overrides(objects: Iterable[dict[str, Any]], overrides: Overrides) -> None:
    """Set the overridden requests on the containers of the rendered Deployments and StatefulSets (in place)."""
    if not overrides:
        return
    for obj in objects:
        if obj.get("kind") not in WORKLOAD_KINDS:
            continue
        spec = obj["spec"]["template"]["spec"]
        for container in [*spec.get("initContainers", ()), *spec.get("containers", ())]:
            requests = overrides.get((obj["metadata"]["name"], container["name"]))
            if requests:
                resources = container.setdefault("resources", {})
                resources["requests"] = {**resources.get("requests", {}), **requests}
