"""Admin kubeconfigs of hosted clusters, one or all merged, as HyperShift's `create kubeconfig` renders them."""

from __future__ import annotations

import base64
from typing import Any

import yaml
from lightkube.resources.core_v1 import Secret

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
