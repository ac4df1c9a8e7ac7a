"""The data-plane controller's view into one hosted cluster: a client of its API server and watched caches.

Modelled on the NodePool controller's access (hcp.platforms.hosted), with the
objects this controller decides on: CertificateSigningRequests, and hcp's own
ClusterRoleBindings and bootstrap-token Secrets (selected by label, so the
caches hold only what hcp made). Every change is handed to `on_event`, which
queues the hosted cluster's key: a new CSR or a deleted binding is acted on
within a pass, not at the next resync.
"""

from __future__ import annotations

from lightkube import operators
from lightkube.resources.certificates_v1 import CertificateSigningRequest
from lightkube.resources.core_v1 import Secret
from lightkube.resources.rbac_authorization_v1 import ClusterRoleBinding

from hcp.dataplane.rbac import LABELS as RBAC_LABELS
from hcp.dataplane.tokens import TOKEN_LABELS, TOKEN_NAMESPACE
from hcp.kube.informer import Handler, Informer
from hcp.kube.watched import WatchedCluster
from hcp.platforms.provider import NODE_POOL_LABEL


class DataPlaneAccess(WatchedCluster):
    def __init__(self, name: str, kubeconfig: bytes, on_event: Handler) -> None:
        super().__init__(name, kubeconfig)
        self.csrs = Informer(self.client, CertificateSigningRequest)
        self.bindings = Informer(self.client, ClusterRoleBinding, labels=dict(RBAC_LABELS))
        self.tokens = Informer(self.client, Secret, namespace=TOKEN_NAMESPACE,
                               labels={**TOKEN_LABELS, NODE_POOL_LABEL: operators.exists()})
        self._watch(on_event, self.csrs, self.bindings, self.tokens)
