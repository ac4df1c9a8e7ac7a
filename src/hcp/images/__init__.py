"""OCI images built from files on disk without a container daemon, and pushed to an OCI registry."""

from hcp.images.oci import BuiltImage, File, ImageSpec, build
from hcp.images.registry import RegistryClient, RegistryError

__all__ = ["BuiltImage", "File", "ImageSpec", "RegistryClient", "RegistryError", "build"]
