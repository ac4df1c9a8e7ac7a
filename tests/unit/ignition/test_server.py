"""The ignition server over real HTTPS: who gets a join script, and what the refused see."""

from __future__ import annotations

import base64
import json
import socket
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
from hcp.ignition.nodeconfig import NodeConfig, digest
from hcp.ignition.server import (
    Paths, Registration, handler, pool_registration, registration_document, server_context, settings_document,
)

TOKEN = "abcdef.0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path):
    ca = new_ca("root-ca")
    leaf = issue(ca, "ignition-server", ip_addresses=("127.0.0.1",), server=True)
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "workers").write_text(TOKEN)
    (tmp_path / "tokens" / "..data").mkdir()  # as a Secret volume has
    (tmp_path / "pools").mkdir()
    (tmp_path / "pools" / "..data").mkdir()  # as a ConfigMap volume has
    (tmp_path / "pools" / "workers").write_text(json.dumps(registration_document(
        {"hypershift.openshift.io/nodePool": "workers", "node-role.kubernetes.io/worker": "",
         "node.kubernetes.io/disk": "ssd", "team": "a"},
        [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])))
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    (tmp_path / "tls.crt").write_bytes(leaf.cert_pem)
    (tmp_path / "tls.key").write_bytes(leaf.key_pem)
    (tmp_path / "kubelet").write_bytes(b"\x7fELF kubelet")
    (tmp_path / "config.json").write_text(json.dumps(settings_document(
        cluster="clusters/demo", api_server_url="https://127.0.0.1:6443", ignition_url="https://127.0.0.1:1",
        kubernetes_version="1.37.1", cluster_dns="172.31.0.10", cluster_domain="cluster.local",
        pause_image="r/hcp/pause:v1", mirrors=[RegistryMirror("r:5000", "https://127.0.0.1:5000")])))
    paths = Paths(tokens=tmp_path / "tokens", pools=tmp_path / "pools", config=tmp_path / "config.json",
                  ca=tmp_path / "ca.crt", cert=tmp_path / "tls.crt", key=tmp_path / "tls.key",
                  kubelet=tmp_path / "kubelet")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(paths))
    context = server_context(paths.cert, paths.key)
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


def kubelet_configuration(script: str) -> dict:
    """The KubeletConfiguration a join script writes."""
    [line] = [line for line in script.splitlines() if line.startswith("echo ") and "/var/lib/kubelet/config.yaml" in line]
    return json.loads(base64.b64decode(line.split()[1]))


def test_the_script_registers_the_node_with_its_pools_taints_and_the_labels_a_kubelet_may_set(server):
    url, context, _ = server
    status, body = get(url + "/join", context, TOKEN)
    assert status == 200
    text = body.decode()
    assert ("--node-labels=hypershift.openshift.io/nodePool=workers,node.kubernetes.io/disk=ssd,team=a\"" in text)
    assert "node-role.kubernetes.io/worker" not in text, "the kubelet would refuse to start: the API adds it"
    assert kubelet_configuration(text)["registerWithTaints"] == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]


def test_changed_pool_settings_are_served_without_a_restart(server):
    url, context, paths = server
    (paths.pools / "workers").write_text(json.dumps(registration_document(
        {"hypershift.openshift.io/nodePool": "workers"}, [{"key": "spot", "effect": "NoExecute"}])))
    status, body = get(url + "/join", context, TOKEN)
    assert status == 200
    assert "team=a" not in body.decode()
    assert kubelet_configuration(body.decode())["registerWithTaints"] == [{"key": "spot", "effect": "NoExecute"}]


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"labels": {"a": "$(reboot)"}, "taints": []})])
def test_a_pool_without_readable_settings_is_told_to_retry_and_never_joins_without_its_taints(server, content):
    url, context, paths = server
    if content is None:
        (paths.pools / "workers").unlink()
    else:
        (paths.pools / "workers").write_text(content)
    status, body = get(url + "/join", context, TOKEN)
    assert status == 503
    result = subprocess.run(["sh"], input=body, capture_output=True)
    assert result.returncode == 1
    assert b"does not have the labels and taints of NodePool workers yet" in result.stderr
    assert get(url + "/kubelet", context, TOKEN)[0] == 200, "the kubelet needs no settings"


def test_the_registration_document_round_trips(tmp_path):
    document = registration_document({"b": "2", "a": "1"}, [{"key": "k", "value": "", "effect": "NoSchedule"},
                                                            {"key": "x", "value": "y", "effect": "NoExecute"}])
    assert document == {"labels": {"a": "1", "b": "2"},
                        "taints": [{"key": "k", "effect": "NoSchedule"},
                                   {"key": "x", "value": "y", "effect": "NoExecute"}],
                        "node": {"kubelet": {}, "files": [], "digest": digest(NodeConfig())}}
    assert list(document["labels"]) == ["a", "b"], "sorted, so the ConfigMap is the same from pass to pass"
    (tmp_path / "p").write_text(json.dumps(document))
    assert pool_registration(tmp_path, "p") == Registration(
        {"a": "1", "b": "2"}, ({"key": "k", "effect": "NoSchedule"}, {"key": "x", "value": "y", "effect": "NoExecute"}),
        NodeConfig(), digest(NodeConfig()))
    assert pool_registration(tmp_path, "missing") is None


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> tuple[str, str] | None:
    """The version and cipher a client and a server agree on over a local socket, or None when they do not."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def accept() -> None:
            connection, _ = listener.accept()
            try:
                with server.wrap_socket(connection, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                connection.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            with client.wrap_socket(socket.create_connection(listener.getsockname(), timeout=5)) as tls:
                agreed = tls.version(), tls.cipher()[0]
        except (ssl.SSLError, OSError):
            agreed = None
        thread.join(5)
    return agreed


def any_client() -> ssl.SSLContext:
    """A client as OpenSSL's are by default: TLS 1.2 and 1.3, preferring 1.3 (the server is not verified here)."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    return client


def tls12_client(ciphers: str | None = None) -> ssl.SSLContext:
    client = any_client()
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        client.set_ciphers(ciphers)
    return client


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    leaf = issue(new_ca("root-ca"), "ignition-server", ip_addresses=("127.0.0.1",), server=True)
    (tmp_path / "tls.crt").write_bytes(leaf.cert_pem)
    (tmp_path / "tls.key").write_bytes(leaf.key_pem)
    return tmp_path / "tls.crt", tmp_path / "tls.key"


def test_without_a_profile_tls12_and_tls13_are_served(certificate):
    server = server_context(*certificate)
    assert handshake(server, tls12_client())[0] == "TLSv1.2"
    assert handshake(server, any_client())[0] == "TLSv1.3"


def test_a_tls13_minimum_refuses_tls12(certificate):
    server = server_context(*certificate, min_version="VersionTLS13")
    assert handshake(server, tls12_client()) is None
    assert handshake(server, any_client())[0] == "TLSv1.3"


def test_the_profiles_tls12_ciphers_are_the_only_ones_served(certificate):
    server = server_context(*certificate, "VersionTLS12", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
    assert handshake(server, tls12_client("ECDHE-ECDSA-AES256-GCM-SHA384")) is None
    assert handshake(server, tls12_client()) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert handshake(server, any_client())[0] == "TLSv1.3"  # TLS 1.3 ignores the list


def test_a_list_openssl_can_offer_none_of_leaves_tls13_only(certificate):
    server = server_context(*certificate, "VersionTLS12", "DES-CBC3-SHA")
    assert server.minimum_version == ssl.TLSVersion.TLSv1_3
    assert handshake(server, tls12_client()) is None
    assert handshake(server, any_client())[0] == "TLSv1.3"
