"""kube-proxy: Service routing on every node, in iptables mode, whatever the networkType.

A host-network DaemonSet of the release's kube-proxy (image hcp/kube-proxy:
kube-proxy with Debian's iptables, nft backend, and conntrack). Its
kubeconfig points at the hosted API server's published endpoint: the
`kubernetes` Service is one of the Services kube-proxy itself has to route
first. It authenticates with its ServiceAccount token and trusts the cluster
CA that kubelet mounts beside the token, and it is bound to the built-in
ClusterRole system:node-proxier, as kubeadm binds it.

The conntrack table size is left to the node (maxPerCore 0): the sysctl is
not writable from a node that is itself a container.

Releases whose own Kubernetes toolset builds no kube-proxy (1.36) carry the
newest one, one minor newer than their API server: outside the skew policy,
but kube-proxy reads only GA APIs (Services, EndpointSlices, Nodes) that
1.36 serves alike.
"""

from __future__ import annotations

from typing import Any

import yaml

from hcp.controlplane.components.component import CONFIG_HASH_ANNOTATION, config_hash
from hcp.dataplane.components import manifests as m
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext

NAME = "kube-proxy"
NAMESPACE = m.KUBE_SYSTEM
APP_LABEL = {"k8s-app": "kube-proxy"}
CONFIG_DIR = "/var/lib/kube-proxy"
CONFIG_FILE = "config.conf"
KUBECONFIG_FILE = "kubeconfig.conf"
HEALTHZ_PORT = 10256
MODE = "iptables"
KUBE_PROXY = "/usr/local/bin/kube-proxy"


def configuration(ctx: HostedContext) -> dict[str, Any]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": f"{CONFIG_DIR}/{KUBECONFIG_FILE}"},
        "mode": MODE,
        "clusterCIDR": ",".join(ctx.cluster_cidrs),
        "bindAddress": "0.0.0.0",
        "healthzBindAddress": f"0.0.0.0:{HEALTHZ_PORT}",
        "metricsBindAddress": "127.0.0.1:10249",
        "conntrack": {"maxPerCore": 0, "min": 0},
    }


def kubeconfig(ctx: HostedContext) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "hosted", "cluster": {
            "server": ctx.api_server.url, "certificate-authority": f"{m.SERVICE_ACCOUNT_DIR}/ca.crt"}}],
        "users": [{"name": NAME, "user": {"tokenFile": f"{m.SERVICE_ACCOUNT_DIR}/token"}}],
        "contexts": [{"name": "default", "context": {"cluster": "hosted", "user": NAME, "namespace": NAMESPACE}}],
        "current-context": "default",
    }


def render(ctx: HostedContext) -> list[dict[str, Any]]:
    config = m.config_map(NAME, NAME, NAMESPACE, {
        CONFIG_FILE: yaml.safe_dump(configuration(ctx), sort_keys=False),
        KUBECONFIG_FILE: yaml.safe_dump(kubeconfig(ctx), sort_keys=False),
    })
    return [
        m.service_account(NAME, NAME, NAMESPACE),
        m.binding(NAME, "hcp:node-proxier", "system:node-proxier", NAME, NAMESPACE),
        config,
        _daemon_set(ctx, config_hash(config["data"])),
    ]


def _daemon_set(ctx: HostedContext, config_digest: str) -> dict[str, Any]:
    container = {
        "name": NAME,
        "image": ctx.image(NAME),
        "command": [KUBE_PROXY, f"--config={CONFIG_DIR}/{CONFIG_FILE}", "--hostname-override=$(NODE_NAME)"],
        "env": [m.field_env("NODE_NAME", "spec.nodeName")],
        "resources": {"requests": {"cpu": "20m", "memory": "30Mi"}},
        "securityContext": {"privileged": True},
        "livenessProbe": {"httpGet": {"path": "/livez", "port": HEALTHZ_PORT}, "periodSeconds": 10,
                          "failureThreshold": 6},
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": m.metadata(NAME, NAME, NAMESPACE, **APP_LABEL),
        "spec": {
            "selector": {"matchLabels": APP_LABEL},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                # kube-proxy reads its configuration once: a change rolls the pods.
                "metadata": {"labels": {**APP_LABEL, COMPONENT_LABEL: NAME},
                             "annotations": {CONFIG_HASH_ANNOTATION: config_digest}},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": m.NODE_CRITICAL,
                    "serviceAccountName": NAME,
                    "nodeSelector": m.LINUX,
                    "tolerations": list(m.TOLERATE_EVERYTHING),
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": NAME}},
                        m.host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                        m.host_path("lib-modules", "/lib/modules", "DirectoryOrCreate"),
                    ],
                },
            },
        },
    }
