"""Registry credentials: read from a docker config file (or given), written as a dockerconfigjson pull secret.

A registry other than hcp's embedded one usually wants a login. The same
`{"auths": {"<host>": {"auth": base64(user:password)}}}` document is what
`docker login` writes, what a Kubernetes `kubernetes.io/dockerconfigjson`
Secret holds, and what kubelet hands containerd for a pod's imagePullSecrets,
so hcp reads and writes only that form. Credentials never appear in a repr,
a log line or an error message.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class CredentialsError(ValueError):
    """A docker config that cannot be used; the message names the file and the problem, never a secret."""


@dataclass(frozen=True)
class Credentials:
    """A username and password (or token) for one registry."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:  # the dataclass repr would be safe too; this one says so
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def registry_key(text: str) -> str:
    """The host[:port] a docker config key names: keys may be URLs ("https://index.docker.io/v1/")."""
    text = text.strip()
    if "://" in text:
        return urlsplit(text).netloc
    return text.split("/", 1)[0]


def parse_docker_config(data: bytes | str, source: str) -> dict[str, Credentials]:
    """host[:port] -> credentials from a docker config / dockerconfigjson document.

    Entries carry either `auth` (base64 of user:password) or `username` and `password`;
    an entry with neither (a credential helper's placeholder) is skipped.
    """
    try:
        document = json.loads(data)
    except ValueError:
        raise CredentialsError(f"{source}: not a JSON docker config") from None
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        raise CredentialsError(f'{source}: no "auths" object (want {{"auths": {{"<registry>": {{"auth": ...}}}}}})')
    found: dict[str, Credentials] = {}
    for key, entry in auths.items():
        if not isinstance(entry, dict):
            raise CredentialsError(f"{source}: auths entry {key!r} is not an object")
        if entry.get("auth"):
            try:
                username, colon, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise CredentialsError(f"{source}: auths entry {key!r}: auth is not base64 of user:password") \
                    from None
            if not colon:
                raise CredentialsError(f"{source}: auths entry {key!r}: auth is not base64 of user:password")
        elif entry.get("username") and entry.get("password"):
            username, password = str(entry["username"]), str(entry["password"])
        else:
            continue
        found[registry_key(key)] = Credentials(username, password)
    return found


def load_docker_config(path: Path) -> dict[str, Credentials]:
    """Credentials of a docker config file (e.g. ~/.docker/config.json or a dockerconfigjson pull secret)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CredentialsError(f"cannot read docker config {path}: {error.strerror or error}") from None
    return parse_docker_config(data, str(path))


def for_registry(config: Mapping[str, Credentials], registry: str) -> Credentials | None:
    """The credentials a config holds for `registry` (host[:port], or host[:port]/prefix)."""
    return config.get(registry_key(registry))


def docker_config_json(registry: str, credentials: Credentials) -> bytes:
    """A dockerconfigjson document holding one registry's credentials (the form of a pull secret)."""
    auth = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    return json.dumps({"auths": {registry_key(registry): {"auth": auth}}}, separators=(",", ":")).encode()


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (mode 0600 from creation): credentials never sit world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
