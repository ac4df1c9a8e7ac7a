"""Where an embedded management cluster keeps everything, and its network plan.

One state directory holds all durable data (PKI, etcd, registry, object
store, volumes, logs). Sockets and per-boot state live under a short run directory, because
unix socket paths are limited to 108 bytes and per-boot state must not
survive a `down`. The cluster's node is a network namespace with one veth to
the host: ports, iptables rules and routes of two clusters never meet, and
deleting the namespace removes every rule the cluster made.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$")
NODE_SUBNETS = ipaddress.ip_network("172.30.0.0/16")
POD_CIDR = "10.244.0.0/16"
NODE_POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
REGISTRY_HOST = "registry.hcp.internal"
REGISTRY_PORT = 5000
API_PORT = 6443
OBJECT_STORE_PORT = 7070
"""The embedded S3 object store (versitygw's default port), on the node's address."""


def default_state_dir() -> Path:
    """The demo's state lives here unless HCP_STATE_DIR says otherwise."""
    env = os.environ.get("HCP_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "hcp" / "management"


@dataclass(frozen=True)
class ClusterConfig:
    """What is fixed when a management cluster is first created and reused after."""

    name: str
    subnet_index: int

    @property
    def _subnet(self) -> ipaddress.IPv4Network:
        return list(NODE_SUBNETS.subnets(new_prefix=24))[self.subnet_index]

    @property
    def host_ip(self) -> str:
        return str(self._subnet.network_address + 1)

    @property
    def node_ip(self) -> str:
        return str(self._subnet.network_address + 2)

    @property
    def prefix_length(self) -> int:
        return self._subnet.prefixlen

    @property
    def netns(self) -> str:
        return f"hcp-{self.name}"

    @property
    def host_veth(self) -> str:
        return f"hcpv-{self.name}"

    @property
    def node_name(self) -> str:
        return f"hcp-{self.name}"

    @property
    def cgroup_root(self) -> str:
        return f"/hcp-{self.name}"

    @property
    def api_server_url(self) -> str:
        return f"https://{self.node_ip}:{API_PORT}"

    @property
    def registry(self) -> str:
        """How images are named: a stable host name, resolved inside the cluster to the node."""
        return f"{REGISTRY_HOST}:{REGISTRY_PORT}"

    @property
    def registry_url(self) -> str:
        """How the host reaches the same registry."""
        return f"https://{self.node_ip}:{REGISTRY_PORT}"

    @property
    def object_store_url(self) -> str:
        """The embedded S3 endpoint: the same URL from the host and from pods (the node's address)."""
        return f"https://{self.node_ip}:{OBJECT_STORE_PORT}"


@dataclass(frozen=True)
class Layout:
    """Every path of one management cluster, derived from its state directory."""

    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.state_dir / "cluster.json"

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "config"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.state_dir / "etcd"

    @property
    def registry_data(self) -> Path:
        return self.state_dir / "registry"

    @property
    def object_store_data(self) -> Path:
        """The object store's buckets and their metadata (versitygw's POSIX backend)."""
        return self.state_dir / "object-store"

    @property
    def object_store_credentials(self) -> Path:
        """The object store's root access key and secret key (JSON, mode 0600), minted once."""
        return self.pki_dir / "object-store-credentials.json"

    @property
    def kubelet_root(self) -> Path:
        return self.state_dir / "kubelet"

    @property
    def pod_logs(self) -> Path:
        """kubelet's podLogsDir: each node keeps its pods' logs, so one node's log GC never sees another's."""
        return self.state_dir / "pod-logs"

    @property
    def container_logs(self) -> Path:
        """Bound over /var/log/containers inside the node: kubelet's per-container links into pod_logs."""
        return self.state_dir / "container-logs"

    @property
    def containerd_root(self) -> Path:
        return self.state_dir / "containerd"

    @property
    def volumes_dir(self) -> Path:
        return self.state_dir / "volumes"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state_dir / "admin.kubeconfig"

    def kubeconfig(self, component: str) -> Path:
        return self.config_dir / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    def run_dir(self, config: ClusterConfig) -> Path:
        return Path("/run/hcp") / config.name

    def containerd_socket(self, config: ClusterConfig) -> Path:
        return self.run_dir(config) / "containerd.sock"

    def supervisor_pid(self, config: ClusterConfig) -> Path:
        return self.run_dir(config) / "supervisor.pid"

    def status_file(self, config: ClusterConfig) -> Path:
        return self.run_dir(config) / "status.json"

    def load_config(self) -> ClusterConfig | None:
        if not self.config_file.exists():
            return None
        return ClusterConfig(**json.loads(self.config_file.read_text()))

    def save_config(self, config: ClusterConfig) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(json.dumps(asdict(config), indent=2) + "\n")


def validate_name(name: str) -> str:
    """Names become interface, namespace and cgroup names, so they stay short and simple."""
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"invalid management cluster name {name!r}: use 1-10 lowercase letters, digits or '-'"
        )
    return name


def validate_state_dir(state_dir: Path) -> Path:
    """kubelet accepts only an absolute, normalized, ASCII podLogsDir, and that lives in the state dir."""
    path = str(state_dir)
    if not state_dir.is_absolute() or os.path.normpath(path) != path or not path.isascii():
        raise ValueError(
            f"invalid state dir {path!r}: use an absolute, normalized path of ASCII characters "
            "(kubelet keeps the pods' logs under it)"
        )
    return state_dir
