"""The S3 storage of backups against the real object store: versitygw built from its Go module,
started on loopback with TLS from a fresh CA, a temporary data dir, and root credentials."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hcp.backup import objectstore
from hcp.backup.objectstore import Credentials, ObjectStoreServer
from hcp.backup.storage import S3Config, S3Storage, StorageError
from hcp.upstream import binaries
from hcp.pki import new_ca
from tests.integration.ports import free_port

pytestmark = pytest.mark.integration

BUCKET = "hcp-backups"


@dataclass
class Store:
    server: ObjectStoreServer
    credentials: Credentials
    ca_file: Path
    work: Path
    process: subprocess.Popen
    log: Path

    def config(self, **changes) -> S3Config:
        settings = {"access_key": self.credentials.access_key, "secret_key": self.credentials.secret_key,
                    "endpoint": self.server.endpoint(), "ca_file": self.ca_file, **changes}
        return S3Config(**settings)

    def storage(self, prefix: str = "", bucket: str = BUCKET, **changes) -> S3Storage:
        return S3Storage(self.config(**changes), bucket, prefix)

    def restart(self) -> None:
        objectstore.stop(self.process)
        self.process = objectstore.start(self.server, self.credentials, self.log)
        objectstore.wait_ready(self.server, self.process, self.log, self.ca_file)


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    try:
        binary = objectstore.ensure_binary()
    except (binaries.BuildError, OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"versitygw cannot be built here: {error}")
    work = Path(tempfile.mkdtemp(prefix="hcp-object-store-"))
    running: list[Store] = []
    try:
        ca = new_ca("hcp-test-object-store-ca")
        certificate = objectstore.server_certificate(ca)
        (work / "ca.crt").write_bytes(ca.cert_pem)
        (work / "server.crt").write_bytes(certificate.cert_pem)
        (work / "server.key").write_bytes(certificate.key_pem)
        server = ObjectStoreServer(binary, work / "data", f"127.0.0.1:{free_port()}",
                                   work / "server.crt", work / "server.key")
        credentials = objectstore.load_or_create_credentials(work / "credentials.json")
        log = work / "versitygw.log"
        process = objectstore.start(server, credentials, log)
        running.append(Store(server, credentials, work / "ca.crt", work, process, log))
        objectstore.wait_ready(server, process, log, work / "ca.crt")
        running[0].storage().create_bucket()
        yield running[0]
    finally:
        for each in running:
            objectstore.stop(each.process)
        shutil.rmtree(work, ignore_errors=True)


def _file(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_put_get_list_delete(store, tmp_path):
    storage = store.storage("clusters/demo")
    small = b"etcd snapshot\n" * 100
    large = os.urandom(6 * 1024 * 1024 + 1)  # more than one part: a multipart upload keeps the metadata too
    put_small = storage.put("etcd/2026-01-01.db", _file(tmp_path, "small", small))
    put_large = storage.put("etcd/2026-01-02.db", _file(tmp_path, "large", large))
    storage.put("objects/manifest.json", _file(tmp_path, "manifest", b"{}"))
    assert put_small.sha256 == hashlib.sha256(small).hexdigest() and put_small.size == len(small)
    assert put_large.sha256 == hashlib.sha256(large).hexdigest() and put_large.size == len(large)
    assert put_large.url == "s3://hcp-backups/clusters/demo/etcd/2026-01-02.db"
    # The server keeps the bytes as a plain file in its data dir.
    assert store.server.object_path(BUCKET, "clusters/demo/etcd/2026-01-02.db").read_bytes() == large

    got = storage.get("etcd/2026-01-02.db", tmp_path / "restored" / "snapshot.db")
    assert (tmp_path / "restored" / "snapshot.db").read_bytes() == large
    assert got.sha256 == put_large.sha256

    listed = storage.list("etcd/")
    assert [o.key for o in listed] == ["etcd/2026-01-02.db", "etcd/2026-01-01.db"]  # newest first
    assert listed[0].size == len(large) and listed[0].url == put_large.url
    assert {o.key for o in storage.list()} == {"etcd/2026-01-01.db", "etcd/2026-01-02.db", "objects/manifest.json"}
    assert [o.key for o in store.storage().list("clusters/demo/objects")] == ["clusters/demo/objects/manifest.json"]
    assert store.storage("clusters/other").list() == []

    assert storage.exists("etcd/2026-01-01.db") and not storage.exists("etcd/nothing.db")
    storage.delete("etcd/2026-01-01.db")
    storage.delete("etcd/2026-01-01.db")  # gone already: no error
    assert not storage.exists("etcd/2026-01-01.db")
    assert [o.key for o in storage.list("etcd/")] == ["etcd/2026-01-02.db"]
    with pytest.raises(StorageError, match=r"^s3://hcp-backups/clusters/demo/etcd/2026-01-01.db: no such object$"):
        storage.get("etcd/2026-01-01.db", tmp_path / "out")


def test_objects_survive_a_restart_of_the_server(store, tmp_path):
    storage = store.storage("restart")
    storage.put("kept.db", _file(tmp_path, "in", b"kept"))
    store.restart()
    assert [o.key for o in storage.list()] == ["kept.db"]
    storage.get("kept.db", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"kept"


def test_an_object_changed_on_disk_is_detected(store, tmp_path):
    storage = store.storage("corrupt")
    data = b"A" * 100_000
    storage.put("snapshot.db", _file(tmp_path, "in", data))
    on_disk = store.server.object_path(BUCKET, "corrupt/snapshot.db")
    with on_disk.open("r+b") as stored:  # one byte flipped, same size
        stored.seek(50_000)
        stored.write(b"B")
    destination = _file(tmp_path, "out", b"previous")
    with pytest.raises(StorageError, match=r"^s3://hcp-backups/corrupt/snapshot.db: the object is corrupt: "
                                           r"its 100000 bytes have sha256 [0-9a-f]{64}, not the recorded "
                                           + hashlib.sha256(data).hexdigest() + "$"):
        storage.get("snapshot.db", destination)
    assert destination.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []

    with on_disk.open("r+b") as stored:
        stored.truncate(1000)
    with pytest.raises(StorageError, match=r"snapshot.db: the object is truncated: 1000 of 100000 bytes$"):
        storage.get("snapshot.db", destination)
    assert destination.read_bytes() == b"previous"


def test_other_bytes_under_the_old_hash_are_detected(store, tmp_path):
    storage = store.storage("replaced")
    original = storage.put("snapshot.db", _file(tmp_path, "in", b"the real snapshot"))
    other = b"something else, same length"
    storage._client.put_object(BUCKET, "replaced/snapshot.db", io.BytesIO(other), len(other),
                               metadata={"sha256": original.sha256})
    with pytest.raises(StorageError, match="replaced/snapshot.db: the object is corrupt"):
        storage.get("snapshot.db", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_object_without_a_recorded_hash_is_refused(store, tmp_path):
    storage = store.storage("foreign")
    storage._client.put_object(BUCKET, "foreign/x.db", io.BytesIO(b"x"), 1)
    with pytest.raises(StorageError, match=r"^s3://hcp-backups/foreign/x.db: the object has no recorded sha256"):
        storage.get("x.db", tmp_path / "out")


def test_a_missing_bucket_is_one_clear_line(store, tmp_path):
    storage = store.storage("x", bucket="no-such-bucket")
    source = _file(tmp_path, "in", b"data")
    for operation in (lambda: storage.put("a.db", source), lambda: storage.get("a.db", tmp_path / "out"),
                      lambda: storage.list(), lambda: storage.exists("a.db"), lambda: storage.delete("a.db")):
        with pytest.raises(StorageError) as error:
            operation()
        assert str(error.value) == "s3://no-such-bucket: the bucket does not exist"
    assert not storage.bucket_exists() and store.storage().bucket_exists()


@pytest.mark.parametrize("changes,message", [
    ({"access_key": "nobody"}, "s3://hcp-backups: the endpoint does not know the access key 'nobody' (wrong access key)"),
    ({"secret_key": "wrong"}, "s3://hcp-backups: the secret key does not match the access key '{access}' "
                              "(wrong secret key)"),
])
def test_wrong_credentials_are_one_clear_line(store, tmp_path, changes, message):
    storage = store.storage("creds", **changes)
    store.storage("creds").put("a.db", _file(tmp_path, "in", b"data"))
    expected = message.format(access=store.credentials.access_key)
    for operation in (lambda: storage.put("b.db", tmp_path / "in"), lambda: storage.get("a.db", tmp_path / "out"),
                      lambda: storage.list(), lambda: storage.exists("a.db"), lambda: storage.delete("a.db")):
        with pytest.raises(StorageError) as error:
            operation()
        assert str(error.value) == expected
    assert store.storage("creds").exists("a.db")


def test_an_untrusted_certificate_and_an_unreachable_endpoint(store):
    untrusted = store.storage(ca_file=None)  # the public roots do not hold the test CA
    with pytest.raises(StorageError, match=r"^s3://hcp-backups: cannot reach https://127.0.0.1:\d+: its TLS "
                                           r"certificate is not trusted: .* \(check the CA bundle\)$"):
        untrusted.list()
    closed = store.storage(endpoint=f"https://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match=r"^s3://hcp-backups: cannot reach https://127.0.0.1:\d+: "
                                           r"the connection was refused \(is the server running\?\)$"):
        closed.list()
