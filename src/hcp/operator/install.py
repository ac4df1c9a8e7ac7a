"""What `hcp install` puts on a management cluster: CRDs, namespace, RBAC, the operator and its registry CA.

The manifests are rendered here (CRDs from the API models, the rest from
manifests/operator.yaml) and applied with server-side apply, so installing
again upgrades an older install in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml
from lightkube import Client
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment

from hcp.api import crds
from hcp.kube.client import apply_all

NAMESPACE = "hypershift"
DEPLOYMENT = "operator"
REGISTRY_CA_CONFIGMAP = "registry-ca"
MANIFEST = Path(__file__).parent / "manifests" / "operator.yaml"


class InstallError(RuntimeError):
    pass


def render(image: str, registry_ca_pem: bytes | None = None) -> list[dict]:
    """Every object of an install, in apply order."""
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    for document in documents:
        if document["kind"] == "Deployment":
            document["spec"]["template"]["spec"]["containers"][0]["image"] = image
    extra = []
    if registry_ca_pem:
        extra.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": REGISTRY_CA_CONFIGMAP, "namespace": NAMESPACE},
                      "data": {"ca.crt": registry_ca_pem.decode()}})
    namespace, rest = documents[0], documents[1:]
    return [*crds(), namespace, *extra, *rest]


def install(client: Client, documents: list[dict], log: Callable[[str], None], timeout: float = 300.0) -> None:
    """Apply the install and wait until the CRDs are established and the operator is available."""
    apply_all(client, documents)
    deadline = time.monotonic() + timeout
    for document in documents:
        if document["kind"] == "CustomResourceDefinition":
            name = document["metadata"]["name"]
            client.wait(CustomResourceDefinition, name, for_conditions=["Established"])
    log("CRDs established")
    while time.monotonic() < deadline:
        deployment = client.get(Deployment, DEPLOYMENT, namespace=NAMESPACE)
        status = deployment.status
        if status and (status.observedGeneration or 0) >= (deployment.metadata.generation or 0) \
                and (status.updatedReplicas or 0) >= 1 and (status.availableReplicas or 0) >= 1 \
                and (status.replicas or 0) == (status.updatedReplicas or 0):
            log("operator is available")
            return
        time.sleep(1.0)
    raise InstallError(f"the operator Deployment {NAMESPACE}/{DEPLOYMENT} is not available after {timeout:.0f}s; "
                       f"see `kubectl -n {NAMESPACE} describe deployment {DEPLOYMENT}` and its pod logs")
