"""restoreSnapshotURL: the restore init containers, the condition a failed restore gives, and the rendered
restore command run for real against a snapshot of a scratch etcd on loopback."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from hcp.controlplane.components.component import container
from hcp.controlplane.components.etcd import adapter as etcd
from hcp.controlplane.context import RenderError
from hcp.controlplane.controller import etcd_condition

URL = "https://s3.example.com/hcp-backups/snap.db?X-Amz-Signature=abc"


def _with_restore(ctx, urls, **changes):
    hcp = ctx.hcp.model_copy(deep=True)
    # Set past validation: the model (and the CRD's CEL rule) already refuse two URLs; the renderer too.
    object.__setattr__(hcp.spec.etcd.managed.storage, "restore_snapshot_url", urls)
    return dataclasses.replace(ctx, hcp=hcp, **changes)


def _pod(objects):
    return next(o for o in objects if o["kind"] == "StatefulSet")["spec"]["template"]["spec"]


def test_without_a_url_there_is_no_restore(ha_ctx):
    names = [c["name"] for c in _pod(etcd.render(ha_ctx))["initContainers"]]
    assert names == ["reset-member"]


def test_restore_runs_after_reset_member_and_matches_the_member_flags(ha_ctx):
    pod = _pod(etcd.render(_with_restore(ha_ctx, [URL])))
    assert [c["name"] for c in pod["initContainers"]] == ["reset-member", "restore-fetch", "restore-snapshot"]
    fetch, restore = container(pod, "restore-fetch"), container(pod, "restore-snapshot")
    assert fetch["image"] == ha_ctx.operator_image and f"--url={URL}" in fetch["command"]
    flags = container(pod, "etcd")["args"]
    for flag in restore["args"]:
        assert flag in flags, flag
    assert "etcd-2=https://etcd-2.etcd-discovery.clusters-example.svc:2380" in restore["args"][1]
    assert all(c["terminationMessagePolicy"] == "FallbackToLogsOnError" for c in (fetch, restore))
    volume = next(v for v in pod["volumes"] if v["name"] == "restore-credentials")
    assert volume["secret"] == {"secretName": "etcd-restore-credentials", "optional": True, "defaultMode": 0o640}


def test_the_api_refuses_two_urls(ha_ctx):
    with pytest.raises(ValueError, match="at most 1 item"):
        ha_ctx.hcp.spec.etcd.managed.storage.restore_snapshot_url = [URL, URL]


def test_more_than_one_url_or_no_operator_image_is_a_render_error(ha_ctx, single_ctx):
    with pytest.raises(RenderError, match="must not contain more than 1 entry"):
        etcd.render(_with_restore(ha_ctx, [URL, URL]))
    with pytest.raises(RenderError, match="operator image"):
        etcd.render(_with_restore(single_ctx, [URL], operator_image=""))


def _status(name, state, last=None):
    return {"name": name, "state": state, "lastState": last or {}}


def _etcd_pod(name, *statuses):
    return {"metadata": {"name": name}, "status": {"initContainerStatuses": list(statuses)}}


def test_a_failed_restore_is_its_termination_message():
    failed = {"terminated": {"exitCode": 1, "message": "etcd restore: cannot fetch the snapshot x: HTTP 403 Forbidden\n"}}
    pods = [
        _etcd_pod("etcd-1", _status("reset-member", {"terminated": {"exitCode": 0}}),
                  _status("restore-fetch", {"waiting": {"reason": "CrashLoopBackOff"}}, failed)),
        _etcd_pod("etcd-0", _status("restore-fetch", {"running": {}})),
    ]
    assert etcd.restore_failure(pods) == "etcd-1: etcd restore: cannot fetch the snapshot x: HTTP 403 Forbidden"
    assert etcd_condition(False, etcd.restore_failure(pods)) == (
        False, "EtcdRestoreFailed",
        "restoring restoreSnapshotURL failed: etcd-1: etcd restore: cannot fetch the snapshot x: HTTP 403 Forbidden")


def test_a_restore_that_failed_before_but_runs_again_is_not_a_failure():
    failed = {"terminated": {"exitCode": 1, "message": "boom"}}
    assert etcd.restore_failure([_etcd_pod("etcd-0", _status("restore-snapshot", {"running": {}}, failed))]) is None
    assert etcd.restore_failure([_etcd_pod("etcd-0", _status("restore-snapshot", {"terminated": {"exitCode": 0}}))]) \
        is None
    assert etcd.restore_failure([{"metadata": {"name": "etcd-0"}}]) is None


def test_a_failure_without_a_message_names_the_container():
    pod = _etcd_pod("etcd-0", _status("restore-snapshot", {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}))
    assert etcd.restore_failure([pod]) == "etcd-0: init container restore-snapshot failed with exit code 137 (OOMKilled)"


def test_etcd_available_and_waiting_are_unchanged():
    assert etcd_condition(True, None)[1] == "QuorumAvailable"
    assert etcd_condition(False, None)[1] == "EtcdWaitingForQuorum"


# --- the rendered restore, for real: etcd on loopback ---------------------------------------------------


def _binaries() -> Path | None:
    try:
        from hcp.upstream.binaries import binary
        return binary("etcd", "etcdutl").parent
    except Exception:  # noqa: BLE001 - not cached, not buildable here
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _etcd(bin_dir: Path, data_dir: Path, name: str, peer: str, client: int, initial_cluster: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(bin_dir / "etcd"), f"--name={name}", f"--data-dir={data_dir}",
         f"--listen-client-urls=http://127.0.0.1:{client}", f"--advertise-client-urls=http://127.0.0.1:{client}",
         f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
         f"--initial-cluster={initial_cluster}", f"--initial-cluster-token={etcd.CLUSTER_TOKEN}",
         "--listen-metrics-urls=", "--log-level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _etcdctl(bin_dir: Path, client: int, *args: str) -> str:
    deadline = time.monotonic() + 20
    while True:
        done = subprocess.run([str(bin_dir / "etcdctl"), f"--endpoints=http://127.0.0.1:{client}",
                               "--dial-timeout=2s", *args], capture_output=True, text=True)
        if done.returncode == 0 or time.monotonic() > deadline:
            assert done.returncode == 0, done.stderr
            return done.stdout
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a shell")
def test_the_rendered_restore_command_restores_a_snapshot_etcd_then_serves(single_ctx, tmp_path):
    bin_dir = _binaries()
    if bin_dir is None or not (bin_dir / "etcdctl").exists():
        pytest.skip("etcd binaries are not cached")
    # A scratch etcd holding a key, and a snapshot of it.
    client, peer_port = _free_port(), _free_port()
    peer = f"http://127.0.0.1:{peer_port}"
    source = _etcd(bin_dir, tmp_path / "source", "source", peer, client, f"source={peer}")
    try:
        _etcdctl(bin_dir, client, "put", "/registry/configmaps/default/before-backup", "kept")
        _etcdctl(bin_dir, client, "snapshot", "save", str(tmp_path / "snapshot.db"))
    finally:
        _stop(source)

    # The restore-snapshot container as rendered, but with its paths under tmp_path and loopback peer URLs.
    pod = _pod(etcd.render(_with_restore(single_ctx, [URL], operator_image="operator:1")))
    restore = container(pod, "restore-snapshot")
    lib = tmp_path / "var-lib"
    (lib / "etcd-restore").mkdir(parents=True)
    shutil.copy(tmp_path / "snapshot.db", lib / "etcd-restore/snapshot.db")
    peer_port = _free_port()
    member_peer = f"http://127.0.0.1:{peer_port}"
    script = (restore["command"][2].replace("/var/lib", str(lib))
              .replace("/dev/termination-log", str(tmp_path / "termination-log")))
    args = [arg.replace("$(POD_NAME)", "etcd-0") for arg in restore["args"]]
    rendered_peer = etcd.member_url(single_ctx, "etcd-0", etcd.PEER_PORT)
    args = [arg.replace(rendered_peer, member_peer) for arg in args]
    env = {**os.environ, "POD_NAME": "etcd-0", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-c", script, "etcdutl", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (lib / "data/member/snap/db").exists() and not (lib / "etcd-restore").exists()

    # Run again (a restarted pod): nothing happens to the data.
    again = subprocess.run(["sh", "-c", script, "etcdutl", *args], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "nothing to restore" in again.stdout

    client = _free_port()
    member = _etcd(bin_dir, lib / "data", "etcd-0", member_peer, client, f"etcd-0={member_peer}")
    try:
        value = _etcdctl(bin_dir, client, "get", "/registry/configmaps/default/before-backup", "--print-value-only")
        assert value.strip() == "kept"
    finally:
        _stop(member)


def test_a_corrupt_snapshot_leaves_one_line_and_no_data(single_ctx, tmp_path):
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("etcd binaries are not cached")
    restore = container(_pod(etcd.render(_with_restore(single_ctx, [URL], operator_image="operator:1"))),
                        "restore-snapshot")
    lib = tmp_path / "var-lib"
    (lib / "etcd-restore").mkdir(parents=True)
    (lib / "etcd-restore/snapshot.db").write_bytes(b"not a snapshot" * 100)
    script = (restore["command"][2].replace("/var/lib", str(lib))
              .replace("/dev/termination-log", str(tmp_path / "termination-log")))
    args = [arg.replace("$(POD_NAME)", "etcd-0") for arg in restore["args"]]
    env = {**os.environ, "POD_NAME": "etcd-0", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-c", script, "etcdutl", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    message = (tmp_path / "termination-log").read_text()
    assert message.startswith("etcd restore: etcdutl snapshot restore failed: ") and message.count("\n") == 1
    assert not (lib / "data").exists() and not (lib / "etcd-restore").exists()
