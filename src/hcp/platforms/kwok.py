"""The KWOK platform: a machine is a Node object in the hosted cluster, kept alive by kwok.

The Node is created with what a kubelet would register: labels, taints,
capacity and the release's kubelet version. The control plane's kwok
component (hcp.controlplane.components.kwok) manages Nodes that carry the
annotation kwok.x-k8s.io/node=fake: it makes them Ready, renews their Leases
and runs the pods bound to them. Removing that annotation from a Node stops
its simulated kubelet, which is how a machine failure is simulated.
"""

from __future__ import annotations

from typing import Any

from lightkube import ApiError
from lightkube.resources.core_v1 import Node
from lightkube.types import PatchType

from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.platforms.provider import CONFIG_ANNOTATION, Machine, MachineTemplate, PlatformContext, pool_machines

MANAGED_ANNOTATION = "kwok.x-k8s.io/node"
MANAGED_VALUE = "fake"
DEFAULT_CAPACITY = {"cpu": "1k", "memory": "1Ti", "pods": "1M"}
"""kwok's own defaults, for whatever spec.platform.kwok.capacity leaves unset."""


class KwokProvider:
    makes_machines = True

    def __init__(self, context: PlatformContext) -> None:
        self._hosted = context.hosted

    async def machines(self, pool: str) -> list[Machine]:
        return pool_machines(self._hosted, pool)

    async def create(self, name: str, template: MachineTemplate) -> None:
        await self._hosted.client.create(Node.from_dict(node_manifest(name, template)))
        if not await self._hosted.until(lambda: self._hosted.nodes.get(None, name) is not None):
            # The provider contract: `machines` lists it once this returns. Failing the pass (retried after a
            # backoff) is better than a pass that does not see it and makes another.
            raise TimeoutError(f"the hosted cluster's watch did not show the new Node {name} in time")

    async def delete(self, machine: Machine) -> None:
        try:
            await self._hosted.client.delete(Node, machine.name)
        except ApiError as error:
            if error.status.code != 404:
                raise
        await self._hosted.until(lambda: self._hosted.nodes.get(None, machine.name) is None)

    async def update(self, machine: Machine, template: MachineTemplate) -> None:
        """What a kubelet updated in place shows: the Node's version, and the configuration it now runs."""
        version = f"v{template.kubernetes_version}"
        try:
            await self._hosted.client.patch(Node.Status, machine.name, {"status": {"nodeInfo": {
                "kubeletVersion": version, "kubeProxyVersion": version}}}, patch_type=PatchType.MERGE)
            await self._hosted.client.patch(Node, machine.name, {"metadata": {"annotations": {
                CONFIG_ANNOTATION: template.config}}}, patch_type=PatchType.MERGE)
        except ApiError as error:
            if error.status.code != 404:
                raise
            return
        await self._hosted.until(lambda: _records(self._hosted.nodes.get(None, machine.name), template.config))

    def capacity(self, platform: NodePoolPlatform) -> dict[str, str]:
        return node_capacity(platform)


def _records(node: Any | None, config: str) -> bool:
    """Whether the Node records `config`, or is gone (which ends a wait for it too)."""
    return node is None or (node.metadata.annotations or {}).get(CONFIG_ANNOTATION) == config


def node_capacity(platform: NodePoolPlatform) -> dict[str, str]:
    """spec.platform.kwok.capacity, with kwok's defaults for what it leaves unset."""
    given = platform.kwok.capacity.model_dump(exclude_none=True) if platform.kwok and platform.kwok.capacity else {}
    return {**DEFAULT_CAPACITY, **given}


def node_manifest(name: str, template: MachineTemplate) -> dict[str, Any]:
    """The Node of a simulated machine, status included (the API server keeps a Node's status on create)."""
    capacity = node_capacity(template.platform)
    version = f"v{template.kubernetes_version}"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": template.arch,
        "node-role.kubernetes.io/worker": "",
        "type": "kwok",
        **template.labels,
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {MANAGED_ANNOTATION: MANAGED_VALUE, CONFIG_ANNOTATION: template.config}},
        "spec": {"taints": [dict(taint) for taint in template.taints]} if template.taints else {},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "nodeInfo": {
                "architecture": template.arch, "operatingSystem": "linux", "kubeletVersion": version,
                "kubeProxyVersion": version, "containerRuntimeVersion": "kwok", "kernelVersion": "kwok",
                "osImage": "kwok", "machineID": "", "bootID": "", "systemUUID": "",
            },
        },
    }
