import hashlib
import json
from pathlib import Path

import pytest

from hcp.backup import upload
from hcp.backup.credentials import render_credentials_file
from hcp.backup.storage import DirectoryStorage, S3Storage
from hcp.backup.termination import MAX_MESSAGE
from hcp.backup.upload import SnapshotReport, SnapshotStatus, UploadError

NOW = 1_765_000_000.7


DATABASE = b"etcd database bytes"


def snapshot(tmp_path: Path, database: bytes = DATABASE, checksum: bytes | None = None) -> tuple[Path, Path]:
    """A snapshot as etcd streams it: the database, then the sha256 of the database."""
    data = tmp_path / "backup" / "snapshot.db"
    data.parent.mkdir(exist_ok=True)
    data.write_bytes(database + (hashlib.sha256(database).digest() if checksum is None else checksum))
    status = data.with_name("status.json")
    status.write_text(json.dumps({"hash": 1234, "revision": 4711, "totalKey": 1033, "totalSize": len(database),
                                  "version": "3.6.0"}))
    return data, status


def test_the_snapshot_is_stored_under_the_prefix_as_hypershift_names_it(tmp_path):
    data, status = snapshot(tmp_path)
    storage = DirectoryStorage(tmp_path / "store" / "clusters-demo")
    report = upload.upload(data, upload.read_snapshot_status(status), storage, NOW)
    assert report.snapshot_url == str(tmp_path / "store" / "clusters-demo" / "1765000000.db")
    assert (report.size, report.revision, report.total_key, report.etcd_version) == (51, 4711, 1033, "3.6.0")
    assert storage.get("1765000000.db", tmp_path / "back").sha256 == report.sha256
    assert (tmp_path / "back").read_bytes() == DATABASE + hashlib.sha256(DATABASE).digest()


def test_the_report_is_one_line_of_json_in_the_termination_message():
    report = SnapshotReport("s3://hcp-backups/clusters-demo/1765000000.db", "ab" * 32, 19, 4711, 1033, "3.6.0")
    message = report.to_message()
    assert "\n" not in message and len(message) < MAX_MESSAGE
    assert json.loads(message) == {"snapshotURL": "s3://hcp-backups/clusters-demo/1765000000.db", "sha256": "ab" * 32,
                                   "size": 19, "revision": 4711, "totalKey": 1033, "etcdVersion": "3.6.0"}
    assert SnapshotReport.from_message(message) == report
    assert SnapshotReport.from_message("cannot store the snapshot: s3://x: the bucket does not exist") is None
    assert SnapshotReport.from_message('{"snapshotURL": "s3://x/y"}') is None
    assert report.describe() == ("s3://hcp-backups/clusters-demo/1765000000.db (19 bytes, sha256 " + "ab" * 32
                                 + ", etcd revision 4711, 1033 keys)")


@pytest.mark.parametrize(("status", "message"), [
    (None, "status .* is missing: etcdutl snapshot status did not run"),
    ("not json", "is not etcdutl's JSON"),
    ('{"revision": 1}', "is not etcdutl's JSON"),
])
def test_a_missing_or_unreadable_status_is_refused(tmp_path, status, message):
    path = tmp_path / "status.json"
    if status is not None:
        path.write_text(status)
    with pytest.raises(UploadError, match=message):
        upload.read_snapshot_status(path)


def test_a_truncated_or_corrupt_snapshot_is_not_stored(tmp_path):
    data, _ = snapshot(tmp_path)
    storage = DirectoryStorage(tmp_path / "store")
    with pytest.raises(UploadError, match=r"has 51 bytes, but etcdutl read a database of 4096 \(plus 32 bytes"):
        upload.upload(data, SnapshotStatus(1, 1, 4096, ""), storage, NOW)
    with pytest.raises(UploadError, match="missing: etcdctl snapshot save did not write it"):
        upload.upload(tmp_path / "none.db", SnapshotStatus(1, 1, 19, ""), storage, NOW)
    corrupt, _ = snapshot(tmp_path, checksum=b"\0" * 32)
    with pytest.raises(UploadError, match="is corrupt: its database does not match the sha256 etcd appended"):
        upload.upload(corrupt, SnapshotStatus(1, 1, len(DATABASE), ""), storage, NOW)
    assert not (tmp_path / "store").exists()


def test_a_snapshot_without_etcds_checksum_is_whole_when_etcdutl_read_all_of_it(tmp_path):
    data, _ = snapshot(tmp_path, checksum=b"")
    report = upload.upload(data, SnapshotStatus(1, 1, len(DATABASE), ""), DirectoryStorage(tmp_path / "s"), NOW)
    assert report.size == len(DATABASE)


def credentials_dir(tmp_path: Path, **files: bytes) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir(parents=True)
    for key, value in files.items():
        (directory / key.replace("_", ".")).write_bytes(value)
    return directory


def test_s3_storage_from_the_mounted_secret(tmp_path):
    ca = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    directory = credentials_dir(tmp_path, credentials=render_credentials_file("ak", "sk", "https://172.30.1.2:7070")
                                .encode(), ca_crt=ca)
    storage = upload.s3_storage(directory, "hcp-backups", "us-east-1", "clusters-demo/")
    assert isinstance(storage, S3Storage)
    assert storage.url("1.db") == "s3://hcp-backups/clusters-demo/1.db"
    assert (storage.config.endpoint, storage.config.ca_file) == ("https://172.30.1.2:7070", directory / "ca.crt")
    with pytest.raises(UploadError, match="has no key 'credentials'"):
        upload.s3_storage(credentials_dir(tmp_path / "x"), "hcp-backups", "us-east-1", "p")
    with pytest.raises(UploadError, match="not a valid object key"):
        upload.s3_storage(directory, "hcp-backups", "us-east-1", "a//b")


def run_main(tmp_path, monkeypatch, storage) -> tuple[int, Path, Path, Path]:
    data, status = snapshot(tmp_path)
    log = tmp_path / "termination-log"
    monkeypatch.setattr(upload, "s3_storage", lambda *args: storage)
    code = upload.main(["--snapshot", str(data), "--snapshot-status", str(status), "--bucket", "hcp-backups",
                        "--region", "us-east-1", "--key-prefix", "clusters-demo",
                        "--credentials-dir", str(tmp_path), "--termination-log", str(log)], now=NOW)
    return code, log, data, status


def test_main_reports_the_stored_snapshot_and_removes_it_from_the_volume(tmp_path, monkeypatch, capsys):
    code, log, data, status = run_main(tmp_path, monkeypatch, DirectoryStorage(tmp_path / "store"))
    assert code == 0
    report = SnapshotReport.from_message(log.read_text())
    assert report.snapshot_url.endswith("/store/1765000000.db") and report.revision == 4711
    assert not data.exists() and not status.exists()
    assert "etcd backup stored: " in capsys.readouterr().out


class Refusing(DirectoryStorage):
    def put(self, key, source):
        from hcp.backup.storage import StorageError
        raise StorageError("s3://hcp-backups: the secret key does not match the access key 'ak' (wrong secret key)")


def test_main_reports_a_failure_in_one_line_and_still_removes_the_snapshot(tmp_path, monkeypatch, capsys):
    code, log, data, _ = run_main(tmp_path, monkeypatch, Refusing(tmp_path / "store"))
    assert code == 1
    assert log.read_text() == ("cannot store the snapshot: s3://hcp-backups: the secret key does not match the "
                               "access key 'ak' (wrong secret key)")
    assert not data.exists()
    assert "etcd backup failed: cannot store the snapshot" in capsys.readouterr().err
