"""The S3 credentials Secret an HCPEtcdBackup names: HyperShift's format, plus how to reach a non-AWS endpoint.

As in HyperShift, the Secret lives in the operator's namespace (`hypershift`) and its key
`credentials` is an AWS credentials file; hcp reads its `[default]` profile:

    [default]
    aws_access_key_id = AKIA...
    aws_secret_access_key = ...
    endpoint_url = https://172.30.1.2:7070      # only for an S3 endpoint other than AWS

`endpoint_url` is the AWS shared-config setting of that name (AWS CLI v2 and SDKs read it
from a profile): without it the bucket is on AWS S3 in the HCPEtcdBackup's region. An
endpoint whose certificate is not signed by a public CA comes with that CA, PEM, in the
Secret's key `ca.crt` (an hcp addition: AWS's `ca_bundle` setting names a file, which a
Secret cannot). The embedded management cluster writes such a Secret for its own object
store (hcp.management.object_store).

Everything here is pure: rendering and parsing, one `CredentialsError` with a message in
words for anything unusable, never echoing the secret key.
"""

from __future__ import annotations

import base64
import configparser
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from hcp.backup.storage import S3Config, S3Storage

CREDENTIALS_KEY = "credentials"
"""The Secret key holding the AWS credentials file (HyperShift's)."""
CA_KEY = "ca.crt"
"""The Secret key holding the PEM CA bundle of a custom endpoint (hcp's)."""
PROFILE = "default"


class CredentialsError(ValueError):
    """The credentials Secret cannot be used; the message says why, without its secrets."""


@dataclass(frozen=True)
class S3Credentials:
    """What a credentials Secret says: the keys, and for a non-AWS endpoint its URL and CA."""

    access_key: str
    secret_key: str = field(repr=False)
    endpoint: str | None = None
    ca_pem: bytes | None = None

    def s3_config(self, region: str, ca_file: Path | None = None) -> S3Config:
        """Client settings for a bucket in `region`; `ca_file` holds `ca_pem` where the client can read it."""
        if self.ca_pem and ca_file is None:
            raise CredentialsError("the credentials come with a CA (ca.crt) but no file holds it for the client")
        return S3Config(access_key=self.access_key, secret_key=self.secret_key, endpoint=self.endpoint,
                        region=region, ca_file=ca_file if self.ca_pem else None)


def s3_storage(credentials: S3Credentials, bucket: str, key_prefix: str, region: str, scratch: Path,
               ca_file: Path | None = None) -> S3Storage:
    """The bucket through these credentials; their CA (or `ca_file`, for a credentials file) is written into
    `scratch`, a private directory the caller removes."""
    if credentials.ca_pem and ca_file is None:
        ca_file = scratch / "s3-ca.crt"
        ca_file.write_bytes(credentials.ca_pem)
    config = credentials.s3_config(region, ca_file)
    if ca_file is not None and config.ca_file is None:  # --ca-file beside a credentials file without one
        config = replace(config, ca_file=ca_file)
    return S3Storage(config, bucket, key_prefix)


def render_credentials_file(access_key: str, secret_key: str, endpoint: str | None = None) -> str:
    """An AWS credentials file with one `[default]` profile."""
    lines = [f"[{PROFILE}]", f"aws_access_key_id = {access_key}", f"aws_secret_access_key = {secret_key}"]
    if endpoint:
        lines.append(f"endpoint_url = {endpoint}")
    return "\n".join(lines) + "\n"


def credentials_secret(name: str, namespace: str, credentials: S3Credentials,
                       labels: Mapping[str, str] | None = None) -> dict:
    """The Secret an HCPEtcdBackup's spec.storage.s3.credentials names, as a manifest."""
    files = {CREDENTIALS_KEY: render_credentials_file(credentials.access_key, credentials.secret_key,
                                                      credentials.endpoint).encode()}
    if credentials.ca_pem:
        files[CA_KEY] = credentials.ca_pem
    metadata: dict = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata,
            "data": {key: base64.b64encode(value).decode() for key, value in files.items()}}


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """A Secret's `data` (base64 values, as the API serves them) as the bytes its files hold."""
    try:
        return {key: base64.b64decode(value, validate=True) for key, value in (data or {}).items()}
    except (ValueError, TypeError) as error:
        raise CredentialsError(f"a value of the Secret is not base64: {error}") from None


def read_credentials_dir(directory: Path) -> dict[str, bytes]:
    """The files of a mounted Secret volume, by key (the `..data` links and hidden entries skipped)."""
    return {path.name: path.read_bytes() for path in sorted(Path(directory).iterdir())
            if not path.name.startswith(".") and path.is_file()}


def parse_credentials(files: Mapping[str, bytes], where: str = "the credentials Secret") -> S3Credentials:
    """The keys, endpoint and CA a credentials Secret's files give, or a CredentialsError naming `where`."""
    raw = files.get(CREDENTIALS_KEY)
    if not raw:
        raise CredentialsError(f"{where} has no key {CREDENTIALS_KEY!r} (an AWS credentials file)")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise CredentialsError(f"{where}: key {CREDENTIALS_KEY!r} is not text") from None
    if text.strip().startswith("arn:"):
        raise CredentialsError(
            f"{where}: key {CREDENTIALS_KEY!r} holds an IAM role ARN (HyperShift's STS mode), which hcp does not "
            "support; give an AWS credentials file with aws_access_key_id and aws_secret_access_key")
    parser = configparser.ConfigParser(interpolation=None, default_section="hcp-no-defaults")
    try:
        parser.read_string(text)
    except configparser.Error as error:
        first_line = str(error).splitlines()[0]
        raise CredentialsError(f"{where}: key {CREDENTIALS_KEY!r} is not an AWS credentials file: "
                               f"{first_line}") from None
    if not parser.has_section(PROFILE):
        found = ", ".join(parser.sections()) or "none"
        raise CredentialsError(f"{where}: the AWS credentials file has no [{PROFILE}] profile (profiles: {found})")
    profile = parser[PROFILE]
    access_key = profile.get("aws_access_key_id", "").strip()
    secret_key = profile.get("aws_secret_access_key", "").strip()
    missing = [key for key, value in (("aws_access_key_id", access_key), ("aws_secret_access_key", secret_key))
               if not value]
    if missing:
        raise CredentialsError(f"{where}: the [{PROFILE}] profile has no {' and no '.join(missing)}")
    if profile.get("aws_session_token", "").strip():
        raise CredentialsError(f"{where}: the [{PROFILE}] profile has an aws_session_token; hcp supports "
                               "long-lived access keys only")
    endpoint = profile.get("endpoint_url", "").strip().rstrip("/") or None
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query:
            raise CredentialsError(f"{where}: endpoint_url {endpoint!r} is not an S3 endpoint URL "
                                   "(https://host[:port])")
    ca_pem = files.get(CA_KEY) or None
    if ca_pem is not None and b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise CredentialsError(f"{where}: key {CA_KEY!r} holds no PEM certificate")
    return S3Credentials(access_key, secret_key, endpoint, ca_pem)
