"""OCI images built from files on disk without a container daemon, and pushed to an OCI registry."""

from hcp.images.oci import BuiltImage, File, ImageSpec, build
from hcp.images.credentials import Credentials, CredentialsError
from hcp.images.registry import RegistryClient, RegistryError, RegistryLocation

NON_ROOT_ID = 65532
"""The uid and gid hcp's component containers run as (the upstream binaries need no root): pods set it
(hcp.controlplane.components.component), and images whose data a user's own pod may write (etcd's, in the
docs' restore procedure) default to it."""

__all__ = [
    "NON_ROOT_ID", "BuiltImage", "Credentials", "CredentialsError", "File", "ImageSpec", "RegistryClient",
    "RegistryError", "RegistryLocation", "build",
]
