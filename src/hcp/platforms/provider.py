"""The machine-provider boundary: the types a provider and the NodePool controller share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from lightkube import AsyncClient

from hcp.api.v1beta1.nodepool import NodePool, NodePoolPlatform
from hcp.api.v1beta1.platform import PlatformType
from hcp.kube.objects import as_dict
from hcp.platforms.hosted import HostedAccess

NODE_POOL_LABEL = "hypershift.openshift.io/nodePool"
"""On every Node of a pool (value: the NodePool's name), as HyperShift labels them."""
JOINING_PLATFORMS = (PlatformType.NONE, PlatformType.CONTAINER)
"""Platforms whose machines join with the pool's join script: a kubelet registers the Node, with a bootstrap
token of the pool and the labels and taints the ignition server gives it (KWOK's Nodes are made by hcp)."""


def node_labels(pool: NodePool) -> dict[str, str]:
    """The labels of every Node of the pool: spec.nodeLabels and the pool label."""
    return {**(pool.spec.node_labels or {}), NODE_POOL_LABEL: pool.metadata.name}


def node_taints(pool: NodePool) -> tuple[dict[str, Any], ...]:
    """The taints every Node of the pool registers with: spec.taints, as corev1 Taint dicts."""
    return tuple(as_dict(taint) for taint in pool.spec.taints or ())


CONFIG_ANNOTATION = "hypershift.openshift.io/nodePoolCurrentConfig"
"""On a machine (KWOK: its Node; Container: its pod): the Target.config it was made or last updated with."""


@dataclass(frozen=True)
class Target:
    """What every machine of a pool should run: a release and a configuration.

    `config` is a digest of everything a machine is made from that cannot change
    under a running node (release, platform settings, spec.config payloads); a
    machine recording another digest is outdated and is rolled. Labels and taints
    are not in it: they are applied to existing Nodes in place.
    """

    version: str
    """The kubelet's version, e.g. "1.37.1"."""
    config: str
    """Digest of the machine configuration, recorded on each machine as CONFIG_ANNOTATION."""


@dataclass(frozen=True)
class MachineTemplate:
    """What every machine of a pool is made from."""

    pool: str
    """The NodePool's name."""
    kubernetes_version: str
    """The kubelet's version, e.g. "1.37.1" (the NodePool's release)."""
    arch: str
    """CPU architecture, e.g. "amd64"."""
    labels: Mapping[str, str]
    """Labels of the Node (the pool label included)."""
    taints: tuple[Mapping[str, Any], ...]
    """Taints of the Node, as corev1 Taint dicts."""
    platform: NodePoolPlatform
    """The pool's platform-specific settings."""
    images: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """The release's images, component -> pull spec (a Container machine runs the "node" image)."""
    config: str = ""
    """The pool's Target.config, which the provider records on the machine (CONFIG_ANNOTATION)."""
    node_config: str = ""
    """The digest of the pool's node configuration (hcp.ignition.nodeconfig.digest): a joining machine asks
    the ignition server for exactly that one."""


@dataclass(frozen=True)
class Machine:
    """One machine of a pool, as its provider sees it."""

    name: str
    created: datetime
    node_name: str | None = None
    """The Node it registered as, once it has."""
    config: str | None = None
    """The Target.config the machine was made or last updated with (None: made before hcp recorded it)."""


class MachineProvider(Protocol):
    makes_machines: bool
    """False for a platform whose machines join on their own (None): the pool is then only counted."""

    async def machines(self, pool: str) -> list[Machine]:
        """The machines of NodePool `pool`, including those being deleted."""

    async def create(self, name: str, template: MachineTemplate) -> None:
        """Create machine `name`; returns once `machines` lists it."""

    async def delete(self, machine: Machine) -> None:
        """Delete the machine (and its Node); returns once `machines` no longer lists it."""

    async def update(self, machine: Machine, template: MachineTemplate) -> None:
        """Update a drained machine where it stands to `template` (InPlace upgrades): keep its name and
        Node; returns once `machines` lists it with template.config. Its Node becomes Ready again later."""

    def capacity(self, platform: NodePoolPlatform) -> Mapping[str, str] | None:
        """What one machine offers ("cpu", "memory", "pods" quantities), if known before it exists.

        Autoscaling adds machines only for pending pods that would fit one.
        """


@dataclass(frozen=True)
class PlatformContext:
    """What a provider may use: both clusters, and the hosted cluster's watched Nodes."""

    management: AsyncClient
    control_plane_namespace: str
    hosted: HostedAccess



def pool_machines(hosted: HostedAccess, pool: str) -> list[Machine]:
    """The pool's Nodes as machines: for platforms whose machine is its Node (KWOK, None)."""
    return [Machine(name=node.metadata.name, created=node.metadata.creationTimestamp, node_name=node.metadata.name,
                    config=(node.metadata.annotations or {}).get(CONFIG_ANNOTATION))
            for node in hosted.nodes.list() if (node.metadata.labels or {}).get(NODE_POOL_LABEL) == pool]
