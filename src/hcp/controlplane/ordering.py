"""The order in which a control plane's components are updated (docs 6.7), from what each depends on.

Every component declares `depends_on` (hcp.controlplane.components.contract):
kube-apiserver on etcd, the controllers, kwok and the ignition server on
kube-apiserver. A pass applies the components in `update_order`, every
dependency before its dependents. A workload (Deployment or StatefulSet) of a
component that already exists is updated only once every component it
depends on is settled: its workloads rolled out on their current spec and
available, and itself not waiting for its own dependencies (so a wait passes
down the chain: while etcd rolls, kube-apiserver is held and so is everything
after it). Until then it keeps the spec it runs and is "held", which the
HostedControlPlane's status says. Workloads that do not exist yet are not
held, so a new control plane starts its components at once, except those
that declare `starts_after_dependencies` (a program that would back off for
long while its API server is not there yet), which are created once their
dependencies are settled; objects
other than workloads (Services, ConfigMaps, Secrets, PodDisruptionBudgets)
are always applied. A dependency that is not enabled (an unmanaged etcd) has
nothing to wait for.

Pure: the controller gives it the components and the render and asks, as it
applies, whether a component's workloads may be updated now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hcp.controlplane.components.contract import Component
from hcp.controlplane.labels import RENDERED_BY_LABEL

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


class DependencyError(ValueError):
    """The components' dependencies are not a partial order: a programming error, caught by a unit test."""


def update_order(components: Sequence[Component]) -> tuple[Component, ...]:
    """The components with every dependency before its dependents, otherwise in the order given.

    Raises DependencyError for a name given twice, a dependency on no component, or a cycle.
    """
    by_name: dict[str, Component] = {}
    for component in components:
        if component.name in by_name:
            raise DependencyError(f"two components are named {component.name}")
        by_name[component.name] = component
    ordered: list[Component] = []
    done: set[str] = set()

    def visit(component: Component, path: tuple[str, ...]) -> None:
        if component.name in done:
            return
        if component.name in path:
            cycle = " -> ".join([*path[path.index(component.name):], component.name])
            raise DependencyError(f"components depend on each other in a cycle: {cycle}")
        for dependency in component.depends_on:
            if dependency not in by_name:
                raise DependencyError(f"{component.name} depends on {dependency}, which is no component")
            visit(by_name[dependency], (*path, component.name))
        done.add(component.name)
        ordered.append(component)

    for component in components:
        visit(component, ())
    return tuple(ordered)


def waiting_for(component: Component, settled: Mapping[str, bool]) -> tuple[str, ...]:
    """The dependencies of `component` that are not settled yet; its existing workloads are held while there are any.

    `settled` has the components applied so far this pass (update_order puts every dependency first);
    a dependency missing from it is not enabled and has nothing to wait for.
    """
    return tuple(name for name in component.depends_on if not settled.get(name, True))


def held(component: Component, waits: tuple[str, ...], exists: bool) -> bool:
    """Whether a workload of `component` stays as it is this pass (or, not created yet, stays uncreated):
    while it waits for dependencies (`waiting_for`), if it exists or the component starts after them."""
    return bool(waits) and (exists or component.starts_after_dependencies)


def by_component(rendered: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The render grouped by the component that rendered it (RENDERED_BY_LABEL), each in render order."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for obj in rendered:
        component = (obj.get("metadata", {}).get("labels") or {}).get(RENDERED_BY_LABEL, "")
        grouped.setdefault(component, []).append(obj)
    return grouped


def is_workload(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") in WORKLOAD_KINDS
