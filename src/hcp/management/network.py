"""The node's network namespace: created on `up`, deleted on `down`.

Deleting the namespace takes its veth, bridge, routes and every iptables rule
kube-proxy and the CNI plugins wrote inside it, so nothing of the cluster's
networking outlives it on the host.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

from hcp.management.layout import NODE_SUBNETS, ClusterConfig

NETNS_DIR = Path("/run/netns")


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


def free_subnet_index() -> int:
    """The first node /24 that no interface on the host uses yet."""
    used = set()
    for interface in json.loads(_ip("-j", "-4", "addr", "show").stdout or "[]"):
        for address in interface.get("addr_info", []):
            network = ipaddress.ip_interface(f"{address['local']}/{address['prefixlen']}").network
            used.add(network)
    for index, subnet in enumerate(NODE_SUBNETS.subnets(new_prefix=24)):
        if subnet not in used:
            return index
    raise NetworkError(f"no free /24 left in {NODE_SUBNETS} for another management cluster")


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
