"""Clients built from kubeconfigs, and server-side apply of manifests under hcp's field manager."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lightkube import AsyncClient, Client, KubeConfig
from lightkube.codecs import resource_registry
from lightkube.types import PatchType

FIELD_MANAGER = "hcp"


def client_for(kubeconfig: Path) -> Client:
    return Client(config=KubeConfig.from_file(kubeconfig), field_manager=FIELD_MANAGER)


def async_client_for(kubeconfig: Path | None = None) -> AsyncClient:
    """The operator's client: from `kubeconfig`, else in-cluster, $KUBECONFIG or ~/.kube/config."""
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else None
    return AsyncClient(config=config, field_manager=FIELD_MANAGER)


def apply_all(client: Client, documents: Iterable[dict]) -> None:
    """Server-side apply each document (of a built-in kind) in order, sent as written."""
    for document in documents:
        resource = resource_registry.load(document["apiVersion"], document["kind"])
        metadata = document["metadata"]
        client.patch(resource, metadata["name"], document, namespace=metadata.get("namespace"),
                     patch_type=PatchType.APPLY, field_manager=FIELD_MANAGER, force=True)
