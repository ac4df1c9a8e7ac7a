"""What a controller rendered before and renders no more: the objects to delete, decided without a cluster.

A controller that applies a rendered set of objects labels each with the
component that rendered it; on every pass it lists the labelled objects and
deletes those the current render no longer has (`leftovers`). The data-plane
controller does this for the hosted cluster's components, the control-plane
controller for the control plane's, the HostedCluster controller for the
Secrets it copies into the control-plane namespace. Only labelled objects are
ever looked at, so an object a user or another controller made is never a
leftover.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ObjectKey = tuple[str, str | None, str]
"""(kind, namespace, name): how a rendered object and its live counterpart are matched."""


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return obj["kind"], metadata.get("namespace") or None, metadata["name"]


def describe(key: ObjectKey) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


@dataclass(frozen=True)
class LiveObject:
    """A live object carrying a controller's component label."""

    key: ObjectKey
    component: str
    """The value of the component label."""


def leftovers(desired: Collection[ObjectKey], live: Iterable[LiveObject], failed: Collection[str] = (), *,
              kinds: Sequence[str] = (), protected: Callable[[ObjectKey], bool] = lambda key: False,
              ) -> list[LiveObject]:
    """The live objects to delete, in deletion order: nothing in `desired` is them any more.

    Objects of a component that failed to render (`failed`) are kept, since
    what it would render is unknown; `protected` ones are never deleted.
    Deletion goes in reverse order of `kinds` (workloads before the
    configuration they mount, say), kinds not listed first.
    """
    order = {kind: index for index, kind in enumerate(kinds)}
    found = [obj for obj in live
             if obj.key not in desired and obj.component not in failed and not protected(obj.key)]
    return sorted(found, key=lambda obj: (-order.get(obj.key[0], len(kinds)), obj.key[1] or "", obj.key[2]))
