"""The konnectivity agent: one per node of the hosted cluster, dialling out to the konnectivity server.

The hosted API server reaches kubelets, pods and Services only through
konnectivity (its `cluster` egress), because nodes join from networks the
management cluster cannot route to. So every node runs an agent that opens
tunnels out to the server beside each API server, at the endpoint published
for spec.services Konnectivity (`ctx.konnectivity`); the server sends each
dial down one of them.

- hostNetwork: the agent works before (and without) the CNI, and dials the
  node's own kubelet and pods from the node itself; it announces the node's
  IP (`--agent-identifiers`) so the server sends a kubelet's traffic through
  that node's agent (its `destHost` strategy).
- It tolerates every taint and is system-node-critical: without it no
  logs, exec, port-forward, webhooks or aggregated APIs reach that node.
- mTLS on konnectivity-signer: the client certificate of the control plane's
  Secret konnectivity-agent, copied into kube-system; the agent uses no API
  of the hosted cluster, so its ServiceAccount mounts no token.

Nothing is rendered until the Konnectivity endpoint is published.
"""

from __future__ import annotations

import base64
from typing import Any

from hcp.controlplane.components.component import CONFIG_HASH_ANNOTATION, NON_ROOT_ID, SECRET_MODE, config_hash
from hcp.controlplane.context import Endpoint
from hcp.controlplane.pki import CA_CERT_KEY, KONNECTIVITY_AGENT, TLS_CERT_KEY, TLS_KEY_KEY
from hcp.dataplane.components.context import HostedContext

NAME = "konnectivity-agent"
NAMESPACE = "kube-system"
SECRET = KONNECTIVITY_AGENT
"""The agent's client certificate: the control-plane Secret of that name, copied under the same name."""
CERTS_MOUNT = "/etc/konnectivity/agent"
HEALTH_PORT = 8093
"""The agent's health server (its default port), on the node's network: probes only."""
ADMIN_PORT = 8094
"""The agent's admin server (metrics, its default port), on the node's localhost."""
PRIORITY_CLASS = "system-node-critical"
LABELS = {"app": NAME}


def render(ctx: HostedContext) -> list[dict[str, Any]]:
    if ctx.konnectivity is None:
        return []
    secret = _secret(ctx)
    return [_service_account(), secret, _daemon_set(ctx, ctx.konnectivity, secret)]


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": dict(LABELS)}


def _service_account() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(NAME),
            "automountServiceAccountToken": False}


def _secret(ctx: HostedContext) -> dict[str, Any]:
    material = ctx.secrets.get(SECRET)
    keys = (CA_CERT_KEY, TLS_CERT_KEY, TLS_KEY_KEY)
    if material is None or not all(material.get(key) for key in keys):
        raise KeyError(f"the control plane's Secret {SECRET} with {', '.join(keys)} is not available yet")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(SECRET),
        "type": "Opaque",
        "data": {key: base64.b64encode(material[key]).decode() for key in keys},
    }


def _daemon_set(ctx: HostedContext, endpoint: Endpoint, secret: dict[str, Any]) -> dict[str, Any]:
    args = [
        f"--proxy-server-host={endpoint.host}",
        f"--proxy-server-port={endpoint.port}",
        f"--ca-cert={CERTS_MOUNT}/{CA_CERT_KEY}",
        f"--agent-cert={CERTS_MOUNT}/{TLS_CERT_KEY}",
        f"--agent-key={CERTS_MOUNT}/{TLS_KEY_KEY}",
        "--agent-identifiers=ipv4=$(HOST_IP)",
        f"--health-server-port={HEALTH_PORT}",
        f"--admin-server-port={ADMIN_PORT}",
        # Tunnels cross NodePorts and load balancers, which drop idle connections; a lost tunnel is
        # noticed and redialled within seconds (HyperShift's timings).
        "--keepalive-time=30s",
        "--probe-interval=5s",
        "--sync-interval=5s",
        "--sync-interval-cap=30s",
        "--v=2",
    ]

    def probe(path: str, period: int) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": HEALTH_PORT, "scheme": "HTTP"},
                "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": 3}

    agent = {
        "name": NAME,
        "image": ctx.image(NAME),
        "imagePullPolicy": "IfNotPresent",
        "command": ["/usr/local/bin/proxy-agent"],
        "args": args,
        "env": [{"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}],
        "ports": [{"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        "livenessProbe": probe("/healthz", 30),
        # Ready once it holds a tunnel to a server.
        "readinessProbe": probe("/readyz", 10),
        "resources": {"requests": {"cpu": "10m", "memory": "30Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "agent-certs", "mountPath": CERTS_MOUNT, "readOnly": True}],
    }
    pod_spec = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": False,
        "hostNetwork": True,
        # The node's resolver: the published host is outside the cluster, and cluster DNS may not run yet.
        "dnsPolicy": "Default",
        "priorityClassName": PRIORITY_CLASS,
        "tolerations": [{"operator": "Exists"}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NON_ROOT_ID,
            "runAsGroup": NON_ROOT_ID,
            "fsGroup": NON_ROOT_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [agent],
        "volumes": [{"name": "agent-certs", "secret": {"secretName": SECRET, "defaultMode": SECRET_MODE}}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _metadata(NAME),
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            # The agent reads its certificates when it starts: re-issued ones must roll the agents.
            "template": {"metadata": {"labels": dict(LABELS),
                                      "annotations": {CONFIG_HASH_ANNOTATION: config_hash(secret["data"])}},
                         "spec": pod_spec},
        },
    }
