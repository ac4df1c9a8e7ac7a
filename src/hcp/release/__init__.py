"""Release payloads (the Kubernetes version and component images of a control plane) and supported versions."""

from hcp.release.payload import payload_spec, publish, resolve
from hcp.release.versions import (
    Release,
    ReleaseError,
    check_supported,
    newest_release_image,
    supported_versions,
    supported_versions_configmap,
)

__all__ = [
    "Release",
    "ReleaseError",
    "check_supported",
    "newest_release_image",
    "payload_spec",
    "publish",
    "resolve",
    "supported_versions",
    "supported_versions_configmap",
]
