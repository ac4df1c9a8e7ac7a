"""The console's HTTPS server: the standard library's threading HTTP server, wrapped in TLS.

The standard library rather than a web framework: the console is a dozen
routes for a few people at a time, and `http.server` plus `ssl` serve that
without a new dependency to pin, audit and keep up to date. One thread per
connection keeps a slow API call (a create's dry runs) from holding up the
page polls of others.
"""

from __future__ import annotations

import logging
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hcp.console.app import MAX_BODY, Console, Request, Response

log = logging.getLogger("hcp.console")


class Handler(BaseHTTPRequestHandler):
    server_version = "hcp-console"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    console: Console

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response(413, b"request too large", "text/plain; charset=utf-8"))
            return
        body = self.rfile.read(length) if length else b""
        request = Request.make(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.console.handle(request)
        except Exception:  # noqa: BLE001 — one failed request must not take the console down
            log.exception("request %s %s failed", self.command, request.path)
            response = Response(500, b"internal error; see the console's log", "text/plain; charset=utf-8")
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.all_headers():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — the base class's name
        """Method, path (never the query or a header: no token or session id lands in the log) and status."""
        log.info("%s %s %s", self.address_string(), self.command, self.path.partition("?")[0])

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s %s", self.address_string(), self.command, self.path.partition("?")[0], code)


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, console: Console, host: str, port: int, cert: Path, key: Path):
        handler = type("ConsoleHandler", (Handler,), {"console": console})
        super().__init__((host, port), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        self.context = context

    def get_request(self):
        """Accept, and leave the TLS handshake to the connection's own thread (a slow client stalls only itself)."""
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or speaks plain HTTP is no reason for a traceback."""
        log.debug("connection from %s failed", client_address[0], exc_info=True)
