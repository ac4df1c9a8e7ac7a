"""The join payload: the shell script that makes a fresh Debian machine a node of one NodePool.

One join path for every real machine: a machine of platform `None` runs the
one-line command `join_command` prints, a node pod of platform `Container`
runs the same script as its entrypoint. The script is rendered per request by
the ignition server (hcp.ignition.server) for the pool whose bootstrap token
authenticated the request, so the token, the hosted cluster's CA, the API
endpoint and the kubelet's checksum are baked in and nothing else is needed
on the machine but root, `curl` and Debian's package archive.

What it does, idempotently (re-running it on a node is safe):

1. installs containerd, runc, the CNI plugins, iptables, conntrack from
   Debian (only what is missing; a machine without apt must have them);
2. downloads the kubelet of the pool's release from the ignition server
   (TLS pinned to the server's public key, like kubeadm's CA hash) and
   checks its sha256;
3. writes containerd's config (registry mirror and CA for the release's
   images), the bootstrap kubeconfig (TLS bootstrapping with the pool's token:
   the client certificate is issued by the hosted cluster and rotated) and the
   kubelet's configuration (serving certificate from the hosted cluster,
   `serverTLSBootstrap`; the pool's taints as `registerWithTaints`, so the
   Node has them before a pod can be scheduled on it);
4. starts containerd and kubelet (`--node-labels`: the pool's labels that a
   kubelet may set, `registration_labels`; the NodePool controller adds the
   others through the API): as systemd units where systemd runs, else
   as daemons under the script (`HCP_NODE_FOREGROUND=1` keeps the script as
   their parent and exits when either stops, as a container entrypoint must).

Environment the caller may set: HCP_NODE_NAME (default: the host name),
HCP_NODE_IP (default: the address of the default route), HCP_CGROUP_ROOT
(default `/`; a machine that shares its host's cgroup tree gets its own
root), HCP_NODE_FOREGROUND.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hcp.ignition.nodeconfig import MANAGED_KUBELET_FIELDS, NodeConfig

JOIN_PATH = "/join"
KUBELET_PATH = "/kubelet"
COMMANDS = {
    "containerd": "containerd", "runc": "runc", "bridge": "containernetworking-plugins", "iptables": "iptables",
    "conntrack": "conntrack", "ip": "iproute2", "mount": "mount",
}
"""What a node needs besides the kubelet (which comes from the release): command -> the Debian package with it.
Looked for as commands, not in dpkg's database, so a node image assembled from the packages' files passes."""
CNI_BIN_DIR = "/usr/lib/cni"
"""Where containerd looks for CNI plugins: Debian's (containerd 1.6 takes one directory). hcp's CNI
configurations use only Debian's plugins (bridge, host-local, portmap, loopback)."""
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
})
"""The labels of the `kubernetes.io` and `k8s.io` namespaces a kubelet may set on its own Node
(k8s.io/kubelet pkg/apis/well_known_labels.go, kubeletLabels, Kubernetes 1.37)."""
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
"""Label namespaces (and their subdomains) of `kubernetes.io` a kubelet may set on its own Node (kubeletLabelNamespaces)."""


@dataclass(frozen=True)
class RegistryMirror:
    """How a node pulls the release's images: the name images carry, where it is served, and its CA."""

    name: str
    """host:port as in the images' pull specs, e.g. registry.hcp.internal:5000."""
    url: str
    """https://host:port the node can reach."""
    ca_pem: bytes | None = None


@dataclass(frozen=True)
class JoinConfig:
    """Everything the script of one NodePool is rendered from."""

    cluster: str
    """namespace/name of the HostedCluster, for messages."""
    pool: str
    token: str
    """The pool's bootstrap token `<id>.<secret>`, the one the request came with."""
    api_server_url: str
    ca_pem: bytes
    """The hosted cluster's root CA: verifies the API server; kubelets trust clients it signed."""
    ignition_url: str
    pin: str
    """curl --pinnedpubkey value of the ignition server's key (sha256//<base64>)."""
    kubelet_sha256: str
    kubernetes_version: str
    cluster_dns: str
    cluster_domain: str
    pause_image: str
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The pool's Node labels; the kubelet registers with those it may set (`registration_labels`)."""
    taints: Sequence[Mapping[str, Any]] = ()
    """The pool's taints, as corev1 Taint dicts: the kubelet registers its Node with them (registerWithTaints),
    so no pod is scheduled there before they are in place."""
    mirrors: Sequence[RegistryMirror] = ()
    node: NodeConfig = NodeConfig()
    """The pool's node configuration (spec.config): kubelet fields over ours, and files to write."""


def public_key_pin(cert_pem: bytes) -> str:
    """curl's --pinnedpubkey form of a certificate's public key: sha256// + base64 of the SPKI digest."""
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def join_command(ignition_url: str, pin: str, token: str) -> str:
    """The one line a user runs as root on the machine (curl verifies the server by its pinned key)."""
    return (f"curl -sS --fail-with-body --insecure --pinnedpubkey {shlex.quote(pin)} "
            f"-H {shlex.quote('Authorization: Bearer ' + token)} {ignition_url}{JOIN_PATH} | sh")


def _label_namespace(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key else ""


def kubelet_may_set(key: str) -> bool:
    """Whether a kubelet may register its Node with label `key`.

    The kubelet refuses to start when --node-labels holds a label of the
    `kubernetes.io` or `k8s.io` namespaces (or their subdomains) other than
    KUBELET_LABELS and those under KUBELET_LABEL_NAMESPACES
    (cmd/kubelet/app/options ValidateKubeletFlags), and the NodeRestriction
    admission plugin refuses the same ones from a node, with
    `node-restriction.kubernetes.io`. Every other label is the kubelet's to set.
    """
    namespace = _label_namespace(key)
    if not (namespace in ("kubernetes.io", "k8s.io") or namespace.endswith((".kubernetes.io", ".k8s.io"))):
        return True
    if key in KUBELET_LABELS:
        return True
    return any(namespace == allowed or namespace.endswith("." + allowed) for allowed in KUBELET_LABEL_NAMESPACES)


def registration_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels a kubelet registers its Node with (--node-labels): those of `labels` it may set, sorted.

    The others (e.g. node-role.kubernetes.io/worker) are put on the Node through
    the API by the NodePool controller once it has registered.
    """
    return {key: value for key, value in sorted(labels.items()) if kubelet_may_set(key)}


def _taint_flag(taint: Mapping[str, Any]) -> str:
    value = taint.get("value") or ""
    return f"{taint['key']}={value}:{taint['effect']}" if value else f"{taint['key']}:{taint['effect']}"


def kubelet_config(config: JoinConfig) -> dict[str, Any]:
    """KubeletConfiguration of a joined node; paths are the usual ones, kept apart per machine by the caller.

    The pool's spec.config fields go over these, except those hcp needs for the node to join and be
    trusted (MANAGED_KUBELET_FIELDS, which a payload may not set; dropped here too, should one slip by)."""
    own = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        },
        "authorization": {"mode": "Webhook"},
        "rotateCertificates": True,
        "serverTLSBootstrap": True,
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
        "clusterDNS": [config.cluster_dns],
        "clusterDomain": config.cluster_domain,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "serializeImagePulls": False,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "5%", "imagefs.available": "5%"},
        "imageGCHighThresholdPercent": 95,
        "imageGCLowThresholdPercent": 90,
        "registerWithTaints": [dict(t) for t in config.taints],
        "resolvConf": "/etc/resolv.conf",
    }
    pool = {key: value for key, value in config.node.kubelet.items() if key not in MANAGED_KUBELET_FIELDS}
    return {**own, **pool}


def containerd_config(config: JoinConfig) -> str:
    """containerd's config.toml (version 2): CRI with runc, Debian's and the usual CNI paths, mirrors."""
    # Written as TOML text: the script must not need Python on the machine.
    return "\n".join([
        "version = 2",
        'root = "/var/lib/containerd"',
        'state = "/run/containerd"',
        "[grpc]",
        '  address = "/run/containerd/containerd.sock"',
        '[plugins."io.containerd.grpc.v1.cri"]',
        f"  sandbox_image = {json.dumps(config.pause_image)}",
        "  enable_unprivileged_ports = true",
        "  enable_unprivileged_icmp = true",
        # Pod network namespaces live with containerd's state, not in the host's shared /run/netns.
        "  netns_mounts_under_state_dir = true",
        "  restrict_oom_score_adj = RESTRICT_OOM",
        '[plugins."io.containerd.grpc.v1.cri".containerd]',
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '  runtime_type = "io.containerd.runc.v2"',
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        "  SystemdCgroup = false",
        '[plugins."io.containerd.grpc.v1.cri".cni]',
        f"  bin_dir = {json.dumps(CNI_BIN_DIR)}",
        '  conf_dir = "/etc/cni/net.d"',
        '[plugins."io.containerd.grpc.v1.cri".registry]',
        '  config_path = "/etc/containerd/certs.d"',
        "",
    ])


def _hosts_toml(mirror: RegistryMirror) -> str:
    lines = [f"server = {json.dumps('https://' + mirror.name)}", "", f"[host.{json.dumps(mirror.url)}]",
             '  capabilities = ["pull", "resolve"]']
    if mirror.ca_pem:
        lines.append(f"  ca = {json.dumps('/etc/containerd/certs.d/' + mirror.name + '/ca.crt')}")
    return "\n".join(lines) + "\n"


def bootstrap_kubeconfig(config: JoinConfig) -> str:
    ca = base64.b64encode(config.ca_pem).decode()
    return json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "hosted", "cluster": {"server": config.api_server_url,
                                                    "certificate-authority-data": ca}}],
        "users": [{"name": "bootstrap", "user": {"token": config.token}}],
        "contexts": [{"name": "bootstrap", "context": {"cluster": "hosted", "user": "bootstrap"}}],
        "current-context": "bootstrap",
    }, indent=2)


def _heredoc(path: str, content: str | bytes, mode: str = "0644") -> str:
    """A shell step writing `content` to `path` with `mode`; base64 so that no content can break the quoting."""
    data = content.encode() if isinstance(content, str) else content
    encoded = base64.b64encode(data).decode()
    return (f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0])}\n"
            f"echo {encoded} | base64 -d > {shlex.quote(path)}.tmp && chmod {mode} {shlex.quote(path)}.tmp "
            f"&& mv {shlex.quote(path)}.tmp {shlex.quote(path)}\n")


def script(config: JoinConfig) -> str:
    """The join script of one pool (POSIX sh, run as root)."""
    labels = ",".join(f"{k}={v}" for k, v in registration_labels(config.labels).items())
    files = [
        _heredoc("/etc/kubernetes/pki/ca.crt", config.ca_pem),
        _heredoc("/etc/kubernetes/bootstrap-kubelet.conf", bootstrap_kubeconfig(config), "0600"),
        _heredoc("/var/lib/kubelet/config.yaml", json.dumps(kubelet_config(config), indent=2)),
        _heredoc("/etc/containerd/config.toml.in", containerd_config(config)),
    ]
    files += [_heredoc(node_file.path, node_file.contents, f"{node_file.mode:04o}") for node_file in config.node.files]
    for mirror in config.mirrors:
        files.append(_heredoc(f"/etc/containerd/certs.d/{mirror.name}/hosts.toml", _hosts_toml(mirror)))
        if mirror.ca_pem:
            files.append(_heredoc(f"/etc/containerd/certs.d/{mirror.name}/ca.crt", mirror.ca_pem))
    q = shlex.quote
    return f"""#!/bin/sh
# Joins this machine to NodePool {config.pool} of hosted cluster {config.cluster} (Kubernetes v{config.kubernetes_version}).
# Rendered by hcp's ignition server; it holds a bootstrap token: do not share it.
set -eu
umask 022
say() {{ echo "hcp-join: $*" >&2; }}
fail() {{ say "error: $*"; exit 1; }}
[ "$(id -u)" = 0 ] || fail "run as root"

NODE_NAME="${{HCP_NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}}"
NODE_IP="${{HCP_NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p')}}"
CGROUP_ROOT="${{HCP_CGROUP_ROOT:-/}}"
[ -n "$NODE_IP" ] || fail "cannot tell this machine's IP address; set HCP_NODE_IP"

missing=""
for pair in {' '.join(f"{c}:{p}" for c, p in COMMANDS.items())}; do
  command -v "${{pair%%:*}}" >/dev/null 2>&1 || [ -x "/usr/lib/cni/${{pair%%:*}}" ] || missing="$missing ${{pair#*:}}"
done
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null || fail "missing packages:$missing (and no apt-get to install them)"
  say "installing Debian packages:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

say "downloading kubelet v{config.kubernetes_version}"
mkdir -p /usr/local/bin
curl -fsS --insecure --pinnedpubkey {q(config.pin)} -H {q('Authorization: Bearer ' + config.token)} \\
  -o /usr/local/bin/kubelet.download {q(config.ignition_url + KUBELET_PATH)} || fail "cannot download the kubelet"
echo "{config.kubelet_sha256}  /usr/local/bin/kubelet.download" | sha256sum -c --status \\
  || fail "the downloaded kubelet does not have the expected sha256"
chmod 0755 /usr/local/bin/kubelet.download && mv /usr/local/bin/kubelet.download /usr/local/bin/kubelet

{''.join(files)}
# Without CAP_SYS_RESOURCE the kernel refuses negative OOM scores: containerd must clamp them.
if grep -q '^CapEff:.*' /proc/self/status && [ $(( 0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 24 & 1 )) = 1 ]; then
  restrict=false
else
  restrict=true
fi
sed "s/RESTRICT_OOM/$restrict/" /etc/containerd/config.toml.in > /etc/containerd/config.toml
mkdir -p /etc/cni/net.d /opt/cni/bin /var/log/hcp-node /var/log/pods /var/log/containers
modprobe overlay 2>/dev/null || true
modprobe br_netfilter 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1 2>/dev/null || echo 1 > /proc/sys/net/ipv4/ip_forward
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true

KUBELET_ARGS="--config=/var/lib/kubelet/config.yaml --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
 --kubeconfig=/etc/kubernetes/kubelet.conf --cert-dir=/var/lib/kubelet/pki --hostname-override=$NODE_NAME \\
 --node-ip=$NODE_IP --cgroup-root=$CGROUP_ROOT{(' --node-labels=' + labels) if labels else ''}"

if [ -d /run/systemd/system ] && [ -z "${{HCP_NODE_FOREGROUND:-}}" ]; then
  cat > /etc/systemd/system/kubelet.service <<EOF
[Unit]
Description=kubelet of hcp NodePool {config.pool}
After=containerd.service
Requires=containerd.service
[Service]
ExecStart=/usr/local/bin/kubelet $KUBELET_ARGS
Restart=always
RestartSec=5
[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
  systemctl enable --now containerd >/dev/null 2>&1
  systemctl restart containerd
  systemctl enable kubelet >/dev/null 2>&1
  systemctl restart kubelet
  say "node $NODE_NAME ($NODE_IP) is joining: containerd and kubelet run as systemd units"
  exit 0
fi

containerd --config /etc/containerd/config.toml >>/var/log/hcp-node/containerd.log 2>&1 &
containerd_pid=$!
i=0
until [ -S /run/containerd/containerd.sock ]; do
  i=$((i + 1)); [ $i -le 100 ] || fail "containerd did not start (see /var/log/hcp-node/containerd.log)"
  kill -0 $containerd_pid 2>/dev/null || fail "containerd exited (see /var/log/hcp-node/containerd.log)"
  sleep 0.2
done
start_kubelet() {{
  # shellcheck disable=SC2086
  /usr/local/bin/kubelet $KUBELET_ARGS >>/var/log/hcp-node/kubelet.log 2>&1 &
  kubelet_pid=$!
  mkdir -p /run/hcp-node && echo "$containerd_pid $kubelet_pid" > /run/hcp-node/pids
}}
start_kubelet
say "node $NODE_NAME ($NODE_IP) is joining: containerd pid $containerd_pid, kubelet pid $kubelet_pid (logs in /var/log/hcp-node)"
if [ -n "${{HCP_NODE_FOREGROUND:-}}" ]; then
  # The script is the machine's init: it restarts a kubelet that exits (the containers keep running in
  # containerd meanwhile) and ends, stopping everything, when containerd stops or it is told to.
  trap 'kill $kubelet_pid 2>/dev/null; sleep 1; kill $containerd_pid 2>/dev/null; wait; exit 0' TERM INT
  while kill -0 $containerd_pid 2>/dev/null; do
    if ! kill -0 $kubelet_pid 2>/dev/null; then
      say "kubelet exited; restarting it"
      sleep 2
      start_kubelet
    fi
    sleep 1
  done
  fail "containerd stopped (see /var/log/hcp-node/containerd.log)"
fi
"""
