"""Which control-plane updates hcp performs: the rules of docs 6 (updates), as pure functions.

A HostedCluster's control plane moves from the release it last completed to
the one spec.release.image names. Kubernetes supports updating one minor at a
time and never downgrading a minor (etcd's storage and the API's stored
versions only move forward), so hcp refuses:

- a downgrade (a lower version than the one completed), and
- a skip over a minor version (1.35 -> 1.37),

with a condition that says why, and keeps the control plane on its current
release, unless the HostedCluster carries annotation
`hypershift.openshift.io/force-upgrade-to` (hcp.api.names) with exactly the
requested image (HyperShift's way to force an update it would not otherwise make).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def version_tuple(version: str) -> tuple[int, ...]:
    """"1.37.1" (or "v1.37.1") as (1, 37, 1)."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def update_problem(current: str | None, desired: str) -> str:
    """Why the control plane may not move from version `current` to `desired` ("" if it may)."""
    if not current or version_tuple(current) == version_tuple(desired):
        return ""
    now, wanted = version_tuple(current), version_tuple(desired)
    if wanted < now:
        return f"downgrading from {current} to {desired} is not supported"
    if wanted[0] == now[0] and wanted[1] > now[1] + 1:
        return (f"updating from {current} to {desired} skips minor version {now[0]}.{now[1] + 1}; "
                f"update to a {now[0]}.{now[1] + 1} release first")
    if wanted[0] != now[0]:
        return f"updating from {current} to {desired} changes the major version, which is not supported"
    return ""


def available_updates(current: str, releases: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """The releases (image, version) the control plane may update to from `current`: newer, at most one
    minor ahead; newest first, as status.version.availableUpdates lists them."""
    found = [{"image": image, "version": version} for image, version in releases
             if version_tuple(version) > version_tuple(current) and not update_problem(current, version)]
    return sorted(found, key=lambda release: version_tuple(release["version"]), reverse=True)
