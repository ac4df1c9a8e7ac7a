"""Bringing the embedded management cluster up and down, and reporting on it.

`up` is idempotent: it builds what is missing, mints what is missing, starts
the node if it is not running, and (re)applies the add-ons. `down` stops every
process of the node and removes its network namespace and cgroups, keeping
the state dir so the next `up` finds its data again.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Node

from hcp.images import RegistryClient
from hcp.kube.client import apply_all, client_for
from hcp.backup import objectstore
from hcp.backup.storage import StorageError
from hcp.management import addons, cgroups, host_processes, network, object_store, pki, supervisor, teardown
from hcp.upstream import binaries, images
from hcp.management.layout import ClusterConfig, Layout, validate_name, validate_state_dir
from hcp import release

Log = Callable[[str], None]

HOST_TOOLS = {
    "ip": "iproute2", "nsenter": "util-linux", "unshare": "util-linux", "mount": "mount",
    "iptables": "iptables", "conntrack": "conntrack", "containerd": "containerd", "runc": "runc",
    "nft": "nftables",  # kube-proxy's nftables mode (host_processes.kube_proxy_config)
    "ipset": "ipset",  # kube-router's firewall matches pods by ipsets (host_processes.kube_router_process)
}
CNI_PLUGINS = ("bridge", "host-local", "portmap", "loopback")
COMPONENT_TIMEOUT = 180.0
READY_TIMEOUT = 300.0


class ClusterError(RuntimeError):
    """A failure a user can act on; the message names the component and its log."""


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    healthy: bool
    restarts: int
    last_exit: int | None
    log: str


def require_host() -> None:
    if os.geteuid() != 0:
        raise ClusterError("the management cluster needs root (network namespaces, mounts, cgroups): run as root")
    for tool, package in HOST_TOOLS.items():
        binaries.host_binary(tool, package)
    for plugin in CNI_PLUGINS:
        if not Path(host_processes.CNI_BIN_DIR, plugin).exists():
            raise ClusterError(f"CNI plugin {plugin} is missing; install the Debian package containernetworking-plugins")


def supervisor_pid(layout: Layout, config: ClusterConfig) -> int | None:
    """The running supervisor's pid, or None when the node is not running."""
    try:
        pid = int(layout.supervisor_pid(config).read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def component_status(layout: Layout, config: ClusterConfig) -> list[ComponentStatus]:
    """What the supervisor last saw; empty when it is not running."""
    if supervisor_pid(layout, config) is None:
        return []
    try:
        data = json.loads(layout.status_file(config).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return [
        ComponentStatus(
            name=name, running=fields["running"], healthy=fields["healthy"],
            restarts=fields["restarts"], last_exit=fields["last_exit"], log=fields["log"],
        )
        for name, fields in data["components"].items()
    ]


def _wait_components(layout: Layout, config: ClusterConfig, log: Log,
                     when_healthy: dict[str, Callable[[], None]] | None = None) -> None:
    """Wait until the supervisor reports every host process healthy.

    `when_healthy` maps a process's name to what to do as soon as it is first seen healthy, while the
    rest start (an action that cannot reach the API server yet is tried again at the next pass).
    """
    started = time.monotonic()
    deadline = started + COMPONENT_TIMEOUT
    reported: set[str] = set()
    pending = dict(when_healthy or {})
    while True:
        if supervisor_pid(layout, config) is None and time.monotonic() > started + 5:
            raise ClusterError(f"the node supervisor is not running; see {layout.log('supervisor')}")
        statuses = component_status(layout, config)
        for status in statuses:
            if status.healthy and status.name not in reported:
                reported.add(status.name)
                log(f"{status.name} is healthy")
            if status.healthy and status.name in pending:
                try:
                    pending[status.name]()
                    del pending[status.name]
                except httpx2.HTTPError:
                    pass
        if statuses and all(s.healthy for s in statuses):
            return
        if time.monotonic() > deadline:
            failing = next((s for s in statuses if not s.healthy), None)
            if failing is None:
                raise ClusterError(f"the node supervisor reports nothing; see {layout.log('supervisor')}")
            detail = f"exited with code {failing.last_exit}, " if failing.last_exit is not None else ""
            raise ClusterError(
                f"{failing.name} is not healthy after {COMPONENT_TIMEOUT:.0f}s "
                f"({detail}restarted {failing.restarts} times); see {failing.log}"
            )
        time.sleep(0.5)


def _wait_ready(layout: Layout, config: ClusterConfig, log: Log) -> None:
    client = client_for(layout.admin_kubeconfig)
    deadline = time.monotonic() + READY_TIMEOUT
    waiting_for = "node"
    while time.monotonic() < deadline:
        try:
            if waiting_for == "node":
                node = client.get(Node, config.node_name)
                if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or []):
                    log(f"node {config.node_name} is Ready")
                    waiting_for = "dns"
            if waiting_for == "dns":
                coredns = client.get(Deployment, "coredns", namespace="kube-system")
                if (coredns.status.availableReplicas or 0) >= 1:
                    log("CoreDNS is Ready")
                    return
        except httpx2.HTTPError:
            pass
        except ApiError as error:  # 404 while the objects are being created
            if error.status.code != 404:
                raise
        time.sleep(1.0)
    component = "kubelet" if waiting_for == "node" else "kube-apiserver"
    what = f"node {config.node_name} is not Ready" if waiting_for == "node" else "CoreDNS is not available"
    raise ClusterError(f"{what} after {READY_TIMEOUT:.0f}s; see {layout.log(component)}")


def _prepare_dirs(layout: Layout, config: ClusterConfig) -> None:
    for directory in (layout.etcd_data, layout.registry_data, layout.kubelet_root, layout.pod_logs,
                      layout.container_logs, layout.volumes_dir, layout.logs_dir):
        directory.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.chmod(0o700)
    # The POSIX backend refuses to start without its folders; `up` has built the binary already.
    host_processes.object_store_server(layout, binaries.ensure(objectstore.TOOLSET)).prepare()
    run_dir = layout.run_dir(config)
    _remove(lambda: teardown.remove_tree(run_dir))
    run_dir.mkdir(parents=True)


def _network(action: Callable[[], int | None]) -> int | None:
    """Run a subnet step; a subnet that cannot be had becomes the one error line a user sees."""
    try:
        return action()
    except network.NetworkError as error:
        raise ClusterError(str(error)) from None


def _remove(action: Callable[[], None]) -> None:
    """Run a bounded teardown step; what stays busy becomes the one error line a user sees."""
    try:
        action()
    except teardown.TeardownError as error:
        raise ClusterError(f"{error}; stop whatever still uses it and run the command again") from None


def up(layout: Layout, name: str, log: Log) -> ClusterConfig:
    """Bring the management cluster up (or check it is up) and return its config."""
    require_host()
    validate_state_dir(layout.state_dir)
    config = layout.load_config()
    if config is None:
        validate_name(name)
        layout.state_dir.mkdir(parents=True, exist_ok=True)  # the subnet's owner, from the moment it is taken
        config = ClusterConfig(name, _network(lambda: network.reserve_subnet(layout.state_dir)))
        layout.save_config(config)
        log(f"new management cluster {config.name} in {layout.state_dir} (node {config.node_ip})")
    elif config.name != name:
        raise ClusterError(f"{layout.state_dir} holds management cluster {config.name!r}, not {name!r}")

    if supervisor_pid(layout, config) is None:
        binaries.ensure_all(log)
        binaries.ensure_pause(log)
        pki.ensure(layout, config)
        pause = images.image("hcp/pause").ref.on(config.registry)
        host_processes.write_configs(layout, config, pause)
        _stop_leftovers(layout, config)
        _prepare_dirs(layout, config)
        _network(lambda: network.claim_subnet(config, layout.state_dir))
        network.create(config)
        cgroups.create(config)
        supervisor.launch(layout, config)
        log("node starting: containerd, etcd, registry, object-store, kube-apiserver, kube-controller-manager, "
            "kube-scheduler, kubelet, kube-proxy, kube-router")
    else:
        log(f"management cluster {config.name} is running")
    # kube-router, started last, can sync its caches only with its read rights: granted as soon as the API
    # server serves, long before the supervisor gets to kube-router.
    _wait_components(layout, config, log, when_healthy={"kube-apiserver": lambda: _grant_kube_router(layout)})
    if not any(status.name == "kube-router" for status in component_status(layout, config)):
        log("this node does not enforce NetworkPolicies (it was started by an older hcp, without kube-router); "
            "run `hcp management-cluster down` and `up` to add it")

    with RegistryClient(config.registry_url, ca_file=layout.pki_dir / "ca.crt") as registry:
        images.publish(registry, log)
        release.publish(registry, config.registry, log)
    manifests = [*addons.render(layout, config), *host_processes.kube_router_rbac(),
                 *_object_store(layout, config, log)]
    apply_all(client_for(layout.admin_kubeconfig), manifests)
    _wait_ready(layout, config, log)
    return config


def _grant_kube_router(layout: Layout) -> None:
    apply_all(client_for(layout.admin_kubeconfig), host_processes.kube_router_rbac())


def _object_store(layout: Layout, config: ClusterConfig, log: Log) -> list[dict]:
    """The default bucket, made once the store is healthy, and the manifests of its credentials Secret.

    A node started by an hcp without the object store keeps running without it until
    `down` and `up`; that is said, not failed.
    """
    if not any(status.name == "object-store" for status in component_status(layout, config)):
        log("this node runs no object store (it was started by an older hcp); "
            "run `hcp management-cluster down` and `up` to add it")
        return []
    store = object_store.credentials(layout, config)
    try:
        object_store.ensure_bucket(layout, store)
    except StorageError as error:
        raise ClusterError(f"the object store does not serve bucket {object_store.BUCKET}: {error}; "
                           f"see {layout.log('object-store')}") from None
    log(f"object store at {config.object_store_url}: bucket {object_store.BUCKET}, credentials in Secret "
        f"{object_store.NAMESPACE}/{object_store.SECRET_NAME}")
    return object_store.manifests(store)


def _stop_leftovers(layout: Layout, config: ClusterConfig) -> None:
    """Whatever a crash, a killed `up` or the supervisor's own stop left of the node.

    Processes first (the namespace's, the pods', the shims'), then the cgroups,
    which the kernel frees only once those processes are fully gone (bounded
    retry), then the namespace.
    """
    for pid in network.pids(config):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    cgroups.kill_all(config)
    supervisor.kill_shims(layout, config)
    _wait_gone(config)
    _remove(lambda: cgroups.remove(config))
    network.delete(config)


def _wait_gone(config: ClusterConfig, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while network.pids(config) and time.monotonic() < deadline:
        time.sleep(0.2)


def down(layout: Layout, log: Log) -> None:
    """Stop the node; its data stays in the state dir."""
    require_host()
    config = layout.load_config()
    if config is None:
        log(f"no management cluster in {layout.state_dir}")
        return
    pid = supervisor_pid(layout, config)
    if pid is not None:
        log(f"stopping management cluster {config.name}")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:  # it exited since we looked
            pass
        deadline = time.monotonic() + 120
        while supervisor_pid(layout, config) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
    _stop_leftovers(layout, config)
    _remove(lambda: teardown.remove_tree(layout.run_dir(config)))
    log(f"management cluster {config.name} is down")


def delete(layout: Layout, log: Log) -> None:
    """Stop the node and remove its state dir: all data, certificates and logs."""
    down(layout, log)
    config = layout.load_config()
    if layout.state_dir.exists():
        _remove(lambda: teardown.remove_tree(layout.state_dir))
        log(f"removed {layout.state_dir}")
    if config is not None:
        network.release_subnet(config.subnet_index, layout.state_dir)
