"""Kubernetes Events about the objects hcp manages, as `kubectl describe` shows them.

Events are core/v1 Events: a repeat of the same event (same object, type,
reason and message) bumps the count and lastTimestamp of the Event already
written, as client-go's recorder does, instead of adding one more object on
every reconcile. Recording is best effort: an event that cannot be written is
logged and dropped, and never fails the reconcile that reported it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

from hcp.kube.objects import as_dict

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"
CACHE_SIZE = 4096


class EventRecorder:
    def __init__(self, client: AsyncClient, *, component: str = "hcp", instance: str | None = None) -> None:
        self._client = client
        self._component = component
        self._instance = instance or socket.gethostname()
        self._written: OrderedDict[tuple, tuple[str, int]] = OrderedDict()
        """(object, type, reason, message) -> (Event name, count), least recently used first."""

    async def record(self, obj: Any, type: str, reason: str, message: str) -> None:
        """Record an event of `type` (Normal or Warning) about `obj`; never raises."""
        try:
            await self._record(as_dict(obj), type, reason, message)
        except Exception:
            log.warning("cannot record event", exc_info=True, extra={"reason": reason, "event_message": message})

    async def _record(self, body: dict[str, Any], type: str, reason: str, message: str) -> None:
        metadata = body["metadata"]
        involved = ObjectReference(
            apiVersion=body["apiVersion"], kind=body["kind"], name=metadata["name"],
            namespace=metadata.get("namespace"), uid=metadata.get("uid"),
        )
        namespace = involved.namespace or "default"  # where the API puts events of cluster-scoped objects
        key = (involved.apiVersion, involved.kind, namespace, involved.name, involved.uid, type, reason, message)
        now = datetime.now(UTC).replace(microsecond=0)
        if key in self._written:
            name, count = self._written[key]
            try:
                await self._client.patch(
                    Event, name, {"count": count + 1, "lastTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    namespace=namespace, patch_type=PatchType.MERGE,
                )
                self._remember(key, name, count + 1)
                return
            except ApiError as error:
                if error.status.code != 404:  # gone (events expire after an hour): write a new one
                    raise
        event = Event(
            metadata=ObjectMeta(name=f"{involved.name}.{time.time_ns():x}", namespace=namespace),
            involvedObject=involved,
            type=type,
            reason=reason,
            message=message,
            count=1,
            firstTimestamp=now,
            lastTimestamp=now,
            source=EventSource(component=self._component),
            reportingComponent=self._component,
            reportingInstance=self._instance,
        )
        created = await self._client.create(event)
        self._remember(key, created.metadata.name, 1)

    def _remember(self, key: tuple, name: str, count: int) -> None:
        self._written[key] = (name, count)
        self._written.move_to_end(key)
        while len(self._written) > CACHE_SIZE:
            self._written.popitem(last=False)
