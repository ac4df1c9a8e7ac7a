"""Kubeconfig documents with embedded credentials, for components and for people."""

from __future__ import annotations

import base64

import yaml
from cryptography import x509

from hcp.pki.certs import KeyPair


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def render(*, cluster: str, server: str, ca_pem: bytes, user: str, credentials: KeyPair) -> str:
    """One cluster, one user, one context named after the cluster, selected."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(credentials.cert_pem),
                    "client-key-data": _b64(credentials.key_pem),
                },
            }
        ],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
    }
    return yaml.safe_dump(document, sort_keys=False)


def client_certificate(document: bytes | str) -> x509.Certificate | None:
    """The embedded client certificate of a kubeconfig's first user; None if it has none or is not one."""
    try:
        pem = base64.b64decode(yaml.safe_load(document)["users"][0]["user"]["client-certificate-data"])
        return x509.load_pem_x509_certificate(pem)
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError):
        return None
