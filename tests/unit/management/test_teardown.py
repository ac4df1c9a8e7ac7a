"""Teardown waits for what the kernel still releases, then reports one path; no cluster needed.

A directory tree stands in for a cgroup tree: `fake_cgroup_rmdir` removes a
directory the way cgroupfs does (its pseudo-files go with it) and answers
EBUSY a given number of times first, as the kernel does while killed tasks
are still being detached.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hcp.management import cgroups, teardown
from hcp.management.layout import ClusterConfig


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def busy(path: Path) -> OSError:
    return OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))


def cgroup_tree(root: Path, procs: dict[str, list[int]]) -> Path:
    """root/kubepods/besteffort/pod1/ctr and root/kubepods/burstable, with cgroup.procs files."""
    for relative in ("kubepods/besteffort/pod1/ctr", "kubepods/burstable"):
        (root / relative).mkdir(parents=True)
    for directory in [root, *root.rglob("*")]:
        if directory.is_dir():
            pids = procs.get(str(directory.relative_to(root)), [])
            (directory / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in pids))
    return root


class FakeCgroupRmdir:
    def __init__(self, busy_times: dict[Path, int]):
        self.busy_times = dict(busy_times)
        self.removed: list[Path] = []

    def __call__(self, path: Path) -> None:
        path = Path(path)
        if self.busy_times.get(path, 0) > 0:
            self.busy_times[path] -= 1
            raise busy(path)
        (path / "cgroup.procs").unlink(missing_ok=True)
        os.rmdir(path)
        self.removed.append(path)


def test_a_cgroup_released_late_is_removed_after_retries_children_first(tmp_path):
    root = cgroup_tree(tmp_path / "hcp-t", {"kubepods/besteffort/pod1/ctr": [4242]})
    container = root / "kubepods/besteffort/pod1/ctr"
    rmdir = FakeCgroupRmdir({container: 3})
    killed: list[int] = []
    clock = FakeClock()

    cgroups.remove_trees([root], rmdir=rmdir, kill=killed.append, sleep=clock.sleep, clock=clock)

    assert not root.exists()
    assert len(clock.sleeps) == 3
    assert 4242 in killed
    order = [p.relative_to(tmp_path) for p in rmdir.removed]
    for directory in order:
        assert all(order.index(child) < order.index(directory)
                   for child in order if child != directory and directory in child.parents)
    assert order[-1] == Path("hcp-t")


def test_a_cgroup_that_stays_busy_is_named_in_one_error_after_the_timeout(tmp_path):
    root = cgroup_tree(tmp_path / "hcp-t", {})
    container = root / "kubepods/besteffort/pod1/ctr"
    clock = FakeClock()

    with pytest.raises(teardown.TeardownError) as raised:
        cgroups.remove_trees([root], rmdir=FakeCgroupRmdir({container: 10**6}), kill=lambda pid: None,
                             timeout=30, interval=0.5, sleep=clock.sleep, clock=clock)

    assert str(raised.value) == f"cannot remove {container}: Device or resource busy (still busy after 30s)"
    assert 30 <= clock.now <= 31
    assert (root / "kubepods/burstable").exists() is False  # what could go, went


def test_an_error_waiting_cannot_fix_is_reported_at_once(tmp_path):
    root = cgroup_tree(tmp_path / "hcp-t", {})
    clock = FakeClock()

    def refuse(path: Path) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(path))

    with pytest.raises(teardown.TeardownError, match="Operation not permitted"):
        cgroups.remove_trees([root], rmdir=refuse, kill=lambda pid: None, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == []


def test_absent_cgroups_and_vanished_processes_are_fine(tmp_path):
    root = cgroup_tree(tmp_path / "hcp-t", {"kubepods/burstable": [1, 2]})

    def gone(pid: int) -> None:
        raise ProcessLookupError(pid)

    clock = FakeClock()
    cgroups.remove_trees([tmp_path / "absent", root], rmdir=FakeCgroupRmdir({}), kill=gone,
                         sleep=clock.sleep, clock=clock)
    assert not root.exists() and clock.sleeps == []


def test_kill_all_signals_every_process_of_the_node_in_every_hierarchy(tmp_path):
    config = ClusterConfig(name="t", subnet_index=1)
    for controller in ("blkio", "memory"):
        cgroup_tree(tmp_path / controller / "hcp-t", {".": [10], "kubepods/besteffort/pod1/ctr": [11]})
    (tmp_path / "pids" / "hcp-other").mkdir(parents=True)
    (tmp_path / "pids" / "hcp-other" / "cgroup.procs").write_text("99\n")
    killed: list[int] = []

    cgroups.kill_all(config, base=tmp_path, kill=killed.append)

    assert sorted(killed) == [10, 10, 11, 11]
    assert [p.name for p in cgroups.roots(config, base=tmp_path)] == ["hcp-t"] * 3


def test_a_state_dir_still_busy_for_a_moment_is_removed(tmp_path, monkeypatch):
    state = tmp_path / "state"
    (state / "pod-logs" / "ns_pod_uid" / "main").mkdir(parents=True)
    (state / "pod-logs" / "ns_pod_uid" / "main" / "0.log").write_text("line\n")
    real_rmdir = os.rmdir
    refusals = {"n": 2}

    def rmdir(path, *args, **kwargs):
        if refusals["n"] > 0:
            refusals["n"] -= 1
            raise busy(path)
        return real_rmdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", rmdir)
    clock = FakeClock()
    teardown.remove_tree(state, sleep=clock.sleep, clock=clock)
    assert not state.exists()
    assert len(clock.sleeps) == 2


def test_a_state_dir_that_stays_busy_names_the_path(tmp_path, monkeypatch):
    state = tmp_path / "state"
    (state / "kubelet").mkdir(parents=True)
    monkeypatch.setattr(shutil, "rmtree", lambda path, *a, **k: (_ for _ in ()).throw(busy(Path(path) / "kubelet")))
    clock = FakeClock()
    with pytest.raises(teardown.TeardownError, match=rf"cannot remove {state}/kubelet: Device or resource busy"):
        teardown.remove_tree(state, timeout=5, sleep=clock.sleep, clock=clock)


def test_the_cli_reports_an_os_error_as_one_line_and_exits_non_zero(tmp_path):
    """What a user sees when the host refuses: one `error:` line naming the path, no traceback."""
    state = tmp_path / "state"
    (state / "admin.kubeconfig").mkdir(parents=True)  # unreadable as a file: IsADirectoryError
    result = subprocess.run(
        [sys.executable, "-m", "hcp.cli", "management-cluster", "kubeconfig", "--state-dir", "state/../state"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == f"error: management-cluster kubeconfig: {state}/admin.kubeconfig: Is a directory\n"
