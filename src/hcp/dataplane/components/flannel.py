"""flannel: the pod network of hosted clusters with networkType Flannel (vxlan backend).

flanneld runs on every node (a host-network DaemonSet) with the kube subnet
manager: each node's subnet is the pod CIDR kube-controller-manager gave it
(hcp allocates node CIDRs for Flannel), so flannel needs no etcd of its own.
It builds the vxlan overlay between nodes and, with --ip-masq, masquerades
pod traffic leaving the pod network.

Pods are wired by Debian's CNI plugins on the node (containernetworking-plugins
in /usr/lib/cni), not by flannel's own CNI plugin, which hcp cannot build (it
is not on the Go module proxy): a `bridge` (cni0, the pods' gateway) with
`host-local` addresses from the node's subnet, and `portmap` for hostPorts.
host-local needs that subnet written out, and the node's subnet is known on
the node only once flanneld has its lease, so a second container of the pod
waits for the /run/flannel/subnet.env that flanneld writes and renders the
conflist template of the ConfigMap with its subnet and MTU into the host's
/etc/cni/net.d (again whenever it changes, and if it is removed). Until then
the node's runtime reports no network and the node stays NotReady.

Only IPv4 pod networks are given to flannel: the first IPv4 cluster CIDR. A
context without one (IPv6 only) renders nothing, like any networkType but
Flannel.

flanneld talks to the hosted API server at its published endpoint: pods
reach the `kubernetes` Service only through kube-proxy's rules, and the pod
network does not exist before flannel.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from hcp.api.v1beta1.networking import NetworkType
from hcp.controlplane.components.component import CONFIG_HASH_ANNOTATION, config_hash
from hcp.dataplane.components import manifests as m
from hcp.dataplane.components.context import COMPONENT_LABEL, HostedContext

NAME = "flannel"
NAMESPACE = "kube-flannel"
APP_LABEL = {"app": "flannel"}
BACKEND = "vxlan"
CONFIG_DIR = "/etc/kube-flannel"
"""flanneld's default --net-config-path is net-conf.json in here."""
RUN_DIR = "/run/flannel"
SUBNET_ENV = f"{RUN_DIR}/subnet.env"
"""flanneld's default --subnet-file: FLANNEL_NETWORK, FLANNEL_SUBNET (the node's first address/prefix), FLANNEL_MTU."""
CONFIG_MAP = "kube-flannel-cfg"
CNI_CONF_DIR = "/etc/cni/net.d"
CNI_CONFLIST = "10-flannel.conflist"
CNI_TEMPLATE = "cni-conf.json"
SUBNET_PLACEHOLDER = "@SUBNET@"
MTU_PLACEHOLDER = "@MTU@"
BRIDGE = "cni0"
FLANNELD = "/usr/local/bin/flanneld"
SHELL = "/bin/sh"

# FLANNEL_SUBNET is the node's gateway address (first address) with the prefix; host-local wants the network.
# busybox's ipcalc -n prints NETWORK=<address>. The file is rewritten only when its content changes.
_INSTALL_CNI = f"""set -eu
conf={CNI_CONF_DIR}/{CNI_CONFLIST}
while true; do
  if [ -f {SUBNET_ENV} ]; then
    . {SUBNET_ENV}
    eval "$(ipcalc -n "$FLANNEL_SUBNET")"
    subnet="$NETWORK/${{FLANNEL_SUBNET#*/}}"
    sed -e "s|{SUBNET_PLACEHOLDER}|$subnet|" -e "s|\\"{MTU_PLACEHOLDER}\\"|$FLANNEL_MTU|" \\
      {CONFIG_DIR}/{CNI_TEMPLATE} > "$conf.tmp"
    if cmp -s "$conf.tmp" "$conf"; then
      rm "$conf.tmp"
    else
      mv "$conf.tmp" "$conf"
      echo "wrote $conf: pods get addresses of $subnet, MTU $FLANNEL_MTU"
    fi
  fi
  sleep 5
done
"""


def ipv4_network(ctx: HostedContext) -> str | None:
    """The pod network flannel gets: the first IPv4 cluster CIDR."""
    for cidr in ctx.cluster_cidrs:
        if ipaddress.ip_network(cidr, strict=False).version == 4:
            return cidr
    return None


def net_conf(network: str) -> dict[str, Any]:
    return {"Network": network, "Backend": {"Type": BACKEND}}


def cni_template() -> dict[str, Any]:
    """The conflist, its node subnet and MTU left as placeholders for the pod to fill in."""
    return {
        "cniVersion": "1.0.0",
        "name": "flannel",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "isDefaultGateway": True,
                # flanneld --ip-masq masquerades what leaves the pod network; the bridge must not as well.
                "ipMasq": False,
                "hairpinMode": True,
                "mtu": MTU_PLACEHOLDER,
                "ipam": {"type": "host-local", "ranges": [[{"subnet": SUBNET_PLACEHOLDER}]]},
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def render(ctx: HostedContext) -> list[dict[str, Any]]:
    network = ipv4_network(ctx)
    if ctx.network_type != NetworkType.FLANNEL or network is None:
        return []
    config = m.config_map(NAME, CONFIG_MAP, NAMESPACE, {
        "net-conf.json": json.dumps(net_conf(network), indent=2) + "\n",
        CNI_TEMPLATE: json.dumps(cni_template(), indent=2) + "\n",
    })
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         # flanneld needs host networking and NET_ADMIN, which only the privileged Pod Security level allows.
         "metadata": m.metadata(NAME, NAMESPACE, **{"pod-security.kubernetes.io/enforce": "privileged"})},
        m.service_account(NAME, NAME, NAMESPACE),
        m.cluster_role(NAME, NAME, [
            m.rule([""], ["pods"], ["get"]),
            m.rule([""], ["nodes"], ["get", "list", "watch"]),
            m.rule([""], ["nodes/status"], ["patch"]),
        ]),
        m.binding(NAME, NAME, NAME, NAME, NAMESPACE),
        config,
        _daemon_set(ctx, config_hash(config["data"])),
    ]


def _daemon_set(ctx: HostedContext, config_digest: str) -> dict[str, Any]:
    image = ctx.image(NAME)
    config = {"name": "flannel-cfg", "mountPath": CONFIG_DIR, "readOnly": True}
    flanneld = {
        "name": "kube-flannel",
        "image": image,
        "command": [FLANNELD],
        "args": ["--kube-subnet-mgr", "--ip-masq"],
        "env": [
            m.field_env("POD_NAME", "metadata.name"),
            m.field_env("POD_NAMESPACE", "metadata.namespace"),
            m.field_env("NODE_NAME", "spec.nodeName"),
            # In-cluster configuration, pointed at the published API server instead of the Service.
            {"name": "KUBERNETES_SERVICE_HOST", "value": ctx.api_server.host},
            {"name": "KUBERNETES_SERVICE_PORT", "value": str(ctx.api_server.port)},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "50Mi"}},
        # Upstream's choice: the overlay, routes and rules need NET_ADMIN and NET_RAW, not a privileged container.
        "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
        "volumeMounts": [
            {"name": "run", "mountPath": RUN_DIR},
            config,
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
        ],
    }
    install_cni = {
        "name": "install-cni",
        "image": image,
        "command": [SHELL, "-c", _INSTALL_CNI],
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}},
        "volumeMounts": [
            {"name": "run", "mountPath": RUN_DIR, "readOnly": True},
            config,
            {"name": "cni", "mountPath": CNI_CONF_DIR},
        ],
    }
    labels = {**APP_LABEL, COMPONENT_LABEL: NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": m.metadata(NAME, "kube-flannel-ds", NAMESPACE, **APP_LABEL),
        "spec": {
            "selector": {"matchLabels": APP_LABEL},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                # flanneld reads net-conf.json once: a change rolls the pods.
                "metadata": {"labels": labels, "annotations": {CONFIG_HASH_ANNOTATION: config_digest}},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": m.NODE_CRITICAL,
                    "serviceAccountName": NAME,
                    "nodeSelector": m.LINUX,
                    "tolerations": list(m.TOLERATE_EVERYTHING),
                    "containers": [flanneld, install_cni],
                    "volumes": [
                        m.host_path("run", RUN_DIR, "DirectoryOrCreate"),
                        m.host_path("cni", CNI_CONF_DIR, "DirectoryOrCreate"),
                        m.host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
                        m.host_path("lib-modules", "/lib/modules", "DirectoryOrCreate"),
                        {"name": "flannel-cfg", "configMap": {"name": CONFIG_MAP}},
                    ],
                },
            },
        },
    }
