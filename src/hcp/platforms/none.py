"""The None platform: machines come from outside and join on their own, with the pool's join command.

hcp cannot make or destroy such a machine: a user (or whatever boots their
machines) runs the pool's join command on it (hcp.ignition.join), and the
kubelet registers a Node labelled with the pool. So a machine here is a Node
of the hosted cluster that carries the pool label, and the NodePool
controller only counts and reports them (`makes_machines` is False): the
pool is Ready once `spec.replicas` of them are Ready, and its status says how
many more are to join. Auto-repair and scaling do not apply.
"""

from __future__ import annotations

from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.platforms.provider import Machine, MachineTemplate, PlatformContext, pool_machines


class JoinedMachineProvider:
    """Machines that joined by themselves: the pool's Nodes."""

    makes_machines = False

    def __init__(self, context: PlatformContext) -> None:
        self._hosted = context.hosted

    async def machines(self, pool: str) -> list[Machine]:
        return pool_machines(self._hosted, pool)

    async def create(self, name: str, template: MachineTemplate) -> None:
        raise NotImplementedError("machines of platform None join on their own; hcp does not create them")

    async def delete(self, machine: Machine) -> None:
        raise NotImplementedError("machines of platform None are removed by their owner; hcp does not delete them")

    async def update(self, machine: Machine, template: MachineTemplate) -> None:
        raise NotImplementedError("machines of platform None are updated by their owner (re-run the join command)")

    def capacity(self, platform: NodePoolPlatform) -> None:
        return None

