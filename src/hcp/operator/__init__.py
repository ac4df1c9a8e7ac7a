"""The hcp operator: HostedCluster, NodePool and HostedControlPlane controllers in one process."""
