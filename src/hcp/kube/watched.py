"""Another cluster watched from the operator: a client of its API server and informers over it.

Controllers that act inside hosted clusters (the NodePool controller on Nodes
and Pods, the data-plane controller on CSRs, bindings and tokens) each keep
one per hosted cluster. The informers start together, are synced together,
and close with the client; `until` waits for the caches to show a write just
made, woken by their events rather than by polling.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import yaml
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.resources.core_v1 import Secret

from hcp.kube.client import FIELD_MANAGER
from hcp.kube.informer import Handler, Informer


class WatchedCluster:
    def __init__(self, name: str, kubeconfig: bytes) -> None:
        self.name = name
        """The key of the object this cluster belongs to ("namespace/name"), for logs."""
        self.kubeconfig = kubeconfig
        """The kubeconfig this access was built from; a new one (a moved endpoint) needs a new access."""
        self.client = AsyncClient(config=KubeConfig.from_dict(yaml.safe_load(kubeconfig)),
                                  field_manager=FIELD_MANAGER)
        self._informers: tuple[Informer, ...] = ()
        self._tasks: list[asyncio.Task] = []
        self._changed = asyncio.Event()

    def _watch(self, on_event: Handler, *informers: Informer) -> None:
        """Start `informers`, handing every change to `on_event` (and to `until`)."""
        self._informers = informers
        for informer in informers:
            informer.add_handler(on_event)
            informer.add_handler(self._notify)
        self._tasks = [asyncio.create_task(informer.run(), name=f"{self.name} {informer!r}")
                       for informer in informers]

    @property
    def synced(self) -> bool:
        return all(informer.synced for informer in self._informers)

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


Watched = TypeVar("Watched", bound=WatchedCluster)


class WatchedClusters(Generic[Watched]):
    """One watched hosted cluster per key, built from its HostedControlPlane's published admin kubeconfig.

    A cluster is first watched once its control plane is ready, then kept
    (through rollouts) until the kubeconfig changes, e.g. a moved endpoint.
    """

    def __init__(self, client: AsyncClient, build: Callable[[str, bytes], Watched]) -> None:
        self._client = client
        self._build = build
        self._watched: dict[str, Watched] = {}
        self._lock = asyncio.Lock()

    async def get(self, key: str, hcp: Any) -> Watched | None:
        """The watched cluster of `hcp` (a HostedControlPlane) under `key`; None until it can be built."""
        reference = hcp.status.kube_config if hcp is not None and hcp.status else None
        if reference is None:
            return None
        try:
            secret = await self._client.get(Secret, reference.name, namespace=hcp.metadata.namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise
        encoded = (secret.data or {}).get(reference.key)
        if not encoded:
            return None
        kubeconfig = base64.b64decode(encoded)
        async with self._lock:
            current = self._watched.get(key)
            if current is not None and current.kubeconfig == kubeconfig:
                return current
            if not hcp.status.ready:
                return None
            if current is not None:
                await current.close()
            self._watched[key] = self._build(key, kubeconfig)
            return self._watched[key]

    async def release(self, keep: Callable[[str], bool] = lambda key: False) -> None:
        """Stop watching the clusters whose key `keep` rejects (all, by default)."""
        async with self._lock:
            for key in [key for key in self._watched if not keep(key)]:
                await self._watched.pop(key).close()
