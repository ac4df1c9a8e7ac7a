"""What `hcp install` puts on a management cluster: CRDs, namespace, admission policy, RBAC, the operator,
and the ClusterRoles of the docs' personas (manifests/personas.yaml).

The manifests are rendered here (CRDs from the API models, the rest from
manifests/operator.yaml) and applied with server-side apply, so installing
again upgrades an older install in place. The ValidatingAdmissionPolicy that
confines the operator to control-plane namespaces is applied before the RBAC
that grants its rights and before the Deployment that runs it: the operator
never holds the rights without the policy. The API server starts enforcing a
new policy within a second or so, long before the operator's pod is up, so
install does not wait for it separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from lightkube import ApiError, Client
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment

from hcp.api import crds
from hcp.kube.client import apply_all

NAMESPACE = "hypershift"
OPERATOR_IMAGE_ENV = "OPERATOR_IMAGE"
"""The operator's own image, on its Deployment: hcp's services in control planes (the ignition server) run it."""
DEPLOYMENT = "operator"
METRICS_PORT = 9000
"""The operator's /metrics, /healthz and /readyz port: HyperShift's operator serves its metrics on 9000 too."""
SERVICE = "operator"
"""The Service in front of the operator's metrics port (port name `metrics`, 9393), as HyperShift names it."""
REGISTRY_CA_CONFIGMAP = "registry-ca"
MANIFEST = Path(__file__).parent / "manifests" / "operator.yaml"
PERSONAS = Path(__file__).parent / "manifests" / "personas.yaml"
"""ClusterRoles of the management-side personas (docs 1.4.2), for a platform team to bind; nobody holds them."""
PERSONA_ANNOTATION = "hcp.io/persona"
POLICY = "hcp-operator-least-privilege"
"""The ValidatingAdmissionPolicy (and its binding) that holds the operator to control-plane namespaces."""


class InstallError(RuntimeError):
    pass


def render(image: str, registry_ca_pem: bytes | None = None,
           node_registries: Mapping[str, str] | None = None) -> list[dict]:
    """Every object of an install, in apply order: CRDs, namespace, registry CA, policy, RBAC, Deployment.

    `node_registries` maps registry names as release pull specs spell them to the https URL where
    hosted nodes reach that registry (trusted with the registry CA).
    """
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    for document in documents:
        if document["kind"] == "Deployment":
            operator = document["spec"]["template"]["spec"]["containers"][0]
            operator["image"] = image
            operator["env"].append({"name": OPERATOR_IMAGE_ENV, "value": image})
            for name, url in sorted((node_registries or {}).items()):
                operator["args"] += ["--node-registry", f"{name}={url}"]
    extra = []
    if registry_ca_pem:
        extra.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": REGISTRY_CA_CONFIGMAP, "namespace": NAMESPACE},
                      "data": {"ca.crt": registry_ca_pem.decode()}})
    namespace, rest = documents[0], documents[1:]
    return [*crds(), namespace, *extra, *rest, *personas()]


def personas() -> list[dict]:
    """The persona ClusterRoles, applied last: they grant nothing until a platform team binds them."""
    return [d for d in yaml.safe_load_all(PERSONAS.read_text()) if d]


def is_persona(document: dict) -> bool:
    return PERSONA_ANNOTATION in (document.get("metadata", {}).get("annotations") or {})


def install(client: Client, documents: list[dict], log: Callable[[str], None], timeout: float = 300.0) -> None:
    """Apply the install and wait until the CRDs are established and the operator is available."""
    for document in documents:
        try:
            apply_all(client, [document])
        except ApiError as error:
            if error.status.code == 404 and document["apiVersion"].startswith("admissionregistration.k8s.io/"):
                raise InstallError(
                    f"the management cluster does not serve {document['kind']} ({document['apiVersion']}, "
                    f"Kubernetes 1.30 or newer); hcp needs it to confine its operator") from None
            raise
    log(f"admission policy {POLICY} applied")
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
