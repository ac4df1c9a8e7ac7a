"""Skip the server-side apply of an object that is unchanged on both sides since this process applied it.

A controller that renders its whole desired state on every pass (hcp's
control planes: some forty objects each) spends most of a steady pass sending
applies that change nothing: each is a request, a TLS write, a response and,
on the server, a merge and a no-op. What this remembers, per object, is the
digest of the body last applied and the resourceVersion the server answered.
A pass then applies only where the body it renders now differs, or where the
live object (from a watch-fed cache, hcp.kube.informer) is not the one it left:
changed or deleted by someone else, or never applied by this process (after a
restart everything is applied once). So the desired state is still enforced on
every pass, level-triggered: the cache says what is there, not a timer; what
is saved is only the requests that would change nothing.

A stale cache (the watch has not yet delivered someone's edit) can make one
pass skip an object it should apply; the edit's own watch event then brings a
pass that applies it, so the controller must watch the kinds it skips with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

Key = tuple[str, str | None, str]
"""(kind, namespace, name)."""


def digest(body: Mapping[str, Any]) -> str:
    """A digest of a rendered object, independent of the order of its keys."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _key(body: Mapping[str, Any]) -> Key:
    metadata = body["metadata"]
    return body["kind"], metadata.get("namespace"), metadata["name"]


def _resource_version(live: Any) -> str | None:
    if live is None:
        return None
    metadata = live.get("metadata", {}) if isinstance(live, Mapping) else live.metadata
    return (metadata.get("resourceVersion") if isinstance(metadata, Mapping) else metadata.resourceVersion) or None


class AppliedObjects:
    """What this process last applied of each object, and the version of it the server answered."""

    def __init__(self) -> None:
        self._applied: dict[Key, tuple[str, str]] = {}

    def unchanged(self, body: Mapping[str, Any], live: Any) -> bool:
        """Whether applying `body` would change nothing: it is what was last applied, and `live` (the cached
        object, None if there is none) is still the version the server answered then."""
        version = _resource_version(live)
        return version is not None and self._applied.get(_key(body)) == (digest(body), version)

    def remember(self, body: Mapping[str, Any], live: Any) -> None:
        """Record that `body` was applied and the server answered with `live`."""
        version = _resource_version(live)
        if version is None:
            self._applied.pop(_key(body), None)
        else:
            self._applied[_key(body)] = (digest(body), version)

    def forget(self, namespace: str) -> None:
        """Drop what is remembered of a namespace's objects (its control plane is gone)."""
        self._applied = {key: value for key, value in self._applied.items() if key[1] != namespace}

    def __len__(self) -> int:
        return len(self._applied)
