"""The ignition server over real HTTPS: who gets a join script, and what the refused see."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from hcp.pki import issue, new_ca
from hcp.ignition.join import RegistryMirror
from hcp.ignition.server import Paths, handler, settings_document

TOKEN = "abcdef.0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path):
    ca = new_ca("root-ca")
    leaf = issue(ca, "ignition-server", ip_addresses=("127.0.0.1",), server=True)
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "workers").write_text(TOKEN)
    (tmp_path / "tokens" / "..data").mkdir()  # as a Secret volume has
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    (tmp_path / "tls.crt").write_bytes(leaf.cert_pem)
    (tmp_path / "tls.key").write_bytes(leaf.key_pem)
    (tmp_path / "kubelet").write_bytes(b"\x7fELF kubelet")
    (tmp_path / "config.json").write_text(json.dumps(settings_document(
        cluster="clusters/demo", api_server_url="https://127.0.0.1:6443", ignition_url="https://127.0.0.1:1",
        kubernetes_version="1.37.1", cluster_dns="172.31.0.10", cluster_domain="cluster.local",
        pause_image="r/hcp/pause:v1", mirrors=[RegistryMirror("r:5000", "https://127.0.0.1:5000")])))
    paths = Paths(tmp_path / "tokens", tmp_path / "config.json", tmp_path / "ca.crt", tmp_path / "tls.crt",
                  tmp_path / "tls.key", tmp_path / "kubelet")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(paths))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths.cert, paths.key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    client = ssl.create_default_context(cadata=ca.cert_pem.decode())
    yield f"https://127.0.0.1:{httpd.server_address[1]}", client, paths
    httpd.shutdown()
    httpd.server_close()


def get(url: str, context: ssl.SSLContext, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_pools_token_gets_its_join_script_and_kubelet(server):
    url, context, _ = server
    status, body = get(url + "/join", context, TOKEN)
    assert status == 200
    text = body.decode()
    assert TOKEN in text and "NodePool workers of hosted cluster clusters/demo" in text
    assert get(url + "/kubelet", context, TOKEN) == (200, b"\x7fELF kubelet")


@pytest.mark.parametrize("token", [None, "abcdef.ffffffffffffffff", "..data"])
def test_a_wrong_token_gets_a_script_that_says_so_and_fails(server, token):
    url, context, _ = server
    status, body = get(url + "/join", context, token)
    assert status == 401
    result = subprocess.run(["sh"], input=body, capture_output=True)
    assert result.returncode == 1
    assert b"hcp-join: error: the bootstrap token is not the current token of any NodePool" in result.stderr
    assert get(url + "/kubelet", context, token)[0] == 401


def test_a_rotated_token_is_honoured_without_a_restart(server):
    url, context, paths = server
    (paths.tokens / "workers").write_text("ghijkl.0123456789abcdef")
    assert get(url + "/join", context, TOKEN)[0] == 401
    assert get(url + "/join", context, "ghijkl.0123456789abcdef")[0] == 200


def test_health_needs_no_token(server):
    url, context, _ = server
    assert get(url + "/healthz", context) == (200, b"ok\n")
