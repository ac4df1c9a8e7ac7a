"""The Kubernetes versions hcp supports and the Release record the operator works from.

hcp supports one Kubernetes minor per Kubernetes toolset it builds (the
versions it has control-plane binaries for), newest first, and advertises
them the way HyperShift does: in ConfigMap hypershift/supported-versions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hcp.upstream.binaries import TOOLSETS
from hcp.upstream.images import KUBERNETES_TOOLSETS

RELEASE_REPOSITORY = "hcp/release"
SUPPORTED_VERSIONS_NAMESPACE = "hypershift"
SUPPORTED_VERSIONS_NAME = "supported-versions"
SUPPORTED_VERSIONS_LABEL = "hypershift.openshift.io/supported-versions"


class ReleaseError(Exception):
    """An unknown, unreadable or unsupported release; the message names the image, the reason and what to do."""


@dataclass(frozen=True)
class Release:
    """A release payload as read: its Kubernetes version and the image of every component."""

    image: str
    version: str
    components: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        # A private read-only copy keeps the frozen release from changing under a caller's dict.
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))

    @property
    def minor(self) -> str:
        """The minor version ("1.37") that support is decided on."""
        return _minor(self.version)

    def component(self, name: str) -> str:
        """The pull spec of one component's image; a payload without it cannot run a control plane."""
        try:
            return self.components[name]
        except KeyError:
            raise ReleaseError(
                f"release image {self.image} (Kubernetes {self.version}) has no {name} image; "
                f"it lists {', '.join(self.components) or 'no components'}"
            ) from None


def release_version(toolset: str) -> str:
    """The payload version of a Kubernetes toolset: its module version without the "v" ("1.37.1")."""
    return TOOLSETS[toolset].version.removeprefix("v")


def release_image(registry: str, version: str) -> str:
    """The payload pull spec of a version; tags keep the "v" like the component images."""
    return f"{registry}/{RELEASE_REPOSITORY}:v{version}"


def toolsets_newest_first() -> list[str]:
    """The Kubernetes toolsets ordered by version, so "newest" never depends on how they are listed."""
    return sorted(KUBERNETES_TOOLSETS, key=lambda toolset: _numeric(release_version(toolset)), reverse=True)


def supported_versions() -> list[str]:
    """The Kubernetes minors hcp can run control planes of, newest first (["1.37", "1.36"])."""
    return list(dict.fromkeys(_minor(release_version(toolset)) for toolset in toolsets_newest_first()))


def supported_release_versions() -> list[str]:
    """The release versions hcp publishes, newest first (["1.37.1", "1.36.4"])."""
    return [release_version(toolset) for toolset in toolsets_newest_first()]


def check_supported(release: Release) -> None:
    """Reject a release whose minor hcp has no control-plane binaries for."""
    supported = supported_versions()
    if release.minor not in supported:
        raise ReleaseError(
            f"release image {release.image}: Kubernetes {release.minor} is not supported; "
            f"supported versions: {', '.join(supported)}"
        )


def newest_release_image(registry: str) -> str:
    """The default --release-image of `hcp create cluster`: the newest supported release."""
    return release_image(registry, release_version(toolsets_newest_first()[0]))


def supported_versions_configmap(server_version: str) -> dict:
    """ConfigMap hypershift/supported-versions as HyperShift's operator writes it, which `hcp version` reads."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": SUPPORTED_VERSIONS_NAME,
            "namespace": SUPPORTED_VERSIONS_NAMESPACE,
            "labels": {SUPPORTED_VERSIONS_LABEL: "true"},
        },
        "data": {
            # Compact JSON, byte for byte what HyperShift's json.Marshal writes.
            "supported-versions": json.dumps({"versions": supported_versions()}, separators=(",", ":")),
            "server-version": server_version,
        },
    }


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _numeric(version: str) -> tuple[int, ...]:
    """Orders "1.37.1" after "1.36.4" and "1.9.0" before "1.10.0"; pre-release suffixes are ignored."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()
