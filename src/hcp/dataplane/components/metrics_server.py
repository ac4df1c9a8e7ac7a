"""metrics-server: the resource metrics API (metrics.k8s.io: `kubectl top`, autoscalers), whatever the networkType.

Both of its TLS connections are verified, none is skipped:
- it scrapes each kubelet at the address and port the Node reports
  (InternalIP, the kubelet's status port) and verifies the kubelet's serving
  certificate with the CA that signs them (HostedContext.kubelet_serving_ca,
  put in a ConfigMap);
- the API server reaches it through APIService v1beta1.metrics.k8s.io and
  verifies its serving certificate with the caBundle of the APIService. That
  certificate, its key and the CA that signed it come from the management
  side (HostedContext.secrets[SECRET], keys tls.crt, tls.key, ca.crt), issued
  for SERVICE_DNS_NAME; metrics-server generates none.

Without either CA nothing is rendered (whatever was applied before is removed
by the controller), rather than a metrics-server that skips verification.
"""

from __future__ import annotations

from typing import Any

from hcp.controlplane.components.component import CONFIG_HASH_ANNOTATION, NON_ROOT_ID, config_hash
from hcp.dataplane.components import manifests as m
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext

NAME = "metrics-server"
NAMESPACE = m.KUBE_SYSTEM
APP_LABEL = {"k8s-app": "metrics-server"}
SECRET = "metrics-server"
"""The key of HostedContext.secrets with the serving certificate."""
SECRET_KEYS = ("tls.crt", "tls.key", "ca.crt")
SERVICE_DNS_NAME = f"{NAME}.{NAMESPACE}.svc"
"""The name the API server dials the Service by, which the serving certificate must be for."""
TLS_SECRET = "metrics-server-tls"
KUBELET_CA_CONFIG_MAP = "metrics-server-kubelet-ca"
SECURE_PORT = 10250
API_GROUP = "metrics.k8s.io"
API_VERSION = "v1beta1"
TLS_DIR = "/etc/metrics-server/tls"
KUBELET_CA_DIR = "/etc/metrics-server/kubelet-ca"
METRIC_RESOLUTION = "15s"


def render(ctx: HostedContext) -> list[dict[str, Any]]:
    serving = ctx.secrets.get(SECRET)
    if ctx.kubelet_serving_ca is None or serving is None or any(key not in serving for key in SECRET_KEYS):
        return []
    reader = "system:aggregated-metrics-reader"
    return [
        m.service_account(NAME, NAME, NAMESPACE),
        # Aggregated into view, edit and admin, so whoever may read pods may read their metrics.
        m.cluster_role(NAME, reader, [m.rule([API_GROUP], ["pods", "nodes"], ["get", "list", "watch"])],
                       **{f"{m.RBAC}/aggregate-to-{role}": "true" for role in ("view", "edit", "admin")}),
        m.cluster_role(NAME, "system:metrics-server", [
            m.rule([""], ["nodes/metrics"], ["get"]),
            m.rule([""], ["pods", "nodes"], ["get", "list", "watch"]),
        ]),
        m.binding(NAME, "metrics-server-auth-reader", "extension-apiserver-authentication-reader", NAME, NAMESPACE,
                  role_kind="Role", binding_namespace=NAMESPACE),
        m.binding(NAME, "metrics-server:system:auth-delegator", "system:auth-delegator", NAME, NAMESPACE),
        m.binding(NAME, "system:metrics-server", "system:metrics-server", NAME, NAMESPACE),
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": m.metadata(NAME, TLS_SECRET, NAMESPACE),
            "type": "kubernetes.io/tls",
            "data": {key: m.b64(serving[key]) for key in ("tls.crt", "tls.key")},
        },
        m.config_map(NAME, KUBELET_CA_CONFIG_MAP, NAMESPACE, {"ca.crt": ctx.kubelet_serving_ca.decode()}),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": m.metadata(NAME, NAME, NAMESPACE, **APP_LABEL),
            "spec": {"selector": APP_LABEL,
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}]},
        },
        _deployment(ctx, config_hash(ctx.kubelet_serving_ca, dict(serving))),
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": m.metadata(NAME, f"{API_VERSION}.{API_GROUP}", **APP_LABEL),
            "spec": {
                "group": API_GROUP,
                "version": API_VERSION,
                "service": {"name": NAME, "namespace": NAMESPACE, "port": 443},
                "caBundle": m.b64(serving["ca.crt"]),
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


def _deployment(ctx: HostedContext, config_digest: str) -> dict[str, Any]:
    probe = {"scheme": "HTTPS", "port": "https"}
    container = {
        "name": NAME,
        "image": ctx.image(NAME),
        "args": [
            f"--secure-port={SECURE_PORT}",
            f"--tls-cert-file={TLS_DIR}/tls.crt",
            f"--tls-private-key-file={TLS_DIR}/tls.key",
            f"--kubelet-certificate-authority={KUBELET_CA_DIR}/ca.crt",
            "--kubelet-preferred-address-types=InternalIP",
            "--kubelet-use-node-status-port",
            f"--metric-resolution={METRIC_RESOLUTION}",
        ],
        "ports": [{"name": "https", "containerPort": SECURE_PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "50m", "memory": "100Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": NON_ROOT_ID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "readinessProbe": {"httpGet": {"path": "/readyz", **probe}, "initialDelaySeconds": 20, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/livez", **probe}, "periodSeconds": 10, "failureThreshold": 3},
        "volumeMounts": [
            {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
            {"name": "kubelet-ca", "mountPath": KUBELET_CA_DIR, "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": m.metadata(NAME, NAME, NAMESPACE, **APP_LABEL),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": APP_LABEL},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                # The kubelet CA is read at start: a new one (or a new serving certificate) rolls the pod.
                "metadata": {"labels": {**APP_LABEL, COMPONENT_LABEL: NAME},
                             "annotations": {CONFIG_HASH_ANNOTATION: config_digest}},
                "spec": {
                    "serviceAccountName": NAME,
                    "priorityClassName": m.CLUSTER_CRITICAL,
                    "nodeSelector": m.LINUX,
                    "containers": [container],
                    "volumes": [
                        {"name": "tls", "secret": {"secretName": TLS_SECRET}},
                        {"name": "kubelet-ca", "configMap": {"name": KUBELET_CA_CONFIG_MAP}},
                    ],
                },
            },
        },
    }
