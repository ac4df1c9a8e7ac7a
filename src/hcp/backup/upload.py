"""`python -m hcp.backup.upload`: the upload step of an HCPEtcdBackup's Job, run from the operator's image.

The Job's init container has saved a snapshot from a live etcd member (`etcdctl snapshot
save`) and described it (`etcdutl snapshot status -w json`: revision, key count, size);
this step checks the snapshot against the sha256 etcd appends to it, stores it as
`<keyPrefix>/<unix time>.db` in the bucket (HyperShift's key), with its sha256 recorded
and checked after the upload (hcp.backup.storage), and
reports what it stored in the container's termination message, which the backup
controller reads from the Pod's status: one line of JSON (`SnapshotReport`) on success,
one line saying what went wrong on failure. The snapshot holds every Secret of the hosted
cluster, so it is removed from the Pod's volume once the upload is over, stored or not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hcp.backup.credentials import CA_KEY, CredentialsError, parse_credentials, read_credentials_dir
from hcp.backup.termination import TERMINATION_LOG, write_message
from hcp.backup.storage import S3Storage, Storage, StorageError

CHECKSUM_SIZE = 32
"""etcd appends the sha256 of the database to the snapshot it streams (server/etcdserver/api/v3rpc/maintenance.go)."""
CHUNK = 1024 * 1024


class UploadError(RuntimeError):
    """The snapshot cannot be stored; the message is the one line the backup's condition shows."""


@dataclass(frozen=True)
class SnapshotReport:
    """What the upload stored: where, its sha256 and size, and the etcd revision and key count it holds."""

    snapshot_url: str
    sha256: str
    size: int
    revision: int
    total_key: int
    etcd_version: str = ""

    def to_message(self) -> str:
        """One line of JSON, with the status's name for the URL and etcdutl's for the key count."""
        return json.dumps({"snapshotURL": self.snapshot_url, "sha256": self.sha256, "size": self.size,
                           "revision": self.revision, "totalKey": self.total_key, "etcdVersion": self.etcd_version},
                          separators=(",", ":"))

    @classmethod
    def from_message(cls, message: str) -> SnapshotReport | None:
        """The report in a termination message, or None when it holds none (a failure's line, or nothing)."""
        try:
            data = json.loads(message)
            return cls(snapshot_url=str(data["snapshotURL"]), sha256=str(data["sha256"]), size=int(data["size"]),
                       revision=int(data["revision"]), total_key=int(data["totalKey"]),
                       etcd_version=str(data.get("etcdVersion") or ""))
        except (ValueError, TypeError, KeyError):
            return None

    def describe(self) -> str:
        return (f"{self.snapshot_url} ({self.size} bytes, sha256 {self.sha256}, etcd revision {self.revision}, "
                f"{self.total_key} keys)")


@dataclass(frozen=True)
class SnapshotStatus:
    """`etcdutl snapshot status -w json` of the snapshot file."""

    revision: int
    total_key: int
    total_size: int
    version: str


def read_snapshot_status(path: Path) -> SnapshotStatus:
    try:
        data = json.loads(Path(path).read_text())
        return SnapshotStatus(int(data["revision"]), int(data["totalKey"]), int(data["totalSize"]),
                              str(data.get("version") or ""))
    except FileNotFoundError:
        raise UploadError(f"the snapshot's status ({path}) is missing: etcdutl snapshot status did not run") from None
    except (ValueError, TypeError, KeyError) as error:
        raise UploadError(f"the snapshot's status ({path}) is not etcdutl's JSON: {error}") from None


def snapshot_key(now: float) -> str:
    """The object key below the prefix: `<unix time>.db`, as HyperShift's etcd-upload names it."""
    return f"{int(now)}.db"


def check_snapshot(snapshot: Path, status: SnapshotStatus) -> int:
    """The snapshot's size, once it is whole: etcd's database as etcdutl read it, followed by the sha256 of
    those bytes that etcd appends to every snapshot it sends (and `etcdutl snapshot restore` checks)."""
    try:
        size = snapshot.stat().st_size
    except FileNotFoundError:
        raise UploadError(f"the snapshot {snapshot} is missing: etcdctl snapshot save did not write it") from None
    database = status.total_size
    if size == database + CHECKSUM_SIZE and database > 0:
        digest = hashlib.sha256()
        with snapshot.open("rb") as data:
            remaining = database
            while remaining:
                chunk = data.read(min(CHUNK, remaining))
                if not chunk:
                    break
                digest.update(chunk)
                remaining -= len(chunk)
            appended = data.read(CHECKSUM_SIZE)
        if digest.digest() != appended:
            raise UploadError(f"the snapshot {snapshot} is corrupt: its database does not match the sha256 etcd "
                              "appended to it")
    elif size != database or database == 0:
        raise UploadError(f"the snapshot {snapshot} has {size} bytes, but etcdutl read a database of {database} "
                          f"(plus {CHECKSUM_SIZE} bytes of etcd's checksum)")
    return size


def upload(snapshot: Path, status: SnapshotStatus, storage: Storage, now: float) -> SnapshotReport:
    """Check the snapshot, store it and check what was stored; raises UploadError with the reason."""
    size = check_snapshot(snapshot, status)
    try:
        stored = storage.put(snapshot_key(now), snapshot)
    except StorageError as error:
        raise UploadError(f"cannot store the snapshot: {error}") from None
    if stored.size != size or not stored.sha256:
        raise UploadError(f"{stored.url}: stored {stored.size} bytes of {size}")
    return SnapshotReport(snapshot_url=stored.url, sha256=stored.sha256, size=stored.size,
                          revision=status.revision, total_key=status.total_key, etcd_version=status.version)


def s3_storage(credentials_dir: Path, bucket: str, region: str, key_prefix: str) -> S3Storage:
    """The bucket, reached with the mounted credentials Secret (its ca.crt, if any, trusted for the endpoint)."""
    try:
        credentials = parse_credentials(read_credentials_dir(credentials_dir),
                                        where=f"the credentials Secret (mounted at {credentials_dir})")
        ca_file = credentials_dir / CA_KEY if credentials.ca_pem else None
        return S3Storage(credentials.s3_config(region, ca_file), bucket, key_prefix)
    except OSError as error:
        raise UploadError(f"cannot read the credentials Secret at {credentials_dir}: {error.strerror}") from None
    except (CredentialsError, StorageError) as error:
        raise UploadError(str(error)) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hcp.backup.upload", description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True, help="the snapshot etcdctl saved")
    parser.add_argument("--snapshot-status", type=Path, required=True, help="etcdutl snapshot status -w json of it")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--key-prefix", required=True)
    parser.add_argument("--credentials-dir", type=Path, required=True, help="the mounted credentials Secret")
    parser.add_argument("--termination-log", type=Path, default=TERMINATION_LOG)
    return parser.parse_args(argv)



def main(argv: list[str] | None = None, now: float | None = None) -> int:
    options = parse_args(argv)
    try:
        status = read_snapshot_status(options.snapshot_status)
        storage = s3_storage(options.credentials_dir, options.bucket, options.region, options.key_prefix)
        report = upload(options.snapshot, status, storage, time.time() if now is None else now)
    except UploadError as error:
        line = " ".join(str(error).split())
        print(f"etcd backup failed: {line}", file=sys.stderr)
        write_message(options.termination_log, line)
        return 1
    finally:
        for leftover in (options.snapshot, options.snapshot_status):
            try:
                leftover.unlink(missing_ok=True)
            except OSError as error:
                print(f"cannot remove {leftover}: {error.strerror}", file=sys.stderr)
    print(f"etcd backup stored: {report.describe()}")
    write_message(options.termination_log, report.to_message())
    return 0


if __name__ == "__main__":
    sys.exit(main())
