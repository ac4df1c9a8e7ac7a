"""The node's network namespace: created on `up`, deleted on `down`.

Deleting the namespace takes its veth, bridge, routes and every iptables rule
kube-proxy and the CNI plugins wrote inside it, so nothing of the cluster's
networking outlives it on the host.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hcp.management.layout import NODE_SUBNETS, ClusterConfig

NETNS_DIR = Path("/run/netns")
RESERVATIONS = Path("/run/hcp/.subnets")
"""One file per node /24 taken, named by its index, holding the path of its owner (a management cluster's
state dir, a machine's directory). Cluster names cannot start with a dot, so no run dir is ever called so."""


class NetworkError(RuntimeError):
    pass


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    command = ["ip", *(["-n", netns] if netns else []), *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NetworkError(f"`{' '.join(command)}` failed: {result.stderr.strip()}")
    return result


def exists(config: ClusterConfig) -> bool:
    return (NETNS_DIR / config.netns).exists()


def _interface_subnets(ignore: str | None = None) -> set[ipaddress.IPv4Network]:
    """The IPv4 networks of the addresses on the host's interfaces (but interface `ignore`)."""
    used = set()
    for interface in json.loads(_ip("-j", "-4", "addr", "show").stdout or "[]"):
        if interface.get("ifname") == ignore:
            continue
        for address in interface.get("addr_info", []):
            used.add(ipaddress.ip_interface(f"{address['local']}/{address['prefixlen']}").network)
    return used


@contextmanager
def _reservations_locked(reservations: Path) -> Iterator[None]:
    """Holds an exclusive lock on the reservations: one process at a time picks or claims a subnet."""
    reservations.mkdir(parents=True, exist_ok=True)
    with open(reservations / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also if the process dies
        yield


def _holder(reservations: Path, index: int) -> Path | None:
    """The owner holding subnet `index`, if any and still there (an owner whose path is gone holds nothing)."""
    try:
        owner = Path((reservations / str(index)).read_text().strip())
    except FileNotFoundError:
        return None
    return owner if owner.exists() else None


def reserve_subnet(owner: Path, reservations: Path | None = None) -> int:
    """The first node /24 that no interface on the host uses and no other owner holds, now held by `owner`.

    `owner` is a directory that exists as long as the subnet is used (a management cluster's state dir). The
    pick and the reservation happen under one lock, so two clusters created at the same moment (by two test
    workers, say) get two subnets, although neither has an interface yet while the other looks.
    """
    reservations = reservations or RESERVATIONS
    with _reservations_locked(reservations):
        used = _interface_subnets()
        for index, subnet in enumerate(NODE_SUBNETS.subnets(new_prefix=24)):
            holder = _holder(reservations, index)
            if subnet in used or (holder is not None and holder != owner):
                continue
            (reservations / str(index)).write_text(f"{owner}\n")
            return index
    raise NetworkError(f"no free /24 left in {NODE_SUBNETS} for another management cluster")


def claim_subnet(config: ClusterConfig, owner: Path, reservations: Path | None = None) -> None:
    """Hold the subnet of an existing cluster for `owner` again, before its interfaces are made.

    A cluster keeps its subnet while it is down, but the reservations live in /run and are gone after a
    reboot: a cluster made meanwhile may have taken it. That is refused here, naming who has it, rather
    than giving two interfaces of the host the same network.
    """
    reservations = reservations or RESERVATIONS
    subnet = list(NODE_SUBNETS.subnets(new_prefix=24))[config.subnet_index]
    with _reservations_locked(reservations):
        holder = _holder(reservations, config.subnet_index)
        if holder is not None and holder != owner:
            raise NetworkError(f"subnet {subnet} of management cluster {config.name} is taken by {holder}")
        if subnet in _interface_subnets(ignore=config.host_veth):
            raise NetworkError(f"subnet {subnet} of management cluster {config.name} is used by another "
                               "interface of the host (`ip -4 addr` shows which)")
        (reservations / str(config.subnet_index)).write_text(f"{owner}\n")


def release_subnet(index: int, owner: Path, reservations: Path | None = None) -> None:
    """Give up subnet `index` if `owner` holds it (a cluster or machine being deleted)."""
    reservations = reservations or RESERVATIONS
    if not reservations.is_dir():
        return
    with _reservations_locked(reservations):
        try:
            holder = Path((reservations / str(index)).read_text().strip())
        except FileNotFoundError:
            return
        if holder == owner:
            (reservations / str(index)).unlink(missing_ok=True)


def _sysctl(config: ClusterConfig, key: str, value: str) -> None:
    path = "/proc/sys/" + key.replace(".", "/")
    subprocess.run(
        ["ip", "netns", "exec", config.netns, "sh", "-c", f"echo {value} > {path}"],
        check=True, capture_output=True,
    )


def create(config: ClusterConfig) -> None:
    """The namespace, its veth to the host, addresses, routes and forwarding sysctls."""
    if exists(config):
        delete(config)
    _ip("netns", "add", config.netns)
    try:
        _ip("link", "add", config.host_veth, "type", "veth", "peer", "name", "eth0", "netns", config.netns)
        _ip("addr", "add", f"{config.host_ip}/{config.prefix_length}", "dev", config.host_veth)
        _ip("link", "set", config.host_veth, "up")
        _ip("link", "set", "lo", "up", netns=config.netns)
        _ip("addr", "add", f"{config.node_ip}/{config.prefix_length}", "dev", "eth0", netns=config.netns)
        _ip("link", "set", "eth0", "up", netns=config.netns)
        _ip("route", "add", "default", "via", config.host_ip, netns=config.netns)
        _sysctl(config, "net.ipv4.ip_forward", "1")
        _sysctl(config, "net.bridge.bridge-nf-call-iptables", "1")
        _sysctl(config, "net.ipv4.conf.all.route_localnet", "1")
    except Exception:
        delete(config)
        raise


def pids(config: ClusterConfig) -> list[int]:
    """Processes still inside the namespace (component processes, shims, ...)."""
    if not exists(config):
        return []
    result = _ip("netns", "pids", config.netns, check=False)
    return [int(p) for p in result.stdout.split()]


def delete(config: ClusterConfig) -> None:
    _ip("link", "del", config.host_veth, check=False)
    if exists(config):
        _ip("netns", "del", config.netns)
