"""The node's cgroups: its own root in every cgroup hierarchy, created on `up`, removed on `down`.

kubelet (cgroupfs driver, `cgroupRoot: /hcp-<name>`) puts every pod and
container below that root, so the root is both how the node's containers are
found and killed and what must be gone after `down`. A cgroup can only be
removed once it has no tasks and no children, and the kernel detaches killed
tasks asynchronously, so removal goes bottom-up, kills what is still listed in
`cgroup.procs`, and retries busy directories for a bounded time.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hcp.management import teardown
from hcp.management.layout import ClusterConfig

CGROUP_FS = Path("/sys/fs/cgroup")

Kill = Callable[[int], None]
Rmdir = Callable[[Path], None]


def roots(config: ClusterConfig, base: Path = CGROUP_FS) -> list[Path]:
    """The node's cgroup root in every mounted v1 hierarchy (and the unified one)."""
    return [d / config.cgroup_root.lstrip("/") for d in sorted(base.iterdir()) if d.is_dir()]


def create(config: ClusterConfig, base: Path = CGROUP_FS) -> None:
    for directory in roots(config, base):
        directory.mkdir(exist_ok=True)
        if directory.parent.name == "cpuset":  # a cpuset cgroup holds no task until it has cpus and mems
            for key in ("cpuset.cpus", "cpuset.mems"):
                (directory / key).write_text((directory.parent / key).read_text())


def _sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def _tree_bottom_up(root: Path) -> list[Path]:
    """Every directory under root, children before their parents, root last; vanished parts are skipped."""
    if not root.is_dir():
        return []
    return [Path(directory) for directory, _, _ in os.walk(root, topdown=False)]


def kill_procs(directory: Path, kill: Kill = _sigkill) -> None:
    """SIGKILL every process listed in one cgroup (not its children); a cgroup or pid gone meanwhile is fine."""
    try:
        pids = (directory / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in pids:
        try:
            kill(int(pid))
        except ProcessLookupError:
            pass


def kill_all(config: ClusterConfig, base: Path = CGROUP_FS, kill: Kill = _sigkill) -> None:
    """Kill every process in the node's cgroup trees: the containers of all its pods."""
    for root in roots(config, base):
        for directory in _tree_bottom_up(root):
            kill_procs(directory, kill)


def _removal_pass(trees: Iterable[Path], rmdir: Rmdir, kill: Kill) -> list[tuple[Path, OSError]]:
    left: list[tuple[Path, OSError]] = []
    for root in trees:
        for directory in _tree_bottom_up(root):
            kill_procs(directory, kill)
            try:
                rmdir(directory)
            except FileNotFoundError:
                pass
            except OSError as error:
                left.append((directory, error))
    return left


def remove_trees(trees: Iterable[Path], *, rmdir: Rmdir = os.rmdir, kill: Kill = _sigkill,
                 timeout: float = teardown.TIMEOUT, interval: float = teardown.INTERVAL,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
    """Remove cgroup trees bottom-up, killing stragglers and retrying busy cgroups until `timeout`.

    Raises teardown.TeardownError naming the deepest cgroup still busy.
    """
    trees = list(trees)
    teardown.until_removed(lambda: _removal_pass(trees, rmdir, kill),
                           timeout=timeout, interval=interval, sleep=sleep, clock=clock)


def remove(config: ClusterConfig, base: Path = CGROUP_FS) -> None:
    remove_trees(roots(config, base))
