import hashlib
import os
import subprocess

import pytest

from hcp.backup.storage import DirectoryStorage, StorageError


@pytest.fixture
def storage(tmp_path):
    return DirectoryStorage(tmp_path / "backups")


def _file(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _leftovers(directory):
    return [p.name for p in directory.rglob("*") if ".partial-" in p.name]


def test_put_then_get_gives_the_same_bytes(storage, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    stored = storage.put("demo/etcd/snapshot.db", _file(tmp_path, "in", data))
    assert stored.key == "demo/etcd/snapshot.db"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.url == str(tmp_path / "backups" / "demo" / "etcd" / "snapshot.db")
    got = storage.get("demo/etcd/snapshot.db", tmp_path / "out" / "snapshot.db")
    assert (tmp_path / "out" / "snapshot.db").read_bytes() == data
    assert got.sha256 == stored.sha256 and got.size == len(data)
    assert _leftovers(tmp_path) == []


def test_the_recorded_hash_is_checked_by_sha256sum(storage, tmp_path):
    storage.put("a/object", _file(tmp_path, "in", b"hello"))
    check = subprocess.run(["sha256sum", "-c", "object.sha256"], cwd=storage.root / "a",
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_put_replaces_an_object(storage, tmp_path):
    storage.put("x", _file(tmp_path, "one", b"one"))
    storage.put("x", _file(tmp_path, "two", b"two two"))
    storage.get("x", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"two two"


def test_a_corrupt_object_is_refused_and_the_destination_kept(storage, tmp_path):
    storage.put("snap.db", _file(tmp_path, "in", b"A" * 1000))
    (storage.root / "snap.db").write_bytes(b"A" * 999 + b"B")
    destination = _file(tmp_path, "out", b"previous")
    with pytest.raises(StorageError, match=r"snap.db: the object is corrupt: its 1000 bytes have sha256 \w+, "
                                           r"not the recorded \w+"):
        storage.get("snap.db", destination)
    assert destination.read_bytes() == b"previous"
    assert _leftovers(tmp_path) == []


def test_a_truncated_object_is_refused(storage, tmp_path):
    storage.put("snap.db", _file(tmp_path, "in", b"A" * 1000))
    with open(storage.root / "snap.db", "r+b") as data:
        data.truncate(10)
    with pytest.raises(StorageError, match="the object is corrupt: its 10 bytes"):
        storage.get("snap.db", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_objects_and_hashes(storage, tmp_path):
    with pytest.raises(StorageError, match="backups/nothing: no such object"):
        storage.get("nothing", tmp_path / "out")
    storage.put("x", _file(tmp_path, "in", b"data"))
    (storage.root / "x.sha256").unlink()
    with pytest.raises(StorageError, match=r"backups/x: the object has no recorded sha256 \(x.sha256 is missing\)"):
        storage.get("x", tmp_path / "out")
    (storage.root / "x.sha256").write_text("not a hash\n")
    with pytest.raises(StorageError, match="the recorded sha256 in x.sha256 is unreadable"):
        storage.get("x", tmp_path / "out")


def test_list_by_prefix_newest_first(storage, tmp_path):
    source = _file(tmp_path, "in", b"data")
    for index, key in enumerate(["demo/2026-01-01.db", "demo/2026-01-03.db", "demo/2026-01-02.db",
                                 "other/2026-01-04.db", "demo-two/x.db"]):
        storage.put(key, source)
        os.utime(storage.root / key, (1_800_000_000 + index, 1_800_000_000 + index))
    assert [o.key for o in storage.list("demo/")] == [
        "demo/2026-01-02.db", "demo/2026-01-03.db", "demo/2026-01-01.db"]
    assert [o.key for o in storage.list("demo")] == [
        "demo-two/x.db", "demo/2026-01-02.db", "demo/2026-01-03.db", "demo/2026-01-01.db"]
    assert [o.key for o in storage.list("other/2026")] == ["other/2026-01-04.db"]
    assert storage.list("nothing/") == []
    everything = storage.list()
    assert len(everything) == 5 and everything[0].key == "demo-two/x.db"
    assert everything[0].size == 4 and everything[0].last_modified.timestamp() == 1_800_000_004
    assert all(o.sha256 is None and o.url.startswith(str(storage.root)) for o in everything)


def test_list_skips_what_is_not_a_complete_object(storage, tmp_path):
    storage.put("done", _file(tmp_path, "in", b"data"))
    (storage.root / "half").write_bytes(b"no hash yet")
    (storage.root / ".done.partial-123").write_bytes(b"in flight")
    (storage.root / ".hidden").mkdir()
    (storage.root / ".hidden" / "x").write_bytes(b"")
    assert [o.key for o in storage.list()] == ["done"]
    assert storage.exists("done") and not storage.exists("half") and not storage.exists("nothing")


def test_list_of_a_missing_directory_says_so(tmp_path):
    with pytest.raises(StorageError, match=f"{tmp_path}/nowhere: the directory does not exist"):
        DirectoryStorage(tmp_path / "nowhere").list()


def test_delete_removes_the_object_its_hash_and_empty_folders(storage, tmp_path):
    source = _file(tmp_path, "in", b"data")
    storage.put("a/b/c", source)
    storage.put("a/keep", source)
    storage.delete("a/b/c")
    assert not storage.exists("a/b/c")
    assert not (storage.root / "a" / "b").exists()
    assert storage.exists("a/keep")
    storage.delete("a/b/c")  # again: no error
    storage.delete("a/keep")
    assert storage.root.is_dir() and list(storage.root.iterdir()) == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", "a/.hidden", "x.sha256", "a\\b"])
def test_bad_keys_are_refused(storage, tmp_path, key):
    with pytest.raises(StorageError, match="not a valid object key|reserved"):
        storage.put(key, _file(tmp_path, "in", b"x"))


def test_unreadable_source_names_the_file(storage, tmp_path):
    with pytest.raises(StorageError, match=f"{tmp_path}/missing: no such file or directory"):
        storage.put("x", tmp_path / "missing")
    assert not storage.exists("x")


def test_unwritable_place_is_one_clear_error(tmp_path):
    blocker = _file(tmp_path, "file", b"")  # a file where the directory should be
    with pytest.raises(StorageError, match="not a directory|file exists"):
        DirectoryStorage(blocker / "sub").put("x", _file(tmp_path, "in", b"x"))
