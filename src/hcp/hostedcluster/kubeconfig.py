"""Admin kubeconfigs of hosted clusters, one or all merged, as HyperShift's `create kubeconfig` renders them."""

from __future__ import annotations

import base64
import datetime
import secrets
from typing import Any

import yaml
from cryptography import x509
from lightkube.resources.core_v1 import Secret

from hcp.api.names import control_plane_namespace
from hcp.api.types import parse_duration
from hcp.controlplane.pki import (
    BREAK_GLASS_GROUP, BREAK_GLASS_SIGNER, BREAK_GLASS_USER_PREFIX, CA_CERT_KEY, CA_KEY_KEY,
)
from hcp.pki import KeyPair, issue
from hcp.pki.kubeconfig import render

from hcp.hostedcluster.kube import HostedClusterError, Kube
from hcp.hostedcluster.lifecycle import HOSTED_CLUSTERS, hosted_cluster
from hcp.kube.objects import as_dict

KEY = "kubeconfig"


def admin_kubeconfig(kube: Kube, namespace: str, name: str) -> str:
    """The kubeconfig in the Secret the HostedCluster reports (`<name>-admin-kubeconfig`, key `kubeconfig`)."""
    cluster = hosted_cluster(kube, namespace, name)
    kubeconfig = _read(kube, cluster)
    if kubeconfig is None:
        raise HostedClusterError(
            f"HostedCluster {namespace}/{name} has no admin kubeconfig yet; its control plane is not available, "
            f"see `kubectl -n {namespace} get hostedcluster {name}`")
    return kubeconfig


def merged_kubeconfig(kube: Kube, namespace: str | None) -> dict[str, Any]:
    """One kubeconfig with a context `<namespace>-<name>` for every hosted cluster that reports a kubeconfig."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    clusters = sorted((as_dict(c) for c in kube.list(HOSTED_CLUSTERS, namespace)),
                      key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"]))
    for cluster in clusters:
        text = _read(kube, cluster)
        if text is None:
            continue
        config = yaml.safe_load(text)
        name = f"{cluster['metadata']['namespace']}-{cluster['metadata']['name']}"
        merged["clusters"].append({"name": name, "cluster": config["clusters"][0]["cluster"]})
        merged["users"].append({"name": f"{name}-admin", "user": config["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": f"{name}-admin",
                                                             "namespace": "default"}})
    if not merged["contexts"]:
        where = f"namespace {namespace}" if namespace else "any namespace"
        raise HostedClusterError(f"no hosted cluster in {where} reports a kubeconfig yet; "
                                 f"see `kubectl get hostedclusters -A`")
    merged["current-context"] = merged["contexts"][0]["name"]
    return merged


def _read(kube: Kube, cluster: dict[str, Any]) -> str | None:
    reference = ((cluster.get("status") or {}).get("kubeconfig") or {}).get("name")
    if not reference:
        return None
    secret = kube.get_or_none(Secret, reference, cluster["metadata"]["namespace"])
    data = (secret.data or {}).get(KEY) if secret else None
    return base64.b64decode(data).decode() if data else None


def parse_ttl(text: str) -> datetime.timedelta:
    """`--ttl`: a positive Go duration ("10m", "1h30m"); a HostedClusterError with one clear line otherwise."""
    try:
        ttl = parse_duration(text.strip())
    except ValueError:
        raise HostedClusterError(f"--ttl {text!r} is not a duration; use a Go duration such as 30m or 8h") from None
    if ttl <= datetime.timedelta(0):
        raise HostedClusterError(f"--ttl {text!r} must be longer than zero, e.g. 30m or 8h")
    return ttl


def capped_ttl(ttl: datetime.timedelta, signer: x509.Certificate, now: datetime.datetime) -> datetime.timedelta:
    """The TTL a certificate of `signer` can have: no longer than the signer's remaining life."""
    remaining = signer.not_valid_after_utc - now
    if remaining <= datetime.timedelta(0):
        raise HostedClusterError("the break-glass signer has expired; revoke it to get a new one "
                                 "(docs/configuration.md, \"Revoking admin credentials\")")
    return min(ttl, remaining)


def short_lived_kubeconfig(kube: Kube, namespace: str, name: str, ttl: datetime.timedelta,
                           now: datetime.datetime | None = None) -> str:
    """A kubeconfig valid for `ttl`, whose client certificate the customer-break-glass signer issues now.

    User system:customer-break-glass:<random> in group system:masters, as HyperShift names its break-glass
    users. The signer's key is read from the control-plane namespace with the caller's management-cluster
    credentials (an admin operation); the new private key exists only in the returned document. A
    CertificateRevocationRequest revokes it with the admin kubeconfig.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    admin = yaml.safe_load(admin_kubeconfig(kube, namespace, name))
    target = control_plane_namespace(namespace, name)
    secret = kube.get_or_none(Secret, BREAK_GLASS_SIGNER, target)
    data = {key: base64.b64decode(value) for key, value in ((secret.data or {}) if secret else {}).items()}
    if not data.get(CA_CERT_KEY) or not data.get(CA_KEY_KEY):
        raise HostedClusterError(f"the break-glass signer Secret {target}/{BREAK_GLASS_SIGNER} is not there yet; "
                                 f"the operator makes it with the control plane")
    signer = KeyPair(data[CA_CERT_KEY], data[CA_KEY_KEY])
    ttl = capped_ttl(ttl, signer.certificate, now)
    user = f"{BREAK_GLASS_USER_PREFIX}{secrets.token_hex(8)}"
    credentials = issue(signer, user, organizations=(BREAK_GLASS_GROUP,), client=True, validity=ttl, now=now)
    cluster = admin["clusters"][0]["cluster"]
    return render(cluster=name, server=cluster["server"],
                  ca_pem=base64.b64decode(cluster["certificate-authority-data"]), user=user, credentials=credentials)
