"""Clients built from kubeconfigs, and server-side apply of manifests under hcp's field manager."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lightkube import Client, KubeConfig, codecs

FIELD_MANAGER = "hcp"


def client_for(kubeconfig: Path) -> Client:
    return Client(config=KubeConfig.from_file(kubeconfig), field_manager=FIELD_MANAGER)


def apply_all(client: Client, documents: Iterable[dict]) -> None:
    """Server-side apply each document in order, taking ownership of the fields it sets."""
    for document in documents:
        client.apply(codecs.from_dict(document), field_manager=FIELD_MANAGER, force=True)
