"""A local, watch-fed cache of one kind of object, and the mapping of changes to work-queue keys.

Controllers read the world from these caches instead of the API server, and
learn from their events which keys to reconcile. The cache is rebuilt from a
fresh list whenever the watch cannot continue (the server forgot our
resourceVersion — 410 Gone — or the connection broke); the difference between
the old and new cache is delivered as ordinary add/update/delete events, so
nothing that happened while the watch was down is missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import aclosing
from typing import Any

from lightkube import ALL_NS, AsyncClient
from lightkube.core import resource as lk
from lightkube.core.exceptions import ApiError

from hcp.kube.objects import make_key, object_key

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

Handler = Callable[[str, Any], None]
"""Called with the event type (ADDED, MODIFIED, DELETED) and the object (its last state, for DELETED)."""

KeyMapper = Callable[[Any], Iterable[str]]
"""Maps an object of a secondary kind to the keys of the primary objects it affects."""

WATCH_TIMEOUT = 300
"""Seconds after which the server ends a watch; lightkube then resumes it from the last resourceVersion."""
RETRY_DELAY, MAX_RETRY_DELAY = 1.0, 30.0


class Informer:
    """Lists and watches `resource` (all namespaces unless `namespace` is given), keeping the latest objects."""

    def __init__(
        self,
        client: AsyncClient,
        resource: type[lk.Resource],
        *,
        namespace: str | None = None,
        labels: dict[str, Any] | None = None,
    ) -> None:
        self.resource = resource
        self._client = client
        self._labels = labels
        if issubclass(resource, lk.NamespacedResource):
            self._namespace: str | None = namespace or ALL_NS
        else:
            self._namespace = None
        self._cache: dict[tuple[str | None, str], Any] = {}
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()

    def __repr__(self) -> str:
        return f"Informer({self.resource.__name__}, namespace={self._namespace!r}, labels={self._labels!r})"

    def add_handler(self, handler: Handler) -> None:
        """Call `handler` on every change, including the ADDED events of the initial list."""
        self._handlers.append(handler)

    def get(self, namespace: str | None, name: str) -> Any | None:
        return self._cache.get((namespace, name))

    def list(self, namespace: str | None = None) -> list[Any]:
        """Cached objects, optionally of one namespace only."""
        return [obj for (ns, _), obj in self._cache.items() if namespace is None or ns == namespace]

    @property
    def synced(self) -> bool:
        """True once the first list has been loaded into the cache."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def run(self) -> None:
        """List, then watch, forever; re-list whenever the watch fails."""
        failures = 0
        while True:
            try:
                version = await self._relist()
                self._synced.set()
                failures = 0
                watch = self._client.watch(
                    self.resource,
                    namespace=self._namespace,
                    labels=self._labels,
                    resource_version=version,
                    server_timeout=WATCH_TIMEOUT,
                )
                async with aclosing(watch):
                    async for event, obj in watch:
                        self._observe(event, obj)
            except Exception as error:
                if isinstance(error, ApiError) and error.status.code == 410:
                    log.info("watch expired, re-listing", extra={"informer": repr(self)})
                    continue
                failures += 1
                delay = min(MAX_RETRY_DELAY, RETRY_DELAY * 2 ** min(failures - 1, 16))
                log.warning("list/watch failed, retrying", exc_info=True,
                            extra={"informer": repr(self), "retry_in": delay})
                await asyncio.sleep(delay)

    async def _relist(self) -> str:
        """Replace the cache with a fresh list and emit the differences; returns the list's resourceVersion."""
        objects = self._client.list(self.resource, namespace=self._namespace, labels=self._labels)
        fresh = {_cache_key(obj): obj async for obj in objects}
        old, self._cache = self._cache, fresh
        for key, obj in fresh.items():
            previous = old.pop(key, None)
            if previous is None:
                self._notify(ADDED, obj)
            elif previous.metadata.resourceVersion != obj.metadata.resourceVersion:
                self._notify(MODIFIED, obj)
        for obj in old.values():
            self._notify(DELETED, obj)
        return objects.resourceVersion

    def _observe(self, event: str, obj: Any) -> None:
        key = _cache_key(obj)
        if event == DELETED:
            self._cache.pop(key, None)
        else:
            previous = self._cache.get(key)
            if previous is not None and previous.metadata.resourceVersion == obj.metadata.resourceVersion:
                return
            self._cache[key] = obj
            event = MODIFIED if previous is not None else ADDED
        self._notify(event, obj)

    def _notify(self, event: str, obj: Any) -> None:
        for handler in self._handlers:
            try:
                handler(event, obj)
            except Exception:
                log.exception("informer handler failed", extra={"informer": repr(self), "key": object_key(obj)})


def _cache_key(obj: Any) -> tuple[str | None, str]:
    return obj.metadata.namespace, obj.metadata.name


def owner_keys(kind: str) -> KeyMapper:
    """Keys of the owners of `kind` named in an object's ownerReferences (owners share its namespace)."""

    def keys(obj: Any) -> list[str]:
        refs = obj.metadata.ownerReferences or ()
        return [make_key(obj.metadata.namespace, ref.name) for ref in refs if ref.kind == kind]

    return keys


def annotation_keys(annotation: str) -> KeyMapper:
    """The key held in an annotation ("namespace/name"), e.g. hypershift.openshift.io/cluster
    on a HostedControlPlane, which points across namespaces at its HostedCluster."""

    def keys(obj: Any) -> list[str]:
        value = (obj.metadata.annotations or {}).get(annotation)
        return [value] if value else []

    return keys


def namespace_label_keys(label: str, primary: Informer) -> KeyMapper:
    """Keys of the `primary` objects in the namespace named by a label, e.g.
    hypershift.openshift.io/hosted-control-plane on the pods of a control-plane namespace."""

    def keys(obj: Any) -> list[str]:
        namespace = (obj.metadata.labels or {}).get(label)
        return [object_key(p) for p in primary.list(namespace)] if namespace else []

    return keys


def same_namespace_keys(primary: Informer, annotation: str | None = None) -> KeyMapper:
    """Keys of the `primary` objects in the object's own namespace, e.g. the HostedControlPlane of a
    CertificateRevocationRequest; with `annotation`, the key each of them holds in it instead (its HostedCluster)."""

    def keys(obj: Any) -> list[str]:
        found = primary.list(obj.metadata.namespace)
        if annotation is None:
            return [object_key(p) for p in found]
        return [value for p in found if (value := (p.metadata.annotations or {}).get(annotation))]

    return keys
