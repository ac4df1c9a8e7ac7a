"""The node-bootstrap RBAC hcp keeps in a hosted cluster, and when a live binding must be applied again."""

from __future__ import annotations

import copy

from hcp.controlplane.pki import KAS_KUBELET_CLIENT_USER
from hcp.dataplane.rbac import cluster_role_bindings, needs_apply


def grants() -> dict[str, tuple[str, str, str]]:
    return {b["roleRef"]["name"]: (b["subjects"][0]["kind"], b["subjects"][0]["name"], b["metadata"]["name"])
            for b in cluster_role_bindings()}


def test_bootstrap_tokens_may_ask_for_node_client_certificates_which_are_auto_approved():
    granted = grants()
    assert granted["system:node-bootstrapper"][:2] == ("Group", "system:bootstrappers")
    assert granted["system:certificates.k8s.io:certificatesigningrequests:nodeclient"][:2] == \
        ("Group", "system:bootstrappers")


def test_nodes_renew_their_own_client_certificates():
    assert grants()["system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"][:2] == \
        ("Group", "system:nodes")


def test_the_api_servers_kubelet_client_may_use_the_kubelet_api_and_nothing_more():
    assert grants()["system:kubelet-api-admin"][:2] == ("User", KAS_KUBELET_CLIENT_USER)
    assert len(cluster_role_bindings()) == 4
    assert not any(b["roleRef"]["name"] == "cluster-admin" for b in cluster_role_bindings())


def test_bindings_are_hcps_own_and_labelled():
    for binding in cluster_role_bindings():
        assert binding["metadata"]["name"].startswith("hcp:")
        assert binding["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "hcp"}
        assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"


def test_needs_apply_only_when_missing_or_changed():
    desired = cluster_role_bindings()[0]
    live = copy.deepcopy(desired)
    live["metadata"].update(uid="1", resourceVersion="7", labels={**desired["metadata"]["labels"], "extra": "kept"})
    assert not needs_apply(desired, live), "what others add does not matter"
    assert needs_apply(desired, None)
    for change in (lambda b: b["subjects"].append({"kind": "User", "name": "mallory"}),
                   lambda b: b["metadata"]["labels"].clear(),
                   lambda b: b["roleRef"].update(name="cluster-admin")):
        changed = copy.deepcopy(live)
        change(changed)
        assert needs_apply(desired, changed)
