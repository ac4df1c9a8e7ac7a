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

spec.channel selects which of the supported releases are offered in
status.version.availableUpdates, with OpenShift's channel names and meaning:
`<stable|fast|candidate>-<major>.<minor>` holds the releases of that minor and
of the one before it (so a 1.36 cluster on `stable-1.37` is offered 1.37, and on
`stable-1.36` only 1.36 patches). hcp publishes a single stream, so the three
prefixes hold the same releases. Without a channel every supported release is
offered, as hcp has no update service to ask.
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


CHANNEL_PREFIXES = ("stable", "fast", "candidate")
CHANNEL_FORM = re.compile(r"^(?:%s)-(\d+)\.(\d+)$" % "|".join(CHANNEL_PREFIXES))


def channel_problem(channel: str | None, current: str) -> tuple[str, str]:
    """(reason, message) of why updates for version `current` cannot be retrieved from `channel`;
    ("", "") if they can. Reasons are ClusterVersion's RetrievedUpdates reasons."""
    if not channel:
        return "", ""
    if not CHANNEL_FORM.match(channel):
        forms = "|".join(CHANNEL_PREFIXES)
        return "InvalidChannel", (f"channel {channel!r} is not one hcp serves; channels are "
                                  f"<{forms}>-<major>.<minor>, e.g. stable-{_minor(current) or '1.36'}")
    if not in_channel(current, channel):
        return "VersionNotFound", (f"Unable to retrieve available updates: version {current} "
                                   f"not found in the {channel!r} channel")
    return "", ""


def in_channel(version: str, channel: str) -> bool:
    """Whether release `version` is in `channel` (its own minor's channels and the next minor's)."""
    match = CHANNEL_FORM.match(channel)
    if not match:
        return False
    major, minor = int(match.group(1)), int(match.group(2))
    release = version_tuple(version)
    return len(release) >= 2 and release[0] == major and release[1] in (minor - 1, minor)


def _minor(version: str) -> str:
    parts = version_tuple(version)
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else ""


def available_updates(current: str, releases: Iterable[tuple[str, str]],
                      channel: str | None = None) -> list[dict[str, str]]:
    """The releases (image, version) the control plane may update to from `current`: newer, at most one
    minor ahead, in `channel` if one is set; newest first, as status.version.availableUpdates lists them."""
    if channel_problem(channel, current)[0]:
        return []
    found = [{"image": image, "version": version} for image, version in releases
             if version_tuple(version) > version_tuple(current) and not update_problem(current, version)
             and (not channel or in_channel(version, channel))]
    return sorted(found, key=lambda release: version_tuple(release["version"]), reverse=True)
