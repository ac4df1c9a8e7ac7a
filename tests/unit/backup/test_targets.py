from pathlib import Path

import pytest

from hcp.backup.storage import (
    DirectoryStorage,
    DirectoryTarget,
    S3Config,
    S3Storage,
    S3Target,
    StorageError,
    open_storage,
    parse_target,
)


@pytest.mark.parametrize("text,bucket,prefix", [
    ("s3://backups", "backups", ""),
    ("s3://backups/", "backups", ""),
    ("s3://backups/clusters/demo", "backups", "clusters/demo"),
    ("s3://backups/clusters/demo/", "backups", "clusters/demo"),
    ("S3://my.bucket-1/x", "my.bucket-1", "x"),
    ("  s3://abc/etcd  ", "abc", "etcd"),
])
def test_s3_targets(text, bucket, prefix):
    assert parse_target(text) == S3Target(bucket, prefix)


def test_s3_target_prints_as_its_url():
    assert str(parse_target("s3://b1b/a/b/")) == "s3://b1b/a/b"
    assert str(parse_target("s3://b1b")) == "s3://b1b"


@pytest.mark.parametrize("text,message", [
    ("s3://", "no bucket"),
    ("s3:///prefix", "no bucket"),
    ("s3://Backups", "not a valid bucket name"),
    ("s3://ab", "not a valid bucket name"),
    ("s3://-ab", "not a valid bucket name"),
    ("s3://a..b", "not a valid bucket name"),
    ("s3://192.168.1.1", "not a valid bucket name"),
    ("s3://" + "a" * 64, "not a valid bucket name"),
    ("s3://bucket/a/../b", "not a valid object key"),
    ("s3://bucket/a//b", "not a valid object key"),
    ("s3://bucket/.hidden", "not a valid object key"),
    ("gs://bucket/x", "unsupported backup target"),
    ("https://s3.example.com/bucket", "unsupported backup target"),
    ("file://relative/dir", "absolute path"),
    ("", "no backup target"),
    ("   ", "no backup target"),
])
def test_bad_targets_say_why(text, message):
    with pytest.raises(StorageError, match=message):
        parse_target(text)


def test_directories(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert parse_target("/var/backups/hcp") == DirectoryTarget(Path("/var/backups/hcp"))
    assert parse_target("backups") == DirectoryTarget(tmp_path / "backups")
    assert parse_target("./a/b/") == DirectoryTarget(tmp_path / "a" / "b")
    assert parse_target("~/hcp") == DirectoryTarget(tmp_path / "home" / "hcp")
    assert parse_target("file:///srv/backups") == DirectoryTarget(Path("/srv/backups"))


def test_open_storage(tmp_path):
    storage = open_storage(str(tmp_path / "dir"))
    assert isinstance(storage, DirectoryStorage) and storage.url() == str(tmp_path / "dir")
    s3 = open_storage("s3://bucket/pre", S3Config("key", "secret", "https://127.0.0.1:7070"))
    assert isinstance(s3, S3Storage) and s3.url("x/y") == "s3://bucket/pre/x/y"
    with pytest.raises(StorageError, match="s3://bucket/pre: no S3 endpoint and credentials given"):
        open_storage("s3://bucket/pre")


def test_s3_urls_and_keys():
    config = S3Config("key", "secret", "https://127.0.0.1:7070/")
    assert S3Storage(config, "bucket").url() == "s3://bucket"
    assert S3Storage(config, "bucket").url("a/b") == "s3://bucket/a/b"
    storage = S3Storage(config, "bucket", "/clusters/demo/")
    assert storage.url() == "s3://bucket/clusters/demo"
    assert storage._key("etcd/1.db") == "clusters/demo/etcd/1.db"
    assert storage.endpoint == "https://127.0.0.1:7070"
    with pytest.raises(StorageError, match="not a valid object key"):
        storage._key("../x")
    # Parsing an object's URL gives back its bucket and full key.
    assert parse_target(storage.url("etcd/1.db")) == S3Target("bucket", "clusters/demo/etcd/1.db")


def test_s3_settings_are_checked_before_any_request(tmp_path):
    with pytest.raises(StorageError, match="an S3 endpoint is an https:// .*URL with a host"):
        S3Storage(S3Config("k", "s", "127.0.0.1:7070"), "bucket")
    with pytest.raises(StorageError, match="has no path"):
        S3Storage(S3Config("k", "s", "https://host:7070/bucket"), "bucket")
    with pytest.raises(StorageError, match="the CA bundle for https://host:7070 does not exist"):
        S3Storage(S3Config("k", "s", "https://host:7070", ca_file=tmp_path / "missing.crt"), "bucket")
    with pytest.raises(StorageError, match="not a valid bucket name"):
        S3Storage(S3Config("k", "s", "https://host:7070"), "UPPER")


def test_aws_is_the_default_endpoint():
    storage = S3Storage(S3Config("k", "s", region="eu-west-1"), "bucket")
    assert storage.endpoint == "https://s3.eu-west-1.amazonaws.com"


def test_the_secret_key_is_not_shown():
    assert "hunter2" not in repr(S3Config("k", "hunter2", "https://h"))
