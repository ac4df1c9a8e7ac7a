"""python -m hcp.backup.restore: when a member restores, fetching the snapshot, and the line a failure leaves."""

from __future__ import annotations

import io
import urllib.error
from pathlib import Path

import pytest

from hcp.backup import restore


def test_a_member_with_data_never_restores(tmp_path):
    (tmp_path / "member/snap").mkdir(parents=True)
    (tmp_path / "member/snap/db").write_bytes(b"x")
    assert not restore.decide(tmp_path, "new").restore


def test_a_member_joining_a_running_cluster_never_restores(tmp_path):
    decision = restore.decide(tmp_path, "existing\n")
    assert not decision.restore and "joins the running cluster" in decision.reason


def test_an_empty_member_of_a_new_cluster_restores(tmp_path):
    assert restore.decide(tmp_path / "data", "new").restore
    assert restore.read_cluster_state(tmp_path / "missing") == "new"


@pytest.mark.parametrize("url", ["s3://bucket", "s3:///key", "s3://bucket/key?x=1"])
def test_s3_urls_need_a_bucket_and_a_key(url):
    with pytest.raises(restore.RestoreError, match="is not s3://<bucket>/<key>"):
        restore.parse_s3_url(url)


def test_s3_without_credentials_says_which_secret(tmp_path):
    with pytest.raises(restore.RestoreError, match="Secret etcd-restore-credentials in the control-plane namespace"):
        restore.fetch("s3://bucket/snap.db", tmp_path / "snapshot.db", tmp_path / "no-credentials")


def test_bad_credentials_are_one_line(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "credentials").write_text("[other]\naws_access_key_id = a\n")
    with pytest.raises(restore.RestoreError, match=r"has no \[default\] profile"):
        restore.fetch("s3://bucket/snap.db", tmp_path / "snapshot.db", credentials)


def _args(tmp_path: Path, url: str) -> list[str]:
    return [f"--url={url}", f"--data-dir={tmp_path}/data", f"--cluster-state={tmp_path}/state",
            f"--snapshot={tmp_path}/restore/snapshot.db", f"--credentials-dir={tmp_path}/credentials",
            f"--termination-log={tmp_path}/termination-log"]


def test_an_http_error_is_the_termination_message_without_the_signature(tmp_path, monkeypatch):
    def refuse(url, **_):
        raise urllib.error.HTTPError(url, 403, "Forbidden", {}, None)

    monkeypatch.setattr(restore.urllib.request, "urlopen", refuse)
    assert restore.main(_args(tmp_path, "https://s3.example.com/b/snap.db?X-Amz-Signature=secret")) == 1
    message = (tmp_path / "termination-log").read_text()
    assert message == "etcd restore: cannot fetch the snapshot https://s3.example.com/b/snap.db: HTTP 403 Forbidden"
    assert not (tmp_path / "restore/snapshot.db").exists()


class _Response(io.BytesIO):
    def __init__(self, body: bytes, length: str):
        super().__init__(body)
        self.headers = {"Content-Length": length}


def test_an_https_download_lands_whole(tmp_path, monkeypatch):
    seen = {}

    def serve(url, timeout, context):
        seen["verify"] = context.verify_mode
        return _Response(b"snapshot bytes", "14")

    monkeypatch.setattr(restore.urllib.request, "urlopen", serve)
    assert restore.main(_args(tmp_path, "https://s3.example.com/b/snap.db")) == 0
    assert (tmp_path / "restore/snapshot.db").read_bytes() == b"snapshot bytes"
    assert seen["verify"] == restore.ssl.CERT_REQUIRED


def test_a_truncated_download_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(restore.urllib.request, "urlopen", lambda url, **_: _Response(b"snap", "14"))
    assert restore.main(_args(tmp_path, "https://s3.example.com/b/snap.db")) == 1
    assert "truncated, 4 of 14 bytes" in (tmp_path / "termination-log").read_text()
    assert not list((tmp_path / "restore").iterdir())


def test_nothing_is_fetched_for_a_member_with_data(tmp_path, monkeypatch):
    (tmp_path / "data/member/snap").mkdir(parents=True)
    (tmp_path / "data/member/snap/db").write_bytes(b"x")
    monkeypatch.setattr(restore.urllib.request, "urlopen", lambda *a, **k: pytest.fail("fetched"))
    assert restore.main(_args(tmp_path, "https://s3.example.com/b/snap.db")) == 0
    assert not (tmp_path / "termination-log").exists()
