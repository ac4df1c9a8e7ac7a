"""The management cluster's certificates and kubeconfigs, minted once and kept in the state dir.

Existing files are never replaced, so `down`/`up` keeps every credential
handed out; private keys and kubeconfigs are written mode 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

from hcp.backup import objectstore
from hcp.management.host_processes import KUBE_ROUTER_USER
from hcp.management.layout import (
    CLUSTER_DOMAIN,
    KUBERNETES_SERVICE_IP,
    REGISTRY_HOST,
    ClusterConfig,
    Layout,
)
from hcp.pki import KeyPair, issue, kubeconfig, new_ca, new_service_account_key


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _load_or_create(directory: Path, name: str, create) -> KeyPair:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    if cert.exists() and key.exists():
        return KeyPair(cert.read_bytes(), key.read_bytes())
    pair = create()
    _write_private(key, pair.key_pem)
    cert.write_bytes(pair.cert_pem)
    return pair


def ensure(layout: Layout, config: ClusterConfig) -> None:
    """Every certificate, key and kubeconfig the host processes and the admin use, and the object store's keys."""
    pki = layout.pki_dir
    ca = _load_or_create(pki, "ca", lambda: new_ca(f"hcp-{config.name}-ca"))
    etcd_ca = _load_or_create(pki, "etcd-ca", lambda: new_ca(f"hcp-{config.name}-etcd-ca"))
    _load_or_create(pki, "service-account", new_service_account_key)

    loopback = ("127.0.0.1",)
    _load_or_create(pki, "etcd-server", lambda: issue(
        etcd_ca, "etcd", dns_names=("localhost",), ip_addresses=loopback, server=True, client=True))
    _load_or_create(pki, "apiserver-etcd-client", lambda: issue(
        etcd_ca, "kube-apiserver-etcd-client", client=True))
    _load_or_create(pki, "apiserver", lambda: issue(
        ca, "kube-apiserver",
        dns_names=("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   f"kubernetes.default.svc.{CLUSTER_DOMAIN}", "localhost"),
        ip_addresses=(KUBERNETES_SERVICE_IP, config.node_ip, "127.0.0.1"),
        server=True))
    _load_or_create(pki, "apiserver-kubelet-client", lambda: issue(
        ca, "kube-apiserver-kubelet-client", organizations=("system:masters",), client=True))
    _load_or_create(pki, "kubelet-server", lambda: issue(
        ca, config.node_name, dns_names=(config.node_name,), ip_addresses=(config.node_ip,), server=True))
    _load_or_create(pki, "registry", lambda: issue(
        ca, REGISTRY_HOST, dns_names=(REGISTRY_HOST,), ip_addresses=(config.node_ip, "127.0.0.1"),
        server=True))
    # The object store serves pods and the host at the node's address, and its own health check on loopback.
    _load_or_create(pki, "object-store", lambda: objectstore.server_certificate(
        ca, ip_addresses=(config.node_ip, "127.0.0.1"), dns_names=("localhost",)))
    objectstore.load_or_create_credentials(layout.object_store_credentials)

    users = {
        "admin": ("hcp-admin", ("system:masters",)),
        "kube-controller-manager": ("system:kube-controller-manager", ()),
        "kube-scheduler": ("system:kube-scheduler", ()),
        "kubelet": (f"system:node:{config.node_name}", ("system:nodes",)),
        "kube-proxy": ("system:kube-proxy", ()),
        "kube-router": (KUBE_ROUTER_USER, ()),
    }
    for component, (user, groups) in users.items():
        path = layout.admin_kubeconfig if component == "admin" else layout.kubeconfig(component)
        if path.exists():
            continue
        credentials = issue(ca, user, organizations=groups, client=True)
        document = kubeconfig.render(
            cluster=f"hcp-{config.name}", server=config.api_server_url,
            ca_pem=ca.cert_pem, user=user, credentials=credentials,
        )
        _write_private(path, document.encode())
