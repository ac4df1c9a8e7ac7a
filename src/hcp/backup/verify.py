"""`hcp backup verify`: prove that a stored etcd snapshot restores (issue 9, requirement 4).

A snapshot is fetched (hcp.backup.storage checks it against the sha256 recorded when it
was stored), checked against the sha256 etcd appends to every snapshot it streams,
restored with the release's `etcdutl snapshot restore` into a scratch data directory,
and the restored database is read back with `etcdutl snapshot status -w json`. What
comes out is the snapshot's revision, key count, size and hash; anything else (a
corrupt, truncated or mismatched object, a database etcd cannot open) is one
`VerifyError` whose message is one line. The scratch directory, which holds every
Secret of the hosted cluster, is removed whatever happens.

No Kubernetes here: the CLI reads the credentials (a Secret or a file) and hands them in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hcp.backup.credentials import S3Credentials, s3_storage
from hcp.backup.storage import (
    DEFAULT_REGION,
    DirectoryStorage,
    StorageError,
    file_sha256,
    validate_bucket,
    validate_key,
)
from hcp.backup.upload import SnapshotStatus, UploadError, check_snapshot

RESTORE_TIMEOUT = 600.0
SHA_SUFFIX = ".sha256"


class VerifyError(Exception):
    """The snapshot does not restore, or cannot be fetched; the message is one line."""


@dataclass(frozen=True)
class VerifyReport:
    """What the restored snapshot holds."""

    source: str
    size: int
    """Bytes of the snapshot as stored (etcd's database plus its appended sha256)."""
    sha256: str
    revision: int
    total_key: int
    hash: int
    """etcd's hash of the restored database's keys (`etcdutl snapshot status`)."""
    database_size: int
    version: str

    def lines(self) -> list[str]:
        return [f"snapshot:  {self.source}",
                f"sha256:    {self.sha256}",
                f"size:      {self.size} bytes (database {self.database_size} bytes)",
                f"revision:  {self.revision}",
                f"keys:      {self.total_key}",
                f"hash:      {self.hash}",
                f"etcd:      {self.version or 'unknown'}",
                "restored:  yes"]

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "size": self.size, "sha256": self.sha256,
                           "revision": self.revision, "totalKey": self.total_key, "hash": self.hash,
                           "databaseSize": self.database_size, "version": self.version})


def parse_source(text: str) -> tuple[str, str, str] | Path:
    """`s3://BUCKET/KEY` as (bucket, prefix, name), or a local file (a path or file:///path)."""
    text = text.strip()
    if text.startswith("s3://"):
        bucket, _, key = text[len("s3://"):].partition("/")
        try:
            validate_bucket(bucket)
            validate_key(key, f"s3://{bucket}: key")
        except StorageError as error:
            raise VerifyError(str(error)) from None
        prefix, _, name = key.rpartition("/")
        return bucket, prefix, name
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "file":
            raise VerifyError(f"{text}: not a snapshot; give s3://BUCKET/KEY or a file")
        text = parts.path
    if not text:
        raise VerifyError("no snapshot given: use s3://BUCKET/KEY or a file")
    return Path(text).expanduser().absolute()


def _etcdutl(etcdutl: Path, *args: str) -> str:
    """Run etcdutl; its stdout, or a VerifyError with its last line of complaint."""
    try:
        done = subprocess.run([str(etcdutl), *args], capture_output=True, text=True, timeout=RESTORE_TIMEOUT)
    except FileNotFoundError:
        raise VerifyError(f"{etcdutl}: etcdutl is not there; run `hcp management-cluster up` to build it") from None
    except subprocess.TimeoutExpired:
        raise VerifyError(f"etcdutl {args[0]} {args[1]} did not finish in {RESTORE_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        raise VerifyError(_last_complaint(done.stderr) or f"etcdutl {' '.join(args[:2])} failed "
                                                          f"(exit {done.returncode})")
    return done.stdout


def _last_complaint(stderr: str) -> str:
    """The line that says why: etcdutl's final `Error: ...`, or the message of its last JSON log line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Error:"):
            return line[len("Error:"):].strip()
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            return line
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal", "panic"):
            return "; ".join(str(entry[k]) for k in ("msg", "error") if entry.get(k))
    return lines[-1] if lines else ""


def snapshot_status(etcdutl: Path, path: Path) -> tuple[SnapshotStatus, int]:
    """`etcdutl snapshot status -w json`: revision, key count, size, version, and its hash."""
    out = _etcdutl(etcdutl, "snapshot", "status", str(path), "-w", "json")
    try:
        data = json.loads(out.strip().splitlines()[-1])
        return (SnapshotStatus(int(data["revision"]), int(data["totalKey"]), int(data["totalSize"]),
                               str(data.get("version") or "")), int(data["hash"]))
    except (ValueError, TypeError, KeyError, IndexError):
        raise VerifyError(f"etcdutl snapshot status of {path} printed no status: {out.strip()[:200]!r}") from None


def verify_file(snapshot: Path, etcdutl: Path, scratch: Path, source: str | None = None) -> VerifyReport:
    """Check a snapshot file against etcd's appended sha256, restore it into `scratch` and read it back."""
    where = source or str(snapshot)
    size = snapshot.stat().st_size
    if size == 0:
        raise VerifyError(f"{where}: the snapshot is empty")
    try:
        status, _ = snapshot_status(etcdutl, snapshot)
    except VerifyError as error:
        raise VerifyError(f"{where}: not an etcd snapshot etcd can read: {error}") from None
    try:
        check_snapshot(snapshot, status)
    except UploadError as error:
        raise VerifyError(str(error).replace(str(snapshot), where)) from None
    if size != status.total_size + 32:
        raise VerifyError(f"{where}: the snapshot carries no sha256 from etcd (it was copied from a data "
                          "directory, not saved with etcdctl snapshot save), so its integrity cannot be proven")
    data_dir = scratch / "restored"
    try:
        _etcdutl(etcdutl, "snapshot", "restore", str(snapshot), "--data-dir", str(data_dir),
                 "--name", "verify", "--initial-cluster", "verify=http://127.0.0.1:2380",
                 "--initial-advertise-peer-urls", "http://127.0.0.1:2380")
    except VerifyError as error:
        raise VerifyError(f"{where}: etcdutl snapshot restore refused it: {error}") from None
    database = data_dir / "member" / "snap" / "db"
    if not database.is_file():
        raise VerifyError(f"{where}: etcdutl snapshot restore wrote no database ({database})")
    restored, restored_hash = snapshot_status(etcdutl, database)
    if restored.revision < status.revision:
        raise VerifyError(f"{where}: the restored database is at revision {restored.revision}, "
                          f"the snapshot at {status.revision}")
    return VerifyReport(source=where, size=size, sha256=file_sha256(snapshot), revision=restored.revision,
                        total_key=status.total_key, hash=restored_hash, database_size=status.total_size,
                        version=status.version)


def verify(source: str, etcdutl: Path, credentials: S3Credentials | None = None, region: str = DEFAULT_REGION,
           ca_file: Path | None = None) -> VerifyReport:
    """Fetch the snapshot `source` names into a scratch directory, verify it (verify_file), remove it all."""
    target = parse_source(source)
    scratch = Path(tempfile.mkdtemp(prefix="hcp-verify-"))
    try:
        scratch.chmod(0o700)
        snapshot = scratch / "snapshot.db"
        try:
            if isinstance(target, Path):
                where = str(target)
                if not target.is_file():
                    raise VerifyError(f"{target}: no such file")
                if Path(f"{target}{SHA_SUFFIX}").exists():  # stored by hcp's DirectoryStorage: check its sha256
                    DirectoryStorage(target.parent).get(target.name, snapshot)
                else:
                    shutil.copyfile(target, snapshot)
            else:
                bucket, prefix, name = target
                where = f"s3://{bucket}/{prefix + '/' if prefix else ''}{name}"
                if credentials is None:
                    raise VerifyError(f"{where}: no credentials given (--credentials-secret or --credentials-file)")
                s3_storage(credentials, bucket, prefix, region, scratch, ca_file).get(name, snapshot)
        except StorageError as error:
            raise VerifyError(str(error)) from None
        except OSError as error:
            raise VerifyError(f"{source}: {(error.strerror or str(error)).lower()}") from None
        return verify_file(snapshot, etcdutl, scratch, where)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
