"""CoreDNS: the hosted cluster's DNS (Service kube-dns at the DNS IP kubelets are given), whatever the networkType.

Two replicas that prefer distinct nodes; names outside the cluster domain go
to the resolvers of the node (dnsPolicy Default: the node's /etc/resolv.conf),
which is also what keeps CoreDNS from forwarding to itself (`loop` stops it if
a node's resolver is the cluster DNS).
"""

from __future__ import annotations

from typing import Any

from hcp.dataplane.components import manifests as m
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext

NAME = "coredns"
NAMESPACE = m.KUBE_SYSTEM
SERVICE = "kube-dns"
APP_LABEL = {"k8s-app": "kube-dns"}
REPLICAS = 2
METRICS_PORT = 9153
HEALTH_PORT = 8080
READY_PORT = 8181
CONFIG_DIR = "/etc/coredns"


def corefile(ctx: HostedContext) -> str:
    return f""".:53 {{
    errors
    health {{
        lameduck 5s
    }}
    ready
    kubernetes {ctx.cluster_domain} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    prometheus :{METRICS_PORT}
    forward . /etc/resolv.conf {{
        max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


def render(ctx: HostedContext) -> list[dict[str, Any]]:
    return [
        m.service_account(NAME, NAME, NAMESPACE),
        m.cluster_role(NAME, "system:coredns", [
            m.rule([""], ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
            m.rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
        ]),
        m.binding(NAME, "system:coredns", "system:coredns", NAME, NAMESPACE),
        m.config_map(NAME, NAME, NAMESPACE, {"Corefile": corefile(ctx)}),
        _deployment(ctx),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": m.metadata(NAME, SERVICE, NAMESPACE, **APP_LABEL),
            "spec": {
                "selector": APP_LABEL,
                "clusterIP": ctx.dns_service_ip,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": METRICS_PORT, "protocol": "TCP", "targetPort": METRICS_PORT},
                ],
            },
        },
    ]


def _deployment(ctx: HostedContext) -> dict[str, Any]:
    container = {
        "name": NAME,
        "image": ctx.image(NAME),
        "args": ["-conf", f"{CONFIG_DIR}/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "40Mi"}, "limits": {"memory": "170Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        },
        "livenessProbe": {"httpGet": {"path": "/health", "port": HEALTH_PORT}, "initialDelaySeconds": 10,
                          "periodSeconds": 10, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": READY_PORT}, "periodSeconds": 2},
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": m.metadata(NAME, NAME, NAMESPACE, **APP_LABEL),
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": APP_LABEL},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {**APP_LABEL, COMPONENT_LABEL: NAME}},
                "spec": {
                    "serviceAccountName": NAME,
                    "priorityClassName": m.CLUSTER_CRITICAL,
                    "dnsPolicy": "Default",
                    "nodeSelector": m.LINUX,
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {"labelSelector": {"matchLabels": APP_LABEL},
                                            "topologyKey": "kubernetes.io/hostname"},
                    }]}},
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": NAME}}],
                },
            },
        },
    }
