"""`hcp backup verify` as a user runs it: a report on success, one error line and exit 1 otherwise."""

from __future__ import annotations

import base64

import pytest

from hcp.backup.credentials import render_credentials_file
from hcp.cli import backup as backup_cli
from tests.unit.backup.test_verify import TOOLS, real_snapshot  # noqa: F401 (a fixture)

needs_etcd = pytest.mark.skipif(TOOLS is None, reason="etcd is not built")


@needs_etcd
def test_a_local_snapshot_is_restored_and_reported(hcp, real_snapshot, monkeypatch):  # noqa: F811
    monkeypatch.setattr(backup_cli, "binary", lambda toolset, command: TOOLS[command])
    result = hcp("backup", "verify", "--from", str(real_snapshot))
    assert result.code == 0, result.err
    assert "keys:      25" in result.out and "revision:  26" in result.out and "restored:  yes" in result.out


@needs_etcd
def test_a_corrupt_snapshot_is_one_error_line_and_exit_1(hcp, real_snapshot, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(backup_cli, "binary", lambda toolset, command: TOOLS[command])
    bad = tmp_path / "bad.db"
    bad.write_bytes(real_snapshot.read_bytes()[:-1000])
    result = hcp("backup", "verify", "--from", str(bad))
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.error.startswith("error: ") and str(bad) in result.error


def test_a_missing_credentials_secret_is_one_line(hcp, api):
    result = hcp("backup", "verify", "--from", "s3://hcp-backups/clusters-demo/1.db", "--credentials-secret", "nope")
    assert result.code == 1
    assert result.error == "error: credential Secret 'nope' not found in namespace 'hypershift'"


def test_the_secret_is_read_from_the_operator_namespace(hcp, api, monkeypatch):
    creds = render_credentials_file("AK", "SK", "https://127.0.0.1:7070").encode()
    api.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "object-store-credentials",
                                                                  "namespace": "hypershift"},
             "data": {"credentials": base64.b64encode(creds).decode()}})
    seen = {}

    def fake_verify(source, etcdutl, credentials, region, ca_file):
        seen.update(source=source, credentials=credentials, region=region)
        raise backup_cli.VerifyError(f"{source}: the object is truncated: 10 of 20 bytes")

    monkeypatch.setattr(backup_cli, "verify", fake_verify)
    monkeypatch.setattr(backup_cli, "binary", lambda toolset, command: command)
    result = hcp("backup", "verify", "--from", "s3://hcp-backups/clusters-demo/1.db")
    assert result.code == 1
    assert result.error == "error: s3://hcp-backups/clusters-demo/1.db: the object is truncated: 10 of 20 bytes"
    assert seen["credentials"].endpoint == "https://127.0.0.1:7070" and seen["credentials"].access_key == "AK"


def test_secret_and_file_together_are_refused(hcp, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(render_credentials_file("AK", "SK"))
    result = hcp("backup", "verify", "--from", "s3://b-1/k.db", "--credentials-secret", "x",
                 "--credentials-file", str(creds))
    assert result.code == 2
