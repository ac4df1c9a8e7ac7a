"""The operator's view into one hosted cluster: a client of its API server and caches of its Nodes and Pods.

The NodePool controller reads machines' Nodes and the pods on them (for
draining, health and autoscaling) from these caches, so a pool of hundreds of
nodes costs a watch, not a list per reconcile. The caches' events are handed
to the controller, which maps them to the NodePools they concern.
"""

from __future__ import annotations

from lightkube.resources.core_v1 import Node, Pod

from hcp.kube.informer import Handler, Informer
from hcp.kube.watched import WatchedCluster


class HostedAccess(WatchedCluster):
    def __init__(self, name: str, kubeconfig: bytes, on_event: Handler) -> None:
        super().__init__(name, kubeconfig)
        self.nodes = Informer(self.client, Node)
        self.pods = Informer(self.client, Pod)
        self._watch(on_event, self.nodes, self.pods)
