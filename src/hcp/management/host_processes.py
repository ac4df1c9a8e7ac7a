"""The management node's host processes: their command lines, config files and health checks.

Everything here is a pure function of the layout, the cluster config and the
binary directories, so it is rendered the same way by `up` (which writes the
config files) and by the supervisor (which starts the processes), and can be
tested without starting anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
import yaml

from hcp.backup.objectstore import COMMAND as OBJECT_STORE_COMMAND
from hcp.backup.objectstore import HEALTH_PATH as OBJECT_STORE_HEALTH
from hcp.backup.objectstore import Credentials, ObjectStoreServer
from hcp.management.layout import (
    CLUSTER_DOMAIN,
    DNS_SERVICE_IP,
    NODE_POD_CIDR,
    OBJECT_STORE_PORT,
    POD_CIDR,
    REGISTRY_PORT,
    SERVICE_CIDR,
    ClusterConfig,
    Layout,
)

CNI_BIN_DIR = "/usr/lib/cni"
CAP_SYS_RESOURCE = 24
KUBE_ROUTER_HEALTH_PORT = 20244
"""kube-router's own default; bound on the node's loopback, so every management cluster (each in its own
network namespace) uses the same port without two of them meeting."""


def _has_capability(bit: int) -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


@dataclass(frozen=True)
class HealthCheck:
    """How the supervisor tells a process is serving: an HTTP(S) URL, or a unix socket."""

    url: str | None = None
    socket: Path | None = None
    ca_file: Path | None = None
    insecure: bool = False


@dataclass(frozen=True)
class HostProcess:
    name: str
    argv: list[str]
    health: HealthCheck
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Binaries:
    """Where each binary a host process runs was found or built."""

    kubernetes: Path
    etcd: Path
    registry: Path
    containerd: Path
    pause_image: str
    versitygw: Path
    """The directory of the versitygw toolset (the embedded S3 object store)."""
    kube_router: Path
    """The directory of the kube-router toolset (NetworkPolicy enforcement, see `kube_router_process`)."""


def _pki(layout: Layout, name: str, suffix: str) -> str:
    return str(layout.pki_dir / f"{name}.{suffix}")


def containerd_config(layout: Layout, config: ClusterConfig, pause_image: str) -> dict:
    run = layout.run_dir(config)
    cri = "io.containerd.grpc.v1.cri"
    return {
        "version": 2,
        "root": str(layout.containerd_root / "root"),
        "state": str(run / "containerd"),
        "grpc": {"address": str(layout.containerd_socket(config))},
        "ttrpc": {"address": str(layout.containerd_socket(config)) + ".ttrpc"},
        "disabled_plugins": [
            "io.containerd.internal.v1.opt",
            "io.containerd.snapshotter.v1.aufs",
            "io.containerd.snapshotter.v1.btrfs",
            "io.containerd.snapshotter.v1.devmapper",
            "io.containerd.snapshotter.v1.zfs",
            "io.containerd.tracing.processor.v1.otlp",
        ],
        "plugins": {
            cri: {
                "sandbox_image": pause_image,
                "netns_mounts_under_state_dir": True,
                "enable_unprivileged_ports": True,
                "enable_unprivileged_icmp": True,
                # Without CAP_SYS_RESOURCE (as in some sandboxes) the kernel refuses the negative
                # OOM scores kubelet asks for; clamp them at containerd's own score instead of failing pods.
                "restrict_oom_score_adj": not _has_capability(CAP_SYS_RESOURCE),
                "containerd": {
                    "snapshotter": "overlayfs",
                    "default_runtime_name": "runc",
                    "runtimes": {
                        "runc": {
                            "runtime_type": "io.containerd.runc.v2",
                            "options": {"SystemdCgroup": False, "Root": str(run / "runc")},
                        }
                    },
                },
                "cni": {"bin_dir": CNI_BIN_DIR, "conf_dir": str(layout.config_dir / "cni")},
                "registry": {"config_path": str(layout.config_dir / "registry-hosts")},
            }
        },
    }


def registry_hosts(layout: Layout, config: ClusterConfig) -> str:
    """containerd's hosts.toml: the stable registry name served by the node, trusted via hcp's CA."""
    return tomli_w.dumps(
        {
            "server": f"https://{config.registry}",
            "host": {
                config.registry_url: {
                    "capabilities": ["pull", "resolve"],
                    "ca": _pki(layout, "ca", "crt"),
                }
            },
        }
    )


def trust_registry(layout: Layout, registry: str, ca_pem: bytes | None) -> Path:
    """Let the node pull from another registry (`host[:port]`), trusting `ca_pem`: containerd reads the
    hosts.toml of a registry at each pull, so this takes effect without a restart. Returns the file written.

    What an administrator does on any management cluster's nodes for a private registry;
    `hcp management-cluster trust-registry` does it for the embedded one.
    """
    directory = layout.config_dir / "registry-hosts" / registry
    directory.mkdir(parents=True, exist_ok=True)
    host: dict = {"capabilities": ["pull", "resolve"]}
    if ca_pem:
        (directory / "ca.crt").write_bytes(ca_pem)
        host["ca"] = str(directory / "ca.crt")
    path = directory / "hosts.toml"
    path.write_text(tomli_w.dumps({"server": f"https://{registry}", "host": {f"https://{registry}": host}}))
    return path


def cni_config(layout: Layout, config: ClusterConfig) -> dict:
    return {
        "cniVersion": "1.0.0",
        "name": "hcp",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "hcp0",
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": NODE_POD_CIDR}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.run_dir(config) / "cni-ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(layout: Layout, config: ClusterConfig) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": config.node_ip,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": _pki(layout, "ca", "crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": _pki(layout, "kubelet-server", "crt"),
        "tlsPrivateKeyFile": _pki(layout, "kubelet-server", "key"),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": config.cgroup_root,
        "failCgroupV1": False,
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket(config)}",
        "clusterDNS": [DNS_SERVICE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        # kubelet.config.k8s.io/v1beta1 spells it podLogsDir; an unknown key is only logged and ignored,
        # which sent every node's pod logs to the host's shared /var/log/pods.
        "podLogsDir": str(layout.pod_logs),
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "readOnlyPort": 0,
        "serializeImagePulls": False,
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "5%", "imagefs.available": "5%"},
        "imageGCHighThresholdPercent": 95,
        "imageGCLowThresholdPercent": 90,
        "maxPods": 250,
    }


def kube_proxy_config(layout: Layout, config: ClusterConfig) -> dict:
    """kube-proxy in nftables mode: its rules in nf_tables tables of its own (`ip kube-proxy`).

    Not iptables mode, because kube-router's firewall (`kube_router_process`) rewrites the whole iptables
    filter table on each sync (iptables-save, edit, iptables-restore without --noflush; upstream
    cloudnativelabs/kube-router#1372): a change kube-proxy made to that table in between is undone.
    kube-proxy's filter rules include the REJECT of a Service that has no endpoints yet; restored after
    the endpoints came, it refused connections to a fresh Service until kube-proxy's next full sync.
    In tables of its own kube-proxy's rules are out of kube-router's reach. nftables mode serves
    NodePorts on the node's primary address (the one the host and other nodes use here), not on loopback.
    """
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "hostnameOverride": config.node_name,
        "mode": "nftables",
        "clusterCIDR": POD_CIDR,
        "bindAddress": config.node_ip,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "conntrack": {"maxPerCore": 0, "min": 0},
    }


def registry_config(layout: Layout) -> dict:
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(layout.registry_data)}, "delete": {"enabled": True}},
        "http": {
            "addr": f"0.0.0.0:{REGISTRY_PORT}",
            "tls": {"certificate": _pki(layout, "registry", "crt"), "key": _pki(layout, "registry", "key")},
        },
    }


def object_store_server(layout: Layout, versitygw: Path) -> ObjectStoreServer:
    """The embedded S3 object store: versitygw's POSIX backend over the state dir, TLS from the cluster CA.

    It listens on every address of the node: pods and the host reach it at the node's
    address (ClusterConfig.object_store_url), the supervisor's health check on loopback.
    """
    return ObjectStoreServer(
        binary=versitygw / OBJECT_STORE_COMMAND,
        data_dir=layout.object_store_data,
        listen=f"0.0.0.0:{OBJECT_STORE_PORT}",
        cert_file=layout.pki_dir / "object-store.crt",
        key_file=layout.pki_dir / "object-store.key",
    )


def write_configs(layout: Layout, config: ClusterConfig, pause_image: str) -> None:
    """Render every config file the host processes read; called by `up` before starting them."""
    files = {
        layout.config_dir / "containerd.toml": tomli_w.dumps(containerd_config(layout, config, pause_image)),
        layout.config_dir / "registry-hosts" / config.registry / "hosts.toml": registry_hosts(layout, config),
        layout.config_dir / "cni" / "10-hcp.conflist": json.dumps(cni_config(layout, config), indent=2),
        layout.config_dir / "kubelet.yaml": yaml.safe_dump(kubelet_config(layout, config)),
        layout.config_dir / "kube-proxy.yaml": yaml.safe_dump(kube_proxy_config(layout, config)),
        layout.config_dir / "registry.yaml": yaml.safe_dump(registry_config(layout)),
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def processes(layout: Layout, config: ClusterConfig, binaries: Binaries,
              object_store: Credentials) -> list[HostProcess]:
    """The host processes in start order; the supervisor stops them in reverse.

    `object_store` are the object store's root keys: they reach versitygw through its
    environment, never its command line (which `ps` shows to every user).
    """
    kube = binaries.kubernetes
    pki = layout.pki_dir
    ca = pki / "ca.crt"
    kubelet_client = (pki / "apiserver-kubelet-client.crt", pki / "apiserver-kubelet-client.key")
    etcd_url = "https://127.0.0.1:2379"
    return [
        HostProcess(
            "containerd",
            [str(binaries.containerd), "--config", str(layout.config_dir / "containerd.toml")],
            HealthCheck(socket=layout.containerd_socket(config)),
        ),
        HostProcess(
            "etcd",
            [
                str(binaries.etcd / "etcd"),
                "--name", config.node_name,
                "--data-dir", str(layout.etcd_data),
                "--listen-client-urls", etcd_url,
                "--advertise-client-urls", etcd_url,
                "--listen-peer-urls", "https://127.0.0.1:2380",
                "--initial-advertise-peer-urls", "https://127.0.0.1:2380",
                "--initial-cluster", f"{config.node_name}=https://127.0.0.1:2380",
                "--listen-metrics-urls", "http://127.0.0.1:2381",
                "--cert-file", _pki(layout, "etcd-server", "crt"),
                "--key-file", _pki(layout, "etcd-server", "key"),
                "--trusted-ca-file", _pki(layout, "etcd-ca", "crt"),
                "--client-cert-auth",
                "--peer-cert-file", _pki(layout, "etcd-server", "crt"),
                "--peer-key-file", _pki(layout, "etcd-server", "key"),
                "--peer-trusted-ca-file", _pki(layout, "etcd-ca", "crt"),
                "--peer-client-cert-auth",
                "--snapshot-count", "10000",
            ],
            HealthCheck(url="http://127.0.0.1:2381/health"),
        ),
        HostProcess(
            "registry",
            [str(binaries.registry / "registry"), "serve", str(layout.config_dir / "registry.yaml")],
            HealthCheck(url=f"https://127.0.0.1:{REGISTRY_PORT}/v2/", ca_file=ca),
            env={"OTEL_TRACES_EXPORTER": "none"},
        ),
        _object_store_process(layout, binaries, object_store),
        HostProcess(
            "kube-apiserver",
            [
                str(kube / "kube-apiserver"),
                "--advertise-address", config.node_ip,
                "--secure-port", "6443",
                "--etcd-servers", etcd_url,
                "--etcd-cafile", _pki(layout, "etcd-ca", "crt"),
                "--etcd-certfile", _pki(layout, "apiserver-etcd-client", "crt"),
                "--etcd-keyfile", _pki(layout, "apiserver-etcd-client", "key"),
                "--tls-cert-file", _pki(layout, "apiserver", "crt"),
                "--tls-private-key-file", _pki(layout, "apiserver", "key"),
                "--client-ca-file", str(ca),
                "--kubelet-client-certificate", str(kubelet_client[0]),
                "--kubelet-client-key", str(kubelet_client[1]),
                "--kubelet-certificate-authority", str(ca),
                "--kubelet-preferred-address-types", "InternalIP",
                "--service-account-key-file", _pki(layout, "service-account", "crt"),
                "--service-account-signing-key-file", _pki(layout, "service-account", "key"),
                "--service-account-issuer", f"https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
                "--service-cluster-ip-range", SERVICE_CIDR,
                "--authorization-mode", "Node,RBAC",
                "--enable-admission-plugins", "NodeRestriction",
                "--allow-privileged=true",
                "--profiling=false",
            ],
            HealthCheck(url="https://127.0.0.1:6443/readyz", ca_file=ca),
        ),
        HostProcess(
            "kube-controller-manager",
            [
                str(kube / "kube-controller-manager"),
                "--kubeconfig", str(layout.kubeconfig("kube-controller-manager")),
                "--authentication-kubeconfig", str(layout.kubeconfig("kube-controller-manager")),
                "--authorization-kubeconfig", str(layout.kubeconfig("kube-controller-manager")),
                "--bind-address", "127.0.0.1",
                "--service-account-private-key-file", _pki(layout, "service-account", "key"),
                "--root-ca-file", str(ca),
                "--cluster-signing-cert-file", str(ca),
                "--cluster-signing-key-file", _pki(layout, "ca", "key"),
                "--use-service-account-credentials",
                "--service-cluster-ip-range", SERVICE_CIDR,
                "--cluster-cidr", POD_CIDR,
                "--allocate-node-cidrs=false",
                "--leader-elect=false",
                "--profiling=false",
            ],
            HealthCheck(url="https://127.0.0.1:10257/healthz", insecure=True),
        ),
        HostProcess(
            "kube-scheduler",
            [
                str(kube / "kube-scheduler"),
                "--kubeconfig", str(layout.kubeconfig("kube-scheduler")),
                "--authentication-kubeconfig", str(layout.kubeconfig("kube-scheduler")),
                "--authorization-kubeconfig", str(layout.kubeconfig("kube-scheduler")),
                "--bind-address", "127.0.0.1",
                "--leader-elect=false",
                "--profiling=false",
            ],
            HealthCheck(url="https://127.0.0.1:10259/healthz", insecure=True),
        ),
        HostProcess(
            "kubelet",
            [
                str(kube / "kubelet"),
                "--config", str(layout.config_dir / "kubelet.yaml"),
                "--kubeconfig", str(layout.kubeconfig("kubelet")),
                "--root-dir", str(layout.kubelet_root),
                "--hostname-override", config.node_name,
                "--node-ip", config.node_ip,
            ],
            HealthCheck(url="http://127.0.0.1:10248/healthz"),
        ),
        HostProcess(
            "kube-proxy",
            [str(kube / "kube-proxy"), "--config", str(layout.config_dir / "kube-proxy.yaml")],
            HealthCheck(url="http://127.0.0.1:10256/livez"),
        ),
        kube_router_process(layout, config, binaries.kube_router),
    ]


def kube_router_process(layout: Layout, config: ClusterConfig, kube_router: Path) -> HostProcess:
    """kube-router's network policy controller alone: what makes the node enforce NetworkPolicy.

    The CNI bridge plugin gives pods their addresses but has no policy engine; kube-router's firewall
    (`--run-firewall`) is one that works beside any CNI that puts pods on a Linux bridge, as here. Its
    routing (BGP) and service proxy (IPVS) stay off: the bridge routes and kube-proxy serves Services.
    It runs in the node's network namespace like kube-proxy and writes the same kind of rules: iptables
    (the host's `iptables`, nf_tables variant, as kube-proxy's) matching pods by ipsets (Debian package
    ipset), chains KUBE-ROUTER-INPUT/FORWARD/OUTPUT and one KUBE-NWPLCY-* / KUBE-POD-FW-* chain per policy and
    pod. Both the rules and the ipsets belong to the namespace and go with it at `down`.

    Connections from the node itself (kubelet's probes, every host process) are let through to any pod
    (kube-router's "from local node" rule), which the NetworkPolicy API leaves to the implementation.

    It reads the API as user `hcp:kube-router` (its kubeconfig from `pki.ensure`), with read-only rights
    (`kube_router_rbac`), and its node object (`--hostname-override`) for the node's addresses. Healthy
    means its caches are synced and its policy controller has synced since (kube-router's own /healthz).
    """
    return HostProcess(
        "kube-router",
        [
            str(kube_router / "kube-router"),
            "--run-firewall=true",
            "--run-router=false",
            "--run-service-proxy=false",
            "--kubeconfig", str(layout.kubeconfig("kube-router")),
            "--hostname-override", config.node_name,
            "--service-cluster-ip-range", SERVICE_CIDR,
            "--health-addr", "127.0.0.1",
            "--health-port", str(KUBE_ROUTER_HEALTH_PORT),
        ],
        HealthCheck(url=f"http://127.0.0.1:{KUBE_ROUTER_HEALTH_PORT}/healthz"),
    )


KUBE_ROUTER_USER = "hcp:kube-router"
"""The user (client certificate CN) kube-router's kubeconfig names, and the name of its ClusterRole(Binding)."""


def kube_router_rbac() -> list[dict]:
    """The ClusterRole and ClusterRoleBinding kube-router's firewall needs, and nothing more.

    Read-only: kube-router's firewall-only mode watches pods, namespaces and NetworkPolicies (the
    policies' inputs), nodes (its own node's addresses: a get at start, a watch after) and, because its
    informer set is shared with the service proxy and started whole, Services and EndpointSlices. It
    writes nothing to the API. Upstream's DaemonSet manifests grant more (endpoints, leases, services/status,
    the old extensions group), for the router, the load-balancer allocator and old clusters, none of which
    runs here.
    """
    read = ["list", "watch"]
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": KUBE_ROUTER_USER},
        "rules": [
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", *read]},
            {"apiGroups": [""], "resources": ["namespaces", "pods", "services"], "verbs": read},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": read},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": KUBE_ROUTER_USER},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": KUBE_ROUTER_USER},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": KUBE_ROUTER_USER}],
    }
    return [role, binding]


def _object_store_process(layout: Layout, binaries: Binaries, credentials: Credentials) -> HostProcess:
    server = object_store_server(layout, binaries.versitygw)
    return HostProcess(
        "object-store",
        server.argv(),
        HealthCheck(url=f"https://127.0.0.1:{OBJECT_STORE_PORT}{OBJECT_STORE_HEALTH}",
                    ca_file=layout.pki_dir / "ca.crt"),
        env=server.env(credentials),
    )
