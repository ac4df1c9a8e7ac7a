"""What `hcp install` puts on a management cluster: CRDs, namespace, admission policy, RBAC, the operator,
the ClusterRoles of the docs' personas (manifests/personas.yaml) and, when asked, the embedded monitoring's
Prometheus in namespace hcp-monitoring (manifests/monitoring.yaml).

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
from lightkube import ApiError, Client, codecs
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment

from hcp import __version__, monitoring
from hcp.api import crds
from hcp.api.v1beta1.clusteroptions import MetricsSet
from hcp.kube.client import apply_all
from hcp.monitoring.dashboard import template_configmap
from hcp.release import supported_versions_configmap
from hcp.upstream.images import image as component_image

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
MONITORING = Path(__file__).parent / "manifests" / "monitoring.yaml"
"""Prometheus and its namespace, RBAC and Service (hcp.monitoring), rendered only with MonitoringSettings.prometheus."""
PROMETHEUS_IMAGE = "hcp/prometheus"
"""The repository of Prometheus's image (hcp.upstream.images), on the install's registry."""
PROMETHEUS_NAMESPACE_FLAG = "--prometheus-namespace"
"""The operator's flag naming where Prometheus runs, so that it writes its configuration there."""
PERSONAS = Path(__file__).parent / "manifests" / "personas.yaml"
"""ClusterRoles of the management-side personas (docs 1.4.2), for a platform team to bind; nobody holds them."""
PERSONA_ANNOTATION = "hcp.io/persona"
CREATE_ONLY_ANNOTATION = "hcp.io/install-create-only"
"""On an object install creates when absent and never changes after (the dashboard template, an admin's to edit)."""
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


@dataclass(frozen=True)
class MonitoringSettings:
    """What an install says of monitoring (HyperShift's install flags of the same names, docs 11).

    `prometheus`: deploy Prometheus in hcp.monitoring.NAMESPACE and have the operator configure it.
    `metrics_set`: which control-plane metrics are scraped (the operator's METRICS_SET).
    `dashboards`: the operator writes a dashboard per HostedCluster (its MONITORING_DASHBOARDS).
    """

    prometheus: bool = False
    metrics_set: MetricsSet = MetricsSet.TELEMETRY
    dashboards: bool = False


def render(image: str, registry: RegistrySettings, monitoring_settings: MonitoringSettings = MonitoringSettings(),
           ) -> list[dict]:
    """Every object of an install, in apply order: CRDs, namespace, registry CA and pull secret, supported
    versions, policy, RBAC, [Prometheus,] Deployment, personas.

    Prometheus comes after the policy and the operator's rights and before the operator's Deployment, so the
    namespace the operator writes its configuration in exists when it starts, and uninstall (which deletes
    in reverse) stops the operator before it removes that namespace."""
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    for document in documents:
        if document["kind"] == "Deployment":
            _configure_operator(document, image, registry)
            _configure_monitoring(document, monitoring_settings)
    if monitoring_settings.prometheus:
        operator = next(i for i, d in enumerate(documents) if d["kind"] == "Deployment")
        documents[operator:operator] = prometheus(registry)
    if monitoring_settings.dashboards:
        # The admin's to edit afterwards (docs 11.2.1): created when absent, never overwritten by a re-install.
        template = template_configmap(NAMESPACE)
        template["metadata"].setdefault("annotations", {})[CREATE_ONLY_ANNOTATION] = "true"
        operator = next(i for i, d in enumerate(documents) if d["kind"] == "Deployment")
        documents.insert(operator, template)
    extra = []
    if registry.ca_pem:
        extra.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": REGISTRY_CA_CONFIGMAP, "namespace": NAMESPACE},
                      "data": {"ca.crt": registry.ca_pem.decode()}})
    if registry.pull_secret:
        extra.append(_pull_secret(registry.pull_secret, NAMESPACE))
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


def _configure_monitoring(deployment: dict, settings: MonitoringSettings) -> None:
    """The operator's monitoring settings: its METRICS_SET and MONITORING_DASHBOARDS, as HyperShift's install
    sets them, and where Prometheus runs when install deploys it."""
    operator = deployment["spec"]["template"]["spec"]["containers"][0]
    operator["env"].append({"name": monitoring.METRICS_SET_ENV, "value": MetricsSet(settings.metrics_set).value})
    if settings.dashboards:
        operator["env"].append({"name": monitoring.MONITORING_DASHBOARDS_ENV, "value": "1"})
    if settings.prometheus:
        operator["args"] += [PROMETHEUS_NAMESPACE_FLAG, monitoring.NAMESPACE]


def prometheus(registry: RegistrySettings) -> list[dict]:
    """Namespace hcp-monitoring, Prometheus's ServiceAccount, ClusterRole(Binding), Deployment and Service, its
    image on the install's registry (where `management-cluster up` and `release publish` push it). With a
    pull secret, a copy in hcp-monitoring for its pod to pull with."""
    documents = [d for d in yaml.safe_load_all(MONITORING.read_text()) if d]
    for document in documents:
        if document["kind"] == "Deployment":
            pod = document["spec"]["template"]["spec"]
            pod["containers"][0]["image"] = component_image(PROMETHEUS_IMAGE).ref.on(registry.name)
            if registry.pull_secret:
                pod["imagePullSecrets"] = [{"name": PULL_SECRET}]
    if registry.pull_secret:
        namespace = next(i for i, d in enumerate(documents) if d["kind"] == "Namespace")
        documents.insert(namespace + 1, _pull_secret(registry.pull_secret, monitoring.NAMESPACE))
    return documents


def _pull_secret(pull_secret: bytes, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": PULL_SECRET, "namespace": namespace},
            "stringData": {PULL_SECRET_KEY: pull_secret.decode()}}


def _create_if_absent(client: Client, document: dict) -> None:
    """Create an object that is its owner's to change afterwards (the dashboard template); one that exists stays."""
    try:
        client.create(codecs.from_dict(document))
    except ApiError as error:
        if error.status.code != 409:
            raise


def personas() -> list[dict]:
    """The persona ClusterRoles, applied last: they grant nothing until a platform team binds them."""
    return [d for d in yaml.safe_load_all(PERSONAS.read_text()) if d]


def is_persona(document: dict) -> bool:
    return PERSONA_ANNOTATION in (document.get("metadata", {}).get("annotations") or {})


def install(client: Client, documents: list[dict], log: Callable[[str], None], timeout: float = 300.0) -> None:
    """Apply the install and wait until the CRDs are established and the operator is available."""
    for document in documents:
        try:
            if (document["metadata"].get("annotations") or {}).get(CREATE_ONLY_ANNOTATION) == "true":
                _create_if_absent(client, document)
                continue
            apply_all(client, [document])
        except ApiError as error:
            if error.status.code == 404 and document["apiVersion"].startswith("admissionregistration.k8s.io/"):
                raise InstallError(
                    f"the management cluster does not serve {document['kind']} ({document['apiVersion']}, "
                    f"Kubernetes 1.30 or newer); hcp needs it to confine its operator") from None
            raise
    log(f"admission policy {POLICY} applied")
    if any(d["kind"] == "Deployment" and d["metadata"].get("namespace") == monitoring.NAMESPACE for d in documents):
        # Not waited for: its pod starts once the operator has written its configuration Secret.
        log(f"Prometheus deployed in namespace {monitoring.NAMESPACE}; it starts once the operator has written "
            f"its configuration ({monitoring.CONFIG_SECRET})")
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
