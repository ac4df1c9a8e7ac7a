import stat
from pathlib import Path

import pytest

from hcp.backup import objectstore
from hcp.backup.objectstore import Credentials, ObjectStoreServer, load_or_create_credentials
from hcp.upstream import binaries


def test_versitygw_is_a_pinned_toolset():
    toolset = binaries.TOOLSETS[objectstore.TOOLSET]
    assert toolset.module == "github.com/versity/versitygw"
    assert toolset.version.startswith("v")
    assert toolset.commands == {"versitygw": "github.com/versity/versitygw/cmd/versitygw"}
    assert f"-X main.Version={toolset.version}" in toolset.version_flags(toolset.version)


def test_command_line_with_tls():
    server = ObjectStoreServer(Path("/bin/versitygw"), Path("/state/object-store"), "0.0.0.0:7070",
                               Path("/pki/s3.crt"), Path("/pki/s3.key"))
    assert server.argv() == [
        "/bin/versitygw", "--port", "0.0.0.0:7070", "--cert", "/pki/s3.crt", "--key", "/pki/s3.key",
        "--region", "us-east-1", "--health", "/health", "--quiet", "--keep-alive",
        "posix", "--sidecar", "/state/object-store/meta", "/state/object-store/buckets",
    ]
    assert server.endpoint("10.1.2.3") == "https://10.1.2.3:7070"
    assert server.health_url() == "https://127.0.0.1:7070/health"
    assert server.object_path("b", "k/x.db") == Path("/state/object-store/buckets/b/k/x.db")


def test_credentials_go_in_the_environment_not_the_command_line():
    credentials = Credentials("access", "s3cr3t-value")
    server = ObjectStoreServer(Path("/bin/versitygw"), Path("/data"), "127.0.0.1:9000")
    assert server.env(credentials) == {"ROOT_ACCESS_KEY_ID": "access", "ROOT_SECRET_ACCESS_KEY": "s3cr3t-value"}
    assert not any("s3cr3t" in arg for arg in server.argv())
    assert "s3cr3t" not in repr(credentials)
    assert server.endpoint() == "http://127.0.0.1:9000" and "--cert" not in server.argv()
    config = server.s3_config(credentials, None)
    assert (config.endpoint, config.access_key, config.secret_key) == ("http://127.0.0.1:9000", "access", "s3cr3t-value")


def test_tls_needs_both_files():
    with pytest.raises(ValueError, match="both a certificate and a key"):
        ObjectStoreServer(Path("/bin/versitygw"), Path("/data"), cert_file=Path("/c")).argv()


def test_credentials_are_minted_once_and_kept_private(tmp_path):
    path = tmp_path / "pki" / "object-store.json"
    first = load_or_create_credentials(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_credentials(path) == first
    assert len(first.secret_key) >= 30 and first.access_key != Credentials.generate().access_key


def test_prepare_creates_the_data_folders(tmp_path):
    server = ObjectStoreServer(Path("/bin/versitygw"), tmp_path / "store")
    server.prepare()
    assert server.buckets_dir.is_dir() and server.meta_dir.is_dir()
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
