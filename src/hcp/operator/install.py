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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from lightkube import ApiError, Client
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment

from hcp import __version__
from hcp.api import crds
from hcp.kube.client import apply_all
from hcp.release import supported_versions_configmap

NAMESPACE = "hypershift"
OPERATOR_IMAGE_ENV = "OPERATOR_IMAGE"
"""The operator's own image, on its Deployment: hcp's services in control planes (the ignition server) run it."""
DEPLOYMENT = "operator"
METRICS_PORT = 9000
"""The operator's /metrics, /healthz and /readyz port: HyperShift's operator serves its metrics on 9000 too."""
SERVICE = "operator"
"""The Service in front of the operator's metrics port (port name `metrics`, 9393), as HyperShift names it."""
REGISTRY_CA_CONFIGMAP = "registry-ca"
PULL_SECRET = "registry-pull-secret"
"""The dockerconfigjson Secret of the registry's pull credentials: the operator pod's imagePullSecrets, and
what the operator copies into control-plane namespaces for their pods."""
PULL_SECRET_MOUNT = "/etc/hcp/registry-auth"
PULL_SECRET_KEY = ".dockerconfigjson"
MANIFEST = Path(__file__).parent / "manifests" / "operator.yaml"
PERSONAS = Path(__file__).parent / "manifests" / "personas.yaml"
"""ClusterRoles of the management-side personas (docs 1.4.2), for a platform team to bind; nobody holds them."""
PERSONA_ANNOTATION = "hcp.io/persona"
POLICY = "hcp-operator-least-privilege"
"""The ValidatingAdmissionPolicy (and its binding) that holds the operator to control-plane namespaces."""


class InstallError(RuntimeError):
    pass


@dataclass(frozen=True)
class RegistrySettings:
    """The registry an install resolves releases from: everything the operator knows of it comes from here.

    `name` is how release and component pull specs spell it (`host[:port][/prefix]`);
    `url` is where the operator reaches it (default: https://<host of name>); `node_url`
    where hosted nodes reach it, when not at its name (the embedded registry's stable
    name resolves only inside the management cluster). `ca_pem` signs its certificate
    (None: publicly trusted); `pull_secret` is a dockerconfigjson with its credentials.
    """

    name: str
    url: str = ""
    ca_pem: bytes | None = None
    pull_secret: bytes | None = field(default=None, repr=False)
    node_url: str = ""

    @property
    def host(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def operator_url(self) -> str:
        return self.url or f"https://{self.host}"


def render(image: str, registry: RegistrySettings) -> list[dict]:
    """Every object of an install, in apply order: CRDs, namespace, registry CA and pull secret, supported
    versions, policy, RBAC, Deployment, personas."""
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    for document in documents:
        if document["kind"] == "Deployment":
            _configure_operator(document, image, registry)
    extra = []
    if registry.ca_pem:
        extra.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": REGISTRY_CA_CONFIGMAP, "namespace": NAMESPACE},
                      "data": {"ca.crt": registry.ca_pem.decode()}})
    if registry.pull_secret:
        extra.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                      "metadata": {"name": PULL_SECRET, "namespace": NAMESPACE},
                      "stringData": {PULL_SECRET_KEY: registry.pull_secret.decode()}})
    # Published by install too (the operator rewrites it on start), so `hcp version` answers from the moment
    # the install is applied and --render shows it.
    extra.append(supported_versions_configmap(__version__))
    namespace, rest = documents[0], documents[1:]
    return [*crds(), namespace, *extra, *rest, *personas()]


def _configure_operator(deployment: dict, image: str, registry: RegistrySettings) -> None:
    """The operator's image and registry flags; with a pull secret, its pod pulls with it and the operator
    reads it (a read-only Secret volume) to resolve releases and to hand control planes."""
    pod = deployment["spec"]["template"]["spec"]
    operator = pod["containers"][0]
    operator["image"] = image
    operator["env"].append({"name": OPERATOR_IMAGE_ENV, "value": image})
    operator["args"] += ["--registry", registry.name, "--registry-url", registry.operator_url]
    if registry.ca_pem or registry.node_url:
        # Hosted nodes trust the registry's CA, and pull from node_url when its name is not theirs to resolve.
        operator["args"] += ["--node-registry", f"{registry.host}={registry.node_url or 'https://' + registry.host}"]
    if registry.pull_secret:
        pod["imagePullSecrets"] = [{"name": PULL_SECRET}]
        operator["args"] += ["--registry-auth", f"{PULL_SECRET_MOUNT}/{PULL_SECRET_KEY}"]
        operator["volumeMounts"].append({"name": "registry-auth", "mountPath": PULL_SECRET_MOUNT, "readOnly": True})
        # 0440 and the operator's group: readable by the operator's user only, never by others in the pod.
        pod["volumes"].append({"name": "registry-auth", "secret": {"secretName": PULL_SECRET, "defaultMode": 0o440}})
        pod.setdefault("securityContext", {})["fsGroup"] = 65532


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
