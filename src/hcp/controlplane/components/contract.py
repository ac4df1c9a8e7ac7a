"""The contract every control-plane component keeps with the HostedControlPlane controller.

A component declares, once, everything the controller needs to know about it
without looking inside its manifests:

- `enabled(ctx)`: whether the HostedControlPlane runs it at all (etcd only when
  managed, kwok only for KWOK clusters, ...). A disabled component renders
  nothing, so what it rendered before is pruned (hcp.controlplane.render.leftovers),
  and it is not waited for: nothing of it counts towards Available or towards
  a rolled-out release.
- `render(ctx)`: its objects (see component.py for what every adapter shares).
- `workloads`: the (kind, name) of the Deployments and StatefulSets whose rollout
  is the component's rollout. Declared rather than guessed from the render so
  that a reader sees what is waited for; a unit test holds every component to
  rendering exactly these (some only once an endpoint is known).
- `depends_on`: the components that must be rolled out and available before
  this one's existing workloads are updated (hcp.controlplane.ordering), as
  kube-apiserver needs etcd and the controllers need kube-apiserver. A dependency
  that is disabled (an unmanaged etcd) is not waited for.
- `starts_after_dependencies`: whether its workloads are also created only then.

The model is HyperShift's control-plane-operator v2 (support/controlplane-component):
a component there is manifests, adapt functions, a predicate and dependencies,
and reports its own Available and RolloutComplete; here the report is
hcp.controlplane.status.ComponentStatus, computed each pass, never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hcp.controlplane.context import RenderContext

Workload = tuple[str, str]
"""(kind, name) of a Deployment or StatefulSet in the control-plane namespace."""


def always(ctx: RenderContext) -> bool:
    """The default `enabled`: every HostedControlPlane runs the component."""
    return True


@dataclass(frozen=True)
class Component:
    """One control-plane component: what it renders, when, what shows its rollout, what it waits for."""

    name: str
    """Its name: RENDERED_BY_LABEL and COMPONENT_LABEL values, golden file names, condition messages."""
    render: Callable[[RenderContext], list[dict[str, Any]]]
    """Its objects for an enabled component (without the common labels: hcp.controlplane.render adds them)."""
    workloads: tuple[Workload, ...] = ()
    """The workloads whose rollout and availability are the component's; none for configuration only."""
    depends_on: tuple[str, ...] = ()
    """Names of the components updated before it (their workloads rolled out and available)."""
    starts_after_dependencies: bool = False
    """Whether its workloads are created only once its dependencies are settled, as HyperShift holds every
    component: for a program that gives up or backs off for long when what it talks to is not there at its
    start (kwok retries its first call after 1, 2, 4, 8 and 16 s). Others are created at once with their
    dependencies, so that they have started by the time those serve."""
    enabled: Callable[[RenderContext], bool] = always
    """Whether this HostedControlPlane runs the component; a disabled one renders nothing."""
    gates: tuple[Workload, ...] = ()
    """Objects other than workloads that are updated like workloads, only once the dependencies are settled:
    what something outside the control plane acts on (ConfigMap hosted-cluster-config, from which the
    data-plane controller updates the components inside the hosted cluster)."""
