"""hypershift.openshift.io/v1beta1: the subset of HyperShift's API that hcp implements."""

from hcp.api.v1beta1.etcdbackup import HCPEtcdBackup, HCPEtcdBackupSpec, HCPEtcdBackupStatus
from hcp.api.v1beta1.groupversion import API_VERSION, GROUP, VERSION
from hcp.api.v1beta1.hostedcluster import HostedCluster, HostedClusterSpec, HostedClusterStatus
from hcp.api.v1beta1.hostedcontrolplane import HostedControlPlane, HostedControlPlaneSpec, HostedControlPlaneStatus
from hcp.api.v1beta1.nodepool import NodePool, NodePoolSpec, NodePoolStatus

KINDS = (HostedCluster, NodePool, HostedControlPlane, HCPEtcdBackup)
"""Every top-level kind, in the order their CRDs are rendered."""

__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "VERSION",
    "HCPEtcdBackup",
    "HCPEtcdBackupSpec",
    "HCPEtcdBackupStatus",
    "HostedCluster",
    "HostedClusterSpec",
    "HostedClusterStatus",
    "HostedControlPlane",
    "HostedControlPlaneSpec",
    "HostedControlPlaneStatus",
    "NodePool",
    "NodePoolSpec",
    "NodePoolStatus",
]
