"""hcp's API: typed models of hypershift.openshift.io/v1beta1 and the CRDs generated from them."""

import copy
import functools
from typing import Any

from hcp.api.base import to_dict
from hcp.api.v1beta1 import (
    API_VERSION,
    GROUP,
    KINDS,
    VERSION,
    HCPEtcdBackup,
    HostedCluster,
    HostedControlPlane,
    NodePool,
)


def crds() -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of HostedCluster, NodePool, HostedControlPlane and HCPEtcdBackup.

    Generated once per process (half a second of schema building; they follow from the code alone) and
    handed out as copies, so that a caller may change what it gets.
    """
    return copy.deepcopy(_generated())


@functools.cache
def _generated() -> list[dict[str, Any]]:
    # Imported here so that `python -m hcp.api.crd` does not find the module already loaded.
    from hcp.api.crd import crds as generate

    return generate()


__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "VERSION",
    "HCPEtcdBackup",
    "HostedCluster",
    "HostedControlPlane",
    "NodePool",
    "crds",
    "to_dict",
]
