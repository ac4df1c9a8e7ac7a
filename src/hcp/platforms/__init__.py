"""Machine providers: what a NodePool's "machine" is on each platform.

The NodePool controller decides how many machines a pool should have, which to
remove and which to repair; it never knows what a machine is. A provider
answers three questions for one hosted cluster: which machines a pool has,
how to create one from the pool's template, and how to delete one. Everything
else (draining, health, autoscaling) works on the Nodes the machines register
as, the same on every platform. Adding a platform is adding a module here and
a line in PROVIDERS.

The contract that keeps a level-triggered controller from creating a machine
twice: `create` and `delete` return only once `machines` reflects them.
"""

from __future__ import annotations

from collections.abc import Callable

from hcp.api.v1beta1.platform import PlatformType
from hcp.platforms.container import ContainerProvider
from hcp.platforms.kwok import KwokProvider
from hcp.platforms.none import JoinedMachineProvider
from hcp.platforms.provider import (
    JOINING_PLATFORMS,
    NODE_POOL_LABEL,
    Machine,
    MachineProvider,
    MachineTemplate,
    PlatformContext,
)

PROVIDERS: dict[PlatformType, Callable[[PlatformContext], MachineProvider]] = {
    PlatformType.KWOK: KwokProvider,
    PlatformType.NONE: JoinedMachineProvider,
    PlatformType.CONTAINER: ContainerProvider,
}
"""The platforms whose NodePools hcp can run, and how to make their provider."""

__all__ = ["JOINING_PLATFORMS", "NODE_POOL_LABEL", "PROVIDERS", "Machine", "MachineProvider", "MachineTemplate",
           "PlatformContext"]
