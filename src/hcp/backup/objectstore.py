"""The embedded S3-compatible object store: versitygw with its POSIX backend, as a host process.

versitygw (github.com/versity/versitygw, built from its Go module like every upstream binary,
toolset `versitygw` in hcp.upstream.binaries) serves S3 over a directory tree: a bucket is a
folder of `<data_dir>/buckets`, an object a file in it. Object metadata (hcp's recorded sha256,
ETags, ACLs) is kept in a sidecar tree `<data_dir>/meta` rather than in extended attributes, so
any filesystem will do. The root account's keys reach the server through its environment
(ROOT_ACCESS_KEY_ID / ROOT_SECRET_ACCESS_KEY), never its command line; TLS is served with a
certificate and key given as files. `GET /health` answers 200 without credentials.

Everything here is a pure function of paths and settings except `start` / `stop` /
`wait_ready`, which run the server as a plain child process (tests, benchmarks); on the
management node the supervisor runs `ObjectStoreServer.argv()` with `env()` instead.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hcp.backup.storage import DEFAULT_REGION, S3Config
from hcp.upstream import binaries
from hcp.pki import KeyPair, issue

TOOLSET = "versitygw"
COMMAND = "versitygw"
DEFAULT_PORT = 7070
"""versitygw's own default port; on the management node it listens on the node's address."""
HEALTH_PATH = "/health"
DEFAULT_BUCKET = "hcp-backups"
READY_TIMEOUT = 30.0


def ensure_binary(log: Callable[[str], None] = lambda _: None) -> Path:
    """The versitygw binary, built from its pinned Go module the first time."""
    return binaries.ensure(TOOLSET, log) / COMMAND


def binary() -> Path:
    """The versitygw binary, which must have been built (ensure_binary, `hcp management-cluster up`)."""
    return binaries.binary(TOOLSET, COMMAND)


@dataclass(frozen=True)
class Credentials:
    """The store's root access key and secret key."""

    access_key: str
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls) -> Credentials:
        return cls("hcp-" + secrets.token_hex(8), secrets.token_urlsafe(30))

    def env(self) -> dict[str, str]:
        """The server's environment for these root credentials."""
        return {"ROOT_ACCESS_KEY_ID": self.access_key, "ROOT_SECRET_ACCESS_KEY": self.secret_key}

    def to_json(self) -> str:
        return json.dumps({"accessKeyID": self.access_key, "secretAccessKey": self.secret_key})

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        data = json.loads(text)
        return cls(data["accessKeyID"], data["secretAccessKey"])


def load_or_create_credentials(path: Path) -> Credentials:
    """The credentials kept in `path` (JSON, mode 0600), minted the first time and kept after."""
    if path.exists():
        return Credentials.from_json(path.read_text())
    credentials = Credentials.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(credentials.to_json())
    return credentials


def server_certificate(ca: KeyPair, *, ip_addresses: tuple[str, ...] = ("127.0.0.1",),
                       dns_names: tuple[str, ...] = ("localhost",)) -> KeyPair:
    """A serving certificate for the store, signed by `ca`, for the addresses clients use."""
    return issue(ca, "hcp-object-store", dns_names=dns_names, ip_addresses=ip_addresses, server=True)


@dataclass(frozen=True)
class ObjectStoreServer:
    """One versitygw server: where it keeps data, where it listens, and its TLS files."""

    binary: Path
    data_dir: Path
    listen: str = f"0.0.0.0:{DEFAULT_PORT}"
    """host:port to listen on (versitygw's --port)."""
    cert_file: Path | None = None
    key_file: Path | None = None
    region: str = DEFAULT_REGION

    @property
    def buckets_dir(self) -> Path:
        return self.data_dir / "buckets"

    @property
    def meta_dir(self) -> Path:
        return self.data_dir / "meta"

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    def object_path(self, bucket: str, key: str) -> Path:
        """Where the POSIX backend keeps an object's bytes."""
        return self.buckets_dir / bucket / key

    def prepare(self) -> None:
        """Create the data folders (the backend refuses to start without its root)."""
        for directory in (self.data_dir, self.buckets_dir, self.meta_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def argv(self) -> list[str]:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("the object store needs both a certificate and a key for TLS, or neither")
        tls = ["--cert", str(self.cert_file), "--key", str(self.key_file)] if self.tls else []
        return [
            str(self.binary),
            "--port", self.listen,
            *tls,
            "--region", self.region,
            "--health", HEALTH_PATH,
            "--quiet",  # no line per request on stdout
            "--keep-alive",
            "posix",
            "--sidecar", str(self.meta_dir),
            str(self.buckets_dir),
        ]

    def env(self, credentials: Credentials) -> dict[str, str]:
        """The environment the server needs on top of a minimal one: only the root credentials."""
        return credentials.env()

    def endpoint(self, host: str = "127.0.0.1") -> str:
        """The URL clients use, reaching the server at `host`."""
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def health_url(self, host: str = "127.0.0.1") -> str:
        return self.endpoint(host) + HEALTH_PATH

    def s3_config(self, credentials: Credentials, ca_file: Path | None, host: str = "127.0.0.1") -> S3Config:
        """Client settings for this server: its endpoint, region and root credentials."""
        return S3Config(access_key=credentials.access_key, secret_key=credentials.secret_key,
                        endpoint=self.endpoint(host), region=self.region, ca_file=ca_file)


class ObjectStoreError(RuntimeError):
    """The object store did not start or answer."""


def start(server: ObjectStoreServer, credentials: Credentials, log_file: Path) -> subprocess.Popen:
    """Run the server as a child process in a session of its own (stop() ends it and its children)."""
    server.prepare()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **server.env(credentials)}
    with log_file.open("ab") as log:
        return subprocess.Popen(server.argv(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_ready(server: ObjectStoreServer, process: subprocess.Popen | None, log_file: Path | None = None,
               ca_file: Path | None = None, timeout: float = READY_TIMEOUT) -> None:
    """Wait until GET /health answers 200 (over TLS verified with `ca_file` when the server has TLS)."""
    context = ssl.create_default_context(cafile=str(ca_file)) if server.tls and ca_file else None
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ObjectStoreError(f"versitygw exited with code {process.returncode}: {_tail(log_file)}")
        try:
            with urllib.request.urlopen(server.health_url(), context=context, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ObjectStoreError(f"versitygw did not answer {server.health_url()} in {timeout:.0f}s: "
                                   f"{_tail(log_file)}")
        time.sleep(0.1)


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL after `timeout`; no error when it is gone already."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _tail(log_file: Path | None, lines: int = 10) -> str:
    if log_file is None or not log_file.exists():
        return "(no log)"
    return " | ".join(log_file.read_text(errors="replace").strip().splitlines()[-lines:]) or "(empty log)"
