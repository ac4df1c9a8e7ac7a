"""Where backups go: S3-compatible object storage, or a local directory.

One small interface, `Storage`, with two implementations:

- `S3Storage`: any S3 endpoint (the embedded versitygw server, AWS S3, ...) through the
  MinIO client library, with path-style addressing for custom endpoints and an optional CA
  bundle; objects live under `keyPrefix` in a bucket, as in HyperShift's HCPEtcdBackup.
- `DirectoryStorage`: a local directory (the CLI's `--to DIR`); an object is a file, its
  recorded sha256 a `<file>.sha256` beside it in `sha256sum` format.

Every object is stored with the sha256 of its bytes, and `get` refuses to hand back bytes
that do not match it: a corrupt or truncated object raises `StorageError`, and the
destination file is left untouched. Every failure (no such bucket, wrong credentials, an
unreachable endpoint, a refused TLS certificate, ...) is one `StorageError` whose message
names the bucket or directory and says what is wrong in words, not a library's traceback.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import socket
import ssl
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

SHA256_METADATA = "sha256"
"""User metadata key of an object's sha256 (hex); S3 sends it as the header x-amz-meta-sha256."""
_SHA256_HEADER = f"x-amz-meta-{SHA256_METADATA}"
SIZE_METADATA = "size"
"""User metadata key of an object's size in bytes as sent, to tell a truncated object from a corrupt one."""
_SIZE_HEADER = f"x-amz-meta-{SIZE_METADATA}"
_CHUNK = 1024 * 1024
DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 300.0
"""Seconds without a byte before a request fails: large enough for a slow server writing a large object."""


class StorageError(Exception):
    """Backup storage failed; the message is one line naming the place and the reason."""


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object. `key` is relative to the storage's prefix (or directory)."""

    key: str
    size: int
    last_modified: datetime.datetime
    url: str
    sha256: str | None = None
    """The recorded sha256 (hex); listings leave it out (S3 lists no metadata), put and get fill it in."""


# --- targets ---------------------------------------------------------------------------------

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class S3Target:
    """A bucket and a key prefix (HyperShift's keyPrefix), without the endpoint and credentials."""

    bucket: str
    key_prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key_prefix}" if self.key_prefix else f"s3://{self.bucket}"


@dataclass(frozen=True)
class DirectoryTarget:
    path: Path

    def __str__(self) -> str:
        return str(self.path)


def validate_bucket(bucket: str) -> str:
    """S3's bucket naming rules (3 to 63 lowercase letters, digits, dots, hyphens)."""
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP.fullmatch(bucket):
        raise StorageError(
            f"s3://{bucket}: not a valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit)")
    return bucket


def validate_key(key: str, where: str = "") -> str:
    """A relative key of '/'-separated names, none empty, '.', '..' or hidden (starting with '.')."""
    parts = key.split("/")
    bad = (not key or "\0" in key or "\\" in key
           or any(part == "" or part.startswith(".") for part in parts))
    if bad:
        raise StorageError(
            f"{where or 'key'} {key!r}: not a valid object key ('/'-separated names, none empty "
            "or starting with '.')")
    return key


def parse_target(text: str) -> S3Target | DirectoryTarget:
    """`s3://BUCKET[/PREFIX]` or a directory (a path, or `file:///path`), as the CLI's --to and --from take.

    A trailing '/' of the prefix is dropped; a relative directory is made absolute.
    """
    text = text.strip()
    if not text:
        raise StorageError("no backup target given: use s3://BUCKET[/PREFIX] or a directory")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme is None:
        return DirectoryTarget(Path(text).expanduser().absolute())
    kind = scheme.group(1).lower()
    rest = text[scheme.end():]
    if kind == "file":
        if not rest.startswith("/"):
            raise StorageError(f"{text}: a file URL needs an absolute path (file:///dir)")
        return DirectoryTarget(Path(rest))
    if kind != "s3":
        raise StorageError(f"{text}: unsupported backup target; use s3://BUCKET[/PREFIX] or a directory")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise StorageError(f"{text}: no bucket; use s3://BUCKET[/PREFIX]")
    validate_bucket(bucket)
    prefix = prefix.rstrip("/")
    if prefix:
        validate_key(prefix, f"s3://{bucket}: key prefix")
    return S3Target(bucket, prefix)


# --- the interface ---------------------------------------------------------------------------

class Storage(ABC):
    """A place for backup objects, addressed by keys relative to the place's prefix."""

    @abstractmethod
    def url(self, key: str = "") -> str:
        """The object's address as users see it: s3://bucket/prefix/key, or a path."""

    @abstractmethod
    def put(self, key: str, source: Path) -> ObjectInfo:
        """Store a file under `key` (replacing any object there) with its sha256 recorded, streaming it."""

    @abstractmethod
    def get(self, key: str, destination: Path) -> ObjectInfo:
        """Write the object to `destination` if its bytes match the recorded sha256; otherwise
        raise, leaving `destination` as it was."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Objects whose key starts with `prefix` (a plain string prefix), newest first."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is no error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether the object is there (raises when the place itself is missing or unreachable)."""

    def __str__(self) -> str:
        return self.url()


def file_sha256(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


@contextmanager
def _partial_file(destination: Path) -> Iterator[BinaryIO]:
    """A temporary file beside `destination` that replaces it only when the block succeeds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.partial-", dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _copy_verified(chunks, out: BinaryIO, expected_sha256: str, expected_size: int | None, where: str) -> int:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    if expected_size is not None and size < expected_size:
        raise StorageError(f"{where}: the object is truncated: {size} of {expected_size} bytes")
    if digest.hexdigest() != expected_sha256:
        raise StorageError(
            f"{where}: the object is corrupt: its {size} bytes have sha256 {digest.hexdigest()}, "
            f"not the recorded {expected_sha256}")
    return size


# --- a local directory -----------------------------------------------------------------------

_SHA_SUFFIX = ".sha256"


class DirectoryStorage(Storage):
    """Objects as files under a root directory; each with `<file>.sha256` (`sha256sum -c` checks it).

    An object exists once both files are there: the data file is written first (to a temporary
    name, then renamed), its .sha256 last.
    """

    def __init__(self, root: Path):
        self.root = Path(root).expanduser().absolute()

    def url(self, key: str = "") -> str:
        return str(self.root / key) if key else str(self.root)

    def _path(self, key: str) -> Path:
        validate_key(key, self.url())
        if key.endswith(_SHA_SUFFIX):
            raise StorageError(f"{self.url(key)}: keys ending in {_SHA_SUFFIX} are reserved for the recorded hashes")
        return self.root / key

    @staticmethod
    def _sha_path(path: Path) -> Path:
        return path.with_name(path.name + _SHA_SUFFIX)

    @contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        try:
            yield
        except OSError as error:
            where = error.filename or self.url(key)
            raise StorageError(f"{where}: {(error.strerror or str(error)).lower()}") from error

    def _info(self, key: str, path: Path, sha256: str | None = None) -> ObjectInfo:
        stat = path.stat()
        modified = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
        return ObjectInfo(key, stat.st_size, modified, self.url(key), sha256)

    def _recorded_sha256(self, key: str, path: Path) -> str:
        try:
            text = self._sha_path(path).read_text()
        except FileNotFoundError:
            if path.exists():
                raise StorageError(f"{self.url(key)}: the object has no recorded sha256 "
                                   f"({self._sha_path(path).name} is missing)") from None
            raise StorageError(f"{self.url(key)}: no such object") from None
        recorded = text.split()[0] if text.split() else ""
        if not re.fullmatch(r"[0-9a-f]{64}", recorded):
            raise StorageError(f"{self.url(key)}: the recorded sha256 in {self._sha_path(path).name} is unreadable")
        return recorded

    def put(self, key: str, source: Path) -> ObjectInfo:
        path = self._path(key)
        with self._errors(key):
            sha = self._sha_path(path)
            sha.unlink(missing_ok=True)  # the old object's hash must never describe the new bytes
            digest = hashlib.sha256()
            with Path(source).open("rb") as data, _partial_file(path) as out:
                while chunk := data.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            with _partial_file(sha) as out:
                out.write(f"{digest.hexdigest()}  {path.name}\n".encode())
            _fsync_directory(path.parent)
            return self._info(key, path, digest.hexdigest())

    def get(self, key: str, destination: Path) -> ObjectInfo:
        path = self._path(key)
        with self._errors(key):
            recorded = self._recorded_sha256(key, path)
            with path.open("rb") as data, _partial_file(Path(destination)) as out:
                _copy_verified(iter(lambda: data.read(_CHUNK), b""), out, recorded, None, self.url(key))
            return self._info(key, path, recorded)

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        if prefix.startswith("/"):
            raise StorageError(f"{self.url()}: a list prefix is relative, not {prefix!r}")
        if not self.root.is_dir():
            raise StorageError(f"{self.url()}: the directory does not exist")
        # Walk only below the deepest directory the prefix names.
        start = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        found = []
        with self._errors():
            for directory, subdirectories, files in os.walk(start):
                subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
                for name in files:
                    if name.startswith(".") or name.endswith(_SHA_SUFFIX):
                        continue
                    path = Path(directory, name)
                    key = path.relative_to(self.root).as_posix()
                    if key.startswith(prefix) and self._sha_path(path).exists():
                        found.append(self._info(key, path))
        return _newest_first(found)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._errors(key):
            self._sha_path(path).unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            # Leave no empty folders behind, up to the root.
            parent = path.parent
            while parent != self.root and self.root in parent.parents:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def exists(self, key: str) -> bool:
        path = self._path(key)
        return path.is_file() and self._sha_path(path).is_file()


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _newest_first(objects: list[ObjectInfo]) -> list[ObjectInfo]:
    return sorted(objects, key=lambda o: (o.last_modified, o.key), reverse=True)


# --- S3 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class S3Config:
    """How to reach an S3 endpoint. No endpoint means AWS S3 in `region`."""

    access_key: str
    secret_key: str = field(repr=False)
    endpoint: str | None = None
    """https://host[:port] (or http://); path-style addressing is used for any endpoint but AWS's."""
    region: str = DEFAULT_REGION
    ca_file: Path | None = None
    """PEM bundle trusted for the endpoint's certificate; the public roots (certifi) without it."""


_S3_MESSAGES = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "no such object",
    "InvalidBucketName": "the endpoint refuses the bucket name",
    "InvalidAccessKeyId": "the endpoint does not know the access key {access_key!r} (wrong access key)",
    "XAdminUserNotFound": "the endpoint does not know the access key {access_key!r} (wrong access key)",
    "SignatureDoesNotMatch": "the secret key does not match the access key {access_key!r} (wrong secret key)",
    "AccessDenied": "access denied: wrong credentials, or they lack permission",
    "AuthorizationHeaderMalformed": "the endpoint refuses the request's region {region!r}: {message}",
    "SlowDown": "the endpoint is overloaded (SlowDown); try again later",
}
_BUCKET_LEVEL = {"NoSuchBucket", "InvalidBucketName", "InvalidAccessKeyId", "XAdminUserNotFound",
                 "SignatureDoesNotMatch", "AccessDenied", "AuthorizationHeaderMalformed"}


def _network_reason(error: BaseException) -> str:
    """The root cause of a failed connection, in words: refused, timed out, unknown host, TLS."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError; ssl's is a string
        current = (reason if isinstance(reason, BaseException) else None) or current.__cause__ or current.__context__
    for cause in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted: {cause.verify_message} (check the CA bundle)"
    checks = (  # most telling first: urllib3's NewConnectionError is also a ConnectTimeoutError
        (ssl.SSLError, lambda cause: f"the TLS handshake failed: {cause.reason or cause}"),
        ((socket.gaierror, urllib3.exceptions.NameResolutionError), lambda _: "its host name does not resolve"),
        (ConnectionRefusedError, lambda _: "the connection was refused (is the server running?)"),
        ((ConnectionResetError, BrokenPipeError), lambda _: "the connection was reset"),
        ((TimeoutError, urllib3.exceptions.TimeoutError), lambda _: "it did not answer in time"),
    )
    for kind, message in checks:
        for cause in seen:
            if isinstance(cause, kind):
                return message(cause)
    for cause in seen:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
    for cause in seen:
        if isinstance(cause, urllib3.exceptions.ProtocolError):
            return "the connection broke off"
    return type(error).__name__


def _endpoint_parts(endpoint: str) -> tuple[str, bool]:
    """minio's host[:port] and whether it is https."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise StorageError(f"{endpoint}: an S3 endpoint is an https:// (or http://) URL with a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise StorageError(f"{endpoint}: an S3 endpoint has no path, query or user (https://host[:port])")
    return parts.netloc, parts.scheme == "https"


class S3Storage(Storage):
    """Objects in a bucket under a key prefix, on any S3-compatible endpoint."""

    def __init__(self, config: S3Config, bucket: str, key_prefix: str = ""):
        self.config = config
        self.bucket = validate_bucket(bucket)
        self.key_prefix = key_prefix.strip("/")
        if self.key_prefix:
            validate_key(self.key_prefix, f"s3://{bucket}: key prefix")
        if config.endpoint:
            host, secure = _endpoint_parts(config.endpoint)
            self.endpoint = config.endpoint.rstrip("/")
        else:
            host, secure = f"s3.{config.region}.amazonaws.com", True
            self.endpoint = f"https://{host}"
        if config.ca_file is not None and not Path(config.ca_file).is_file():
            raise StorageError(f"{config.ca_file}: the CA bundle for {self.endpoint} does not exist")
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=str(config.ca_file) if config.ca_file else certifi.where(),
            # Connections and 5xx answers are retried (a server restarting); a refused certificate is not.
            retries=urllib3.Retry(total=3, other=0, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self._client = Minio(host, access_key=config.access_key, secret_key=config.secret_key,
                             secure=secure, region=config.region, http_client=http)

    def url(self, key: str = "") -> str:
        path = "/".join(p for p in (self.key_prefix, key) if p)
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    def _key(self, key: str) -> str:
        validate_key(key, self.url())
        return f"{self.key_prefix}/{key}" if self.key_prefix else key

    @contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except S3Error as error:
            where = f"s3://{self.bucket}" if error.code in _BUCKET_LEVEL else self.url(key)
            template = _S3_MESSAGES.get(error.code, "{code}: {message}")
            message = template.format(access_key=self.config.access_key, region=self.config.region,
                                      code=error.code, message=error.message)
            raise StorageError(f"{where}: {message}") from error
        except ServerError as error:
            raise StorageError(f"{self.url(key)}: the endpoint {self.endpoint} failed "
                               f"(HTTP {error.status_code})") from error
        except InvalidResponseError as error:
            status = getattr(error, "_code", "?")
            raise StorageError(f"{self.url(key)}: the endpoint {self.endpoint} gave an answer that is not S3's "
                               f"(HTTP {status}); is it an S3 endpoint?") from error
        except urllib3.exceptions.HTTPError as error:
            raise StorageError(f"{self.url(key)}: cannot reach {self.endpoint}: {_network_reason(error)}") from error
        except MinioException as error:
            raise StorageError(f"{self.url(key)}: {error}") from error
        except ValueError as error:  # minio's own checks of names and arguments
            raise StorageError(f"{self.url(key)}: {error}") from error
        except OSError as error:
            if error.filename:
                raise StorageError(f"{error.filename}: {(error.strerror or str(error)).lower()}") from error
            raise StorageError(f"{self.url(key)}: cannot reach {self.endpoint}: {_network_reason(error)}") from error

    def create_bucket(self) -> None:
        """Make the bucket if it is not there (the embedded store's default bucket, tests)."""
        with self._errors():
            try:
                self._probe()
                return
            except S3Error as error:
                if error.code != "NoSuchBucket":
                    raise
            try:
                self._client.make_bucket(self.bucket, location=self.config.region)
            except S3Error as error:
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
                if not self._client.bucket_exists(self.bucket):
                    raise StorageError(f"s3://{self.bucket}: the bucket name is taken by another account") from None

    def _probe(self) -> None:
        """One listing request under the prefix, for its error's body: answers to HEAD requests have
        none, and some servers (versitygw for an unknown access key) answer them 404, which reads as
        a missing bucket or object."""
        base = f"{self.key_prefix}/" if self.key_prefix else ""
        next(iter(self._client.list_objects(self.bucket, prefix=base)), None)

    def bucket_exists(self) -> bool:
        with self._errors():
            try:
                self._probe()
                return True
            except S3Error as error:
                if error.code == "NoSuchBucket":
                    return False
                raise

    def _stat(self, key: str) -> ObjectInfo:
        try:
            stat = self._client.stat_object(self.bucket, self._key(key))
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchBucket", "AccessDenied"):
                self._probe()  # raises the refusal in its own words (wrong secret key, no bucket, ...)
            raise
        sha = (stat.metadata or {}).get(_SHA256_HEADER)
        return ObjectInfo(key, stat.size or 0, stat.last_modified, self.url(key), sha)

    def put(self, key: str, source: Path) -> ObjectInfo:
        name = self._key(key)
        with self._errors(key):
            sha = file_sha256(Path(source))
            size = Path(source).stat().st_size
            self._client.fput_object(self.bucket, name, str(source),
                                     metadata={SHA256_METADATA: sha, SIZE_METADATA: str(size)})
            stored = self._stat(key)
        if stored.size != size or stored.sha256 != sha:
            raise StorageError(
                f"{self.url(key)}: the endpoint kept {stored.size} bytes with sha256 {stored.sha256}, "
                f"not the {size} bytes with sha256 {sha} that were sent")
        return stored

    def get(self, key: str, destination: Path) -> ObjectInfo:
        name = self._key(key)
        with self._errors(key):
            response = self._client.get_object(self.bucket, name)
            try:
                recorded = response.headers.get(_SHA256_HEADER)
                if not recorded:
                    raise StorageError(f"{self.url(key)}: the object has no recorded sha256 "
                                       f"(metadata {SHA256_METADATA}); it was not stored by hcp")
                recorded_size = response.headers.get(_SIZE_HEADER) or ""
                try:
                    with _partial_file(Path(destination)) as out:
                        size = _copy_verified(response.stream(_CHUNK), out, recorded,
                                              int(recorded_size) if recorded_size.isdigit() else None,
                                              self.url(key))
                except urllib3.exceptions.ProtocolError as error:
                    raise StorageError(f"{self.url(key)}: the object is truncated: the transfer broke off "
                                       f"({_network_reason(error)})") from error
            finally:
                response.close()
                response.release_conn()
            modified = response.headers.get("last-modified")
            last_modified = (parsedate_to_datetime(modified) if modified
                             else datetime.datetime.now(datetime.timezone.utc))
        return ObjectInfo(key, size, last_modified, self.url(key), recorded)

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        if prefix.startswith("/"):
            raise StorageError(f"{self.url()}: a list prefix is relative, not {prefix!r}")
        base = f"{self.key_prefix}/" if self.key_prefix else ""
        found = []
        with self._errors():
            for item in self._client.list_objects(self.bucket, prefix=base + prefix, recursive=True):
                if item.is_dir or not item.object_name.startswith(base):
                    continue
                key = item.object_name[len(base):]
                found.append(ObjectInfo(key, item.size or 0, item.last_modified, self.url(key)))
        return _newest_first(found)

    def delete(self, key: str) -> None:
        name = self._key(key)
        with self._errors(key):
            self._client.remove_object(self.bucket, name)

    def exists(self, key: str) -> bool:
        with self._errors(key):
            try:
                self._stat(key)
                return True
            except S3Error as error:
                if error.code == "NoSuchKey":  # and the bucket is there: _stat probed it
                    return False
                raise

    def stat(self, key: str) -> ObjectInfo:
        """The object's size, time and recorded sha256, without its bytes."""
        with self._errors(key):
            return self._stat(key)


def open_storage(target: S3Target | DirectoryTarget | str, s3: S3Config | None = None) -> Storage:
    """The storage a target names; an S3 target needs the endpoint and credentials in `s3`."""
    if isinstance(target, str):
        target = parse_target(target)
    if isinstance(target, DirectoryTarget):
        return DirectoryStorage(target.path)
    if s3 is None:
        raise StorageError(f"{target}: no S3 endpoint and credentials given")
    return S3Storage(s3, target.bucket, target.key_prefix)
