"""The ignition server: hands each NodePool's join payload to machines that show the pool's bootstrap token.

HyperShift's ignition-server role, for hcp's join script: one Deployment per
control-plane namespace (hcp.controlplane.components.ignition_server), TLS
with a certificate of the hosted cluster's root CA, published per
spec.services `Ignition`. It serves

- `GET /join`: the join script (hcp.ignition.join) of the pool whose current
  bootstrap token is the request's bearer token, registering the Node with
  that pool's labels and taints;
- `GET /kubelet`: the kubelet binary of the release, to the same callers;
- `GET /healthz`: for probes, unauthenticated.

It reads everything from files the Deployment mounts, re-read on each request
so a rotated token (the Secret volume is updated in place) is honoured without
a restart: the tokens (one file per pool, the Secret `bootstrap-tokens`), each
pool's registration settings (one file per pool, the ConfigMap
`nodepool-registration`: labels and taints, see `registration_document`), the
cluster's join settings (config.json), its own certificate and the kubelet. A
pool whose token is there but whose settings are not yet (the two volumes are
refreshed separately) is answered 503, which machines retry: a Node never
registers without its pool's taints.
A refused request gets a body that is itself a shell script printing the
error, so `curl ... | sh` fails with a message a user can act on.

TLS is 1.2 and up with Python's default suites, or what the cluster's
spec.configuration.apiServer.tlsSecurityProfile gives it (--tls-min-version,
--tls-ciphers: hcp.api.v1beta1.tlsprofile decides, hcp.controlplane.tls_flags
renders). TLS 1.3 suites are OpenSSL's, all three, whatever the list says.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import ssl
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hcp.api.formats import is_label_value, is_qualified_name
from hcp.ignition.nodeconfig import NODE_CONFIG_HEADER, NodeConfig, digest, from_document, to_document
from hcp.ignition.join import JOIN_PATH, KUBELET_PATH, JoinConfig, RegistryMirror, public_key_pin, script

log = logging.getLogger("hcp.ignition")

HEALTH_PATH = "/healthz"
PORT = 9090
TLS_VERSIONS = {"VersionTLS12": ssl.TLSVersion.TLSv1_2, "VersionTLS13": ssl.TLSVersion.TLSv1_3}
"""The minimum versions --tls-min-version takes, in the API's names (OpenSSL's default security level
allows nothing below TLS 1.2)."""


@dataclass(frozen=True)
class Paths:
    tokens: Path
    """Directory: one file per NodePool, its current bootstrap token."""
    pools: Path
    """Directory: one file per NodePool, its registration settings (`registration_document`)."""
    config: Path
    """config.json: the cluster's join settings (see `settings_document`)."""
    ca: Path
    """The hosted cluster's root CA certificate (no key)."""
    cert: Path
    key: Path
    kubelet: Path


def settings_document(*, cluster: str, api_server_url: str, ignition_url: str,
                      kubernetes_version: str, cluster_dns: str, cluster_domain: str, pause_image: str,
                      mirrors: list[RegistryMirror]) -> dict[str, Any]:
    """config.json, as the control-plane component renders it and `join_config` reads it."""
    return {
        "cluster": cluster, "apiServerURL": api_server_url, "ignitionURL": ignition_url,
        "kubernetesVersion": kubernetes_version, "clusterDNS": cluster_dns, "clusterDomain": cluster_domain,
        "pauseImage": pause_image,
        "mirrors": [{"name": m.name, "url": m.url, **({"ca": m.ca_pem.decode()} if m.ca_pem else {})}
                    for m in mirrors],
    }


def registration_document(labels: Mapping[str, str], taints: Sequence[Mapping[str, Any]],
                          node: NodeConfig = NodeConfig()) -> dict[str, Any]:
    """A pool's registration settings, as the data-plane controller publishes them and `pool_registration`
    reads them: the Node's labels (the pool label hypershift.openshift.io/nodePool included: the writer's
    part) and taints (corev1 Taint dicts), and the node configuration of spec.config (hcp.ignition.nodeconfig)."""
    document: dict[str, Any] = {
        "labels": dict(sorted(labels.items())),
        "taints": [{"key": t["key"], **({"value": t["value"]} if t.get("value") else {}), "effect": t["effect"]}
                   for t in taints],
    }
    document["node"] = {**to_document(node), "digest": digest(node)}
    return document


@dataclass(frozen=True)
class Registration:
    """What one pool's Nodes register with."""

    labels: Mapping[str, str]
    taints: tuple[Mapping[str, Any], ...]
    node: NodeConfig = NodeConfig()
    node_digest: str = ""
    """The digest the data-plane controller published with `node` (empty: published before hcp had one)."""


def pool_registration(pools_dir: Path, pool: str) -> Registration | None:
    """The registration settings of `pool`, None while its file is missing or unreadable."""
    path = pools_dir / pool
    try:
        document = json.loads(path.read_text())
        labels = {str(key): str(value) for key, value in document["labels"].items()}
        taints = tuple({"key": str(t["key"]), **({"value": str(t["value"])} if t.get("value") else {}),
                        "effect": str(t["effect"])} for t in document["taints"])
        # The labels go into the script's kubelet command line: only what the API admits as a label.
        bad = [key for key, value in labels.items() if not (is_qualified_name(key) and is_label_value(value))]
        if bad:
            raise ValueError(f"invalid labels {', '.join(sorted(bad))}")
        node = from_document(document.get("node"))
        node_digest = str((document.get("node") or {}).get("digest", ""))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("unreadable registration settings of NodePool %s: %s", pool, error)
        return None
    return Registration(labels, taints, node, node_digest)


def pool_of(token: str, tokens_dir: Path) -> str | None:
    """The pool whose current token is `token` (compared in constant time), or None."""
    found = None
    for path in sorted(tokens_dir.iterdir()) if tokens_dir.is_dir() else ():
        if path.name.startswith(".") or not path.is_file():
            continue  # the Secret volume's ..data links and timestamped dirs
        if hmac.compare_digest(path.read_bytes().strip(), token.encode()):
            found = path.name
    return found


@cache
def _sha256(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime)


def join_config(paths: Paths, pool: str, token: str, registration: Registration) -> JoinConfig:
    settings = json.loads(paths.config.read_text())
    return JoinConfig(
        cluster=settings["cluster"], pool=pool, token=token, api_server_url=settings["apiServerURL"],
        ca_pem=paths.ca.read_bytes(), ignition_url=settings["ignitionURL"],
        pin=public_key_pin(paths.cert.read_bytes()), kubelet_sha256=sha256_of(paths.kubelet),
        kubernetes_version=settings["kubernetesVersion"], cluster_dns=settings["clusterDNS"],
        cluster_domain=settings["clusterDomain"], pause_image=settings["pauseImage"],
        labels=registration.labels, taints=registration.taints, node=registration.node,
        mirrors=[RegistryMirror(m["name"], m["url"], m["ca"].encode() if m.get("ca") else None)
                 for m in settings.get("mirrors", [])],
    )


def refusal(message: str) -> bytes:
    """A response body that, piped to sh, says what went wrong and fails."""
    quoted = message.replace("'", "'\\''")
    return f"echo 'hcp-join: error: {quoted}' >&2\nexit 1\n".encode()


def handler(paths: Paths) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "hcp-ignition"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            # The request line only; headers (which carry the token) are never logged.
            log.info("%s %s", self.address_string(), format % args)

        def _send(self, status: HTTPStatus, body: bytes, content_type: str = "text/x-shellscript") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == HEALTH_PATH:
                self._send(HTTPStatus.OK, b"ok\n", "text/plain")
                return
            if self.path not in (JOIN_PATH, KUBELET_PATH):
                self._send(HTTPStatus.NOT_FOUND, refusal(f"no such path {self.path}; the join command asks for "
                                                         f"{JOIN_PATH}"))
                return
            header = self.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
            pool = pool_of(token, paths.tokens) if token else None
            if pool is None:
                self._send(HTTPStatus.UNAUTHORIZED, refusal(
                    "the bootstrap token is not the current token of any NodePool of this cluster (wrong, expired "
                    "or rotated); print a fresh command with `hcp create join-command --nodepool <name>`"))
                return
            if self.path == KUBELET_PATH:
                body = paths.kubelet.read_bytes()
                self._send(HTTPStatus.OK, body, "application/octet-stream")
                return
            registration = pool_registration(paths.pools, pool)
            if registration is None:
                # Its token is served but not yet its labels and taints: retried by machines and the join command.
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, refusal(
                    f"the ignition server does not have the labels and taints of NodePool {pool} yet; "
                    f"retry in a minute"))
                return
            expected = self.headers.get(NODE_CONFIG_HEADER, "")
            if expected and expected != registration.node_digest:
                # A machine made for a configuration this server does not have yet: retried by the machine.
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, refusal(
                    f"the ignition server does not have node configuration {expected} of NodePool {pool} yet "
                    f"(it has {registration.node_digest or 'none'}); retry in a minute"))
                return
            self._send(HTTPStatus.OK, script(join_config(paths, pool, token, registration)).encode())

    return Handler


def server_context(cert: Path, key: Path, min_version: str | None = None, ciphers: str | None = None) -> ssl.SSLContext:
    """The serving TLS context: TLS 1.2 and up with Python's default suites, or `min_version` (a key of
    TLS_VERSIONS) and the TLS 1.2 suites `ciphers` names (OpenSSL's cipher list, colon-separated). A list
    OpenSSL can offer none of leaves TLS 1.3 only, as Go's servers have it with a list holding no TLS 1.2 suite:
    never suites the list does not name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[min_version] if min_version else ssl.TLSVersion.TLSv1_2
    if ciphers:
        try:
            context.set_ciphers(ciphers)
        except ssl.SSLError:
            log.warning("OpenSSL offers none of the TLS 1.2 ciphers %s: serving TLS 1.3 only", ciphers)
            context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    return context


def serve(paths: Paths, context: ssl.SSLContext, port: int = PORT) -> None:
    server = ThreadingHTTPServer(("", port), handler(paths))
    # The handshake happens in the request thread, so one slow client cannot stall the others.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    log.info("serving join payloads on port %d", port)
    server.serve_forever()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hcp-ignition-server", description=__doc__.splitlines()[0])
    parser.add_argument("--tokens-dir", type=Path, required=True)
    parser.add_argument("--pools-dir", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--kubelet", type=Path, required=True)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--tls-min-version", choices=sorted(TLS_VERSIONS))
    parser.add_argument("--tls-ciphers", help="TLS 1.2 ciphers in OpenSSL's names, colon-separated")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    options = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    context = server_context(options.cert, options.key, options.tls_min_version, options.tls_ciphers)
    serve(Paths(tokens=options.tokens_dir, pools=options.pools_dir, config=options.config, ca=options.ca,
                cert=options.cert, key=options.key, kubelet=options.kubelet), context, options.port)


if __name__ == "__main__":
    main()
