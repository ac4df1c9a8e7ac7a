"""`hcp backup verify`'s logic against a real snapshot: etcd on loopback, etcdctl snapshot save, etcdutl restore."""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hcp.backup import verify
from hcp.backup.storage import DirectoryStorage
from hcp.backup.verify import VerifyError
from hcp.upstream.binaries import BuildError, binary


def _tools() -> dict[str, Path] | None:
    try:
        tools = {name: binary("etcd", name) for name in ("etcd", "etcdctl", "etcdutl")}
    except BuildError:
        return None
    return tools if all(path.exists() for path in tools.values()) else None


TOOLS = _tools()
pytestmark = pytest.mark.skipif(TOOLS is None, reason="etcd is not built (hcp management-cluster up builds it)")
KEYS = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_snapshot(tmp_path_factory) -> Path:
    """A snapshot of a one-member etcd on loopback holding KEYS keys of ours (about a second)."""
    work = tmp_path_factory.mktemp("etcd")
    client, peer = _free_port(), _free_port()
    log = (work / "etcd.log").open("w")
    etcd = subprocess.Popen(
        [str(TOOLS["etcd"]), "--data-dir", str(work / "data"), "--name", "test",
         "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"test=http://127.0.0.1:{peer}"], stdout=log, stderr=subprocess.STDOUT)
    ctl = [str(TOOLS["etcdctl"]), "--endpoints", f"127.0.0.1:{client}"]
    try:
        deadline = time.monotonic() + 10
        while subprocess.run([*ctl, "put", "/registry/k0", "v"], capture_output=True).returncode != 0:
            assert etcd.poll() is None and time.monotonic() < deadline, (work / "etcd.log").read_text()[-2000:]
            time.sleep(0.1)
        for i in range(1, KEYS):
            subprocess.run([*ctl, "put", f"/registry/k{i}", "v" * i], check=True, capture_output=True)
        subprocess.run([*ctl, "snapshot", "save", str(work / "snapshot.db")], check=True, capture_output=True)
    finally:
        etcd.terminate()
        etcd.wait(10)
        log.close()
    return work / "snapshot.db"


def _scratch_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("hcp-verify-*")}


@pytest.fixture(autouse=True)
def own_temp_dir(tmp_path, monkeypatch):
    """Scratch directories go under this test's own temp dir, so that another process verifying a snapshot at the
    same time (a parallel test worker) neither adds to nor removes from what the test counts."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))


def test_a_real_snapshot_restores_and_reports_its_revision_and_keys(real_snapshot):
    before = _scratch_dirs()
    report = verify.verify(str(real_snapshot), TOOLS["etcdutl"])
    assert report.total_key == KEYS
    assert report.revision == KEYS + 1
    assert report.size == real_snapshot.stat().st_size
    assert report.hash > 0 and len(report.sha256) == 64
    assert "keys:      25" in "\n".join(report.lines())
    assert _scratch_dirs() == before


def test_a_snapshot_stored_in_a_directory_is_checked_against_its_recorded_sha256(real_snapshot, tmp_path):
    store = DirectoryStorage(tmp_path / "store")
    store.put("1765000000.db", real_snapshot)
    assert verify.verify(str(tmp_path / "store" / "1765000000.db"), TOOLS["etcdutl"]).total_key == KEYS
    # flip a byte: the recorded sha256 refuses it before etcd sees it
    stored = tmp_path / "store" / "1765000000.db"
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF
    stored.write_bytes(bytes(data))
    with pytest.raises(VerifyError, match="corrupt"):
        verify.verify(str(stored), TOOLS["etcdutl"])


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-checksum", "garbage", "empty"])
def test_a_damaged_snapshot_is_refused_in_one_line_and_leaves_no_scratch(real_snapshot, tmp_path, damage):
    data = bytearray(real_snapshot.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "no-checksum":
        data = data[:-32]
    elif damage == "garbage":
        data = bytearray(b"not a snapshot" * 100)
    else:
        data = bytearray()
    bad = tmp_path / "bad.db"
    bad.write_bytes(bytes(data))
    before = _scratch_dirs()
    with pytest.raises(VerifyError) as error:
        verify.verify(str(bad), TOOLS["etcdutl"])
    message = str(error.value)
    assert "\n" not in message and str(bad) in message
    assert _scratch_dirs() == before


def test_sources_are_s3_urls_or_files(tmp_path):
    assert verify.parse_source("s3://hcp-backups/clusters-demo/1765000000.db") == (
        "hcp-backups", "clusters-demo", "1765000000.db")
    assert verify.parse_source("s3://hcp-backups/1.db") == ("hcp-backups", "", "1.db")
    assert verify.parse_source(f"file://{tmp_path}/x.db") == tmp_path / "x.db"
    for bad in ("s3://Bad_Bucket/x.db", "s3://hcp-backups/", "https://example.com/x.db", ""):
        with pytest.raises(VerifyError):
            verify.parse_source(bad)
    with pytest.raises(VerifyError, match="no such file"):
        verify.verify(str(tmp_path / "missing.db"), Path("/nonexistent/etcdutl"))
    with pytest.raises(VerifyError, match="no credentials"):
        verify.verify("s3://hcp-backups/clusters-demo/1.db", Path("/nonexistent/etcdutl"))
