"""The operator's view into one hosted cluster: a client of its API server and caches of its Nodes and Pods.

The NodePool controller reads machines' Nodes and the pods on them (for
draining, health and autoscaling) from these caches, so a pool of hundreds of
nodes costs a watch, not a list per reconcile. The caches' events are handed
to the controller, which maps them to the NodePools they concern.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import yaml
from lightkube import AsyncClient, KubeConfig
from lightkube.resources.core_v1 import Node, Pod

from hcp.kube.client import FIELD_MANAGER
from hcp.kube.informer import Handler, Informer


class HostedAccess:
    def __init__(self, name: str, kubeconfig: bytes, on_event: Handler) -> None:
        self.name = name
        """The HostedCluster's key ("namespace/name"), for logs."""
        self.kubeconfig = kubeconfig
        """The kubeconfig this access was built from; a new one (a moved endpoint) needs a new access."""
        self.client = AsyncClient(config=KubeConfig.from_dict(yaml.safe_load(kubeconfig)),
                                  field_manager=FIELD_MANAGER)
        self.nodes = Informer(self.client, Node)
        self.pods = Informer(self.client, Pod)
        self._changed = asyncio.Event()
        for informer in (self.nodes, self.pods):
            informer.add_handler(on_event)
            informer.add_handler(self._notify)
        self._tasks = [asyncio.create_task(informer.run(), name=f"{name} {informer!r}")
                       for informer in (self.nodes, self.pods)]

    @property
    def synced(self) -> bool:
        return self.nodes.synced and self.pods.synced

    async def until(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until the caches satisfy `check`, e.g. show a write just made; False after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if check():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return check()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    def _notify(self, event: str, obj: object) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
