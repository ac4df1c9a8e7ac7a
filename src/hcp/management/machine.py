"""Machines made on this host: a network namespace and a private view of the node's directories.

A platform-`None` NodePool takes machines from anywhere; on one host, hcp
makes them the way it makes the management node (hcp.management.network and
.cgroups): a network namespace with a veth to the host and a /24 of its own,
its own cgroup root, and a mount namespace in which the directories a node
writes (/etc/kubernetes, /var/lib/kubelet, /run/containerd, ...) are private
directories of the machine. The join command then runs inside it unchanged,
exactly as on a fresh Debian machine, so the machine tests the one join path
users run.

The host forwards between the machine's veth and the management nodes' (per
interface, the host's global ip_forward is left alone), so the machine reaches
the published control-plane services as an outside machine would. `delete`
kills every process of the machine (the join script, containerd, kubelet and
its containers) and removes its cgroups, namespaces and directories.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hcp.management import cgroups, network
from hcp.management.layout import ClusterConfig

PRIVATE_DIRS = (
    "/etc/kubernetes", "/etc/containerd", "/etc/cni", "/opt/cni", "/usr/local/bin",
    "/var/lib/kubelet", "/var/lib/containerd", "/var/lib/cni", "/var/log/pods", "/var/log/containers",
    "/var/log/hcp-node", "/run/containerd", "/run/flannel", "/run/hcp-node",
)
"""What a node writes, bound to directories of the machine so that two machines and the host never share them."""
PREFIX = "m"
"""Machine names become ClusterConfig names `m<name>` (netns hcp-m<name>, cgroup root /hcp-m<name>)."""
STOP_TIMEOUT = 20.0

MOUNT_SETUP = """set -e
root="$1"; shift
mkdir -p "$root/cgroup-move"
mount --rbind /sys/fs/cgroup "$root/cgroup-move"
umount -l /sys
mount -t sysfs sysfs /sys
mount --move "$root/cgroup-move" /sys/fs/cgroup
for dir in $HCP_PRIVATE_DIRS; do
  mkdir -p "$root/fs$dir" "$dir"
  mount --bind "$root/fs$dir" "$dir"
done
exec "$@"
"""


class MachineError(RuntimeError):
    pass


@dataclass(frozen=True)
class Machine:
    name: str
    config: ClusterConfig
    pid: int

    @property
    def ip(self) -> str:
        return self.config.node_ip


def machines_dir(state_dir: Path) -> Path:
    return state_dir / "machines"


def _record(state_dir: Path, name: str) -> Path:
    return machines_dir(state_dir) / name / "machine.json"


def load(state_dir: Path, name: str) -> Machine | None:
    path = _record(state_dir, name)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Machine(name, ClusterConfig(**data["config"]), data["pid"])


def list_machines(state_dir: Path) -> list[Machine]:
    root = machines_dir(state_dir)
    found = [load(state_dir, p.name) for p in sorted(root.iterdir())] if root.is_dir() else []
    return [m for m in found if m is not None]


def _forward(interface: str) -> None:
    Path(f"/proc/sys/net/ipv4/conf/{interface}/forwarding").write_text("1")


def create(state_dir: Path, name: str, command: str, env: dict[str, str] | None = None) -> Machine:
    """A machine `name` running `command` (a join command) as root inside it; returns once it runs."""
    if not name.isalnum() or not name.islower() or len(name) > 9:
        raise MachineError(f"machine name {name!r} must be 1-9 lowercase letters or digits")
    if load(state_dir, name) is not None:
        raise MachineError(f"machine {name} exists; delete it first")
    root = machines_dir(state_dir) / name
    root.mkdir(parents=True, exist_ok=True)  # the subnet's owner while the machine exists
    config = ClusterConfig(PREFIX + name, network.reserve_subnet(root))
    try:
        network.create(config)
        for interface in [config.host_veth, *_management_veths()]:
            _forward(interface)
        cgroups.create(config)
        child_env = {
            **os.environ, **(env or {}),
            "HCP_PRIVATE_DIRS": " ".join(PRIVATE_DIRS), "HCP_NODE_NAME": name, "HCP_NODE_IP": config.node_ip,
            "HCP_CGROUP_ROOT": config.cgroup_root, "HCP_NODE_FOREGROUND": "1",
        }
        with open(root / "join.log", "ab") as out:
            child = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{config.netns}", "--",
                 "unshare", "--mount", "--propagation", "slave", "--",
                 "sh", "-c", MOUNT_SETUP, "hcp-machine", str(root), "sh", "-c", command],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=child_env,
                start_new_session=True,
            )
        machine = Machine(name, config, child.pid)
        _record(state_dir, name).write_text(json.dumps({"config": asdict(config), "pid": child.pid}))
    except Exception:
        _teardown(root, config, None)
        raise
    return machine


def _management_veths() -> list[str]:
    """The host ends of the management nodes' veths (hcp.management.network names them hcpv-<name>)."""
    return [Path(p).name for p in glob.glob("/sys/class/net/hcpv-*")]


def running(machine: Machine) -> bool:
    try:
        os.kill(machine.pid, 0)
    except ProcessLookupError:
        return False
    return True


def delete(state_dir: Path, name: str) -> bool:
    """Stop and remove machine `name`; False if there was none."""
    machine = load(state_dir, name)
    root = machines_dir(state_dir) / name
    if machine is None:
        if root.exists():
            shutil.rmtree(root, ignore_errors=True)
        return False
    _teardown(root, machine.config, machine.pid)
    return True


def _teardown(root: Path, config: ClusterConfig, pid: int | None) -> None:
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
    # Whatever is left in the machine (containers, shims) is in its namespace or its cgroups.
    for leftover in network.pids(config):
        try:
            os.kill(leftover, signal.SIGKILL)
        except ProcessLookupError:
            pass
    cgroups.kill_all(config)
    cgroups.remove(config)
    network.delete(config)
    # Mounts were made in the machine's own mount namespace and went with it; what remains are files.
    shutil.rmtree(root, ignore_errors=True)
    network.release_subnet(config.subnet_index, root)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    """`python -m hcp.management.machine create|delete STATE_DIR NAME [COMMAND]` for scripts and tests."""
    args = sys.argv[1:] if argv is None else argv
    action, state_dir, name = args[0], Path(args[1]), args[2]
    if action == "create":
        print(create(state_dir, name, args[3]).ip)
    elif action == "delete":
        delete(state_dir, name)


if __name__ == "__main__":
    main()
