"""`python -m hcp.backup.restore`: fetch the snapshot an etcd member starts from (restoreSnapshotURL).

Run from the operator's image as the first init container of an etcd pod whose
HostedControlPlane has `spec.etcd.managed.storage.restoreSnapshotURL` (docs 7.4.2),
after `reset-member` has decided how the member starts. It fetches the snapshot only
when the member has no data (`<data dir>/member/snap/db` missing) and does not join a
running cluster (`reset-member` wrote `existing`): a restarted pod, or a member whose
volume was emptied while the others run, never restores again. The next init container
(etcd's image) runs `etcdutl snapshot restore` on what this one wrote, and removes it.

- `https://...` (a presigned URL): a plain GET, with certificate verification on, against
  the public CAs (certifi's bundle, the image has no system store) plus the `ca.crt` of the
  restore credentials Secret when one is mounted;
- `s3://bucket/key`: through hcp.backup.storage with the mounted restore credentials Secret
  (HyperShift's credentials file format, as for HCPEtcdBackup); the object must carry the
  sha256 hcp records (an HCPEtcdBackup's snapshot does), which is checked while it downloads.

`etcdutl snapshot restore` then checks the sha256 etcd appends to every snapshot. A failure
writes one line to the container's termination message, which the HostedControlPlane
controller shows in its `EtcdAvailable` condition (reason `EtcdRestoreFailed`).
"""

from __future__ import annotations

import argparse
import shutil
import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hcp.backup.credentials import CA_KEY, CredentialsError, parse_credentials, read_credentials_dir
from hcp.backup.termination import TERMINATION_LOG, write_message
from hcp.backup.storage import S3Storage, StorageError

CHUNK = 1024 * 1024
TIMEOUT = 60.0
"""Seconds without progress before a download is abandoned (the pod retries)."""
DEFAULT_REGION = "us-east-1"
"""Region of an s3:// bucket: the URL has none; endpoints other than AWS's ignore it."""
MEMBER_DB = Path("member/snap/db")


class RestoreError(RuntimeError):
    """The snapshot cannot be fetched; the message is the one line the condition shows."""


@dataclass(frozen=True)
class Decision:
    """Whether this member restores, and why (printed to the container's log)."""

    restore: bool
    reason: str


def decide(data_dir: Path, cluster_state: str) -> Decision:
    """Restore only a member with no data that bootstraps a new cluster."""
    if (data_dir / MEMBER_DB).exists():
        return Decision(False, f"{data_dir} already holds a member: it starts with its data, no restore")
    if cluster_state.strip() == "existing":
        return Decision(False, "the member joins the running cluster (reset-member added it): no restore")
    return Decision(True, f"{data_dir} is empty and the cluster is new: restoring the snapshot")


def read_cluster_state(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return "new"


def parse_s3_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if parts.scheme != "s3" or not bucket or not key or parts.query or parts.fragment:
        raise RestoreError(f"restoreSnapshotURL {url!r} is not s3://<bucket>/<key>")
    return bucket, key


def _credentials(credentials_dir: Path | None, url: str, required: bool):
    """The mounted restore credentials (None when absent and not required)."""
    files = read_credentials_dir(credentials_dir) if credentials_dir and credentials_dir.is_dir() else {}
    if not files:
        if required:
            raise RestoreError(f"{url} needs credentials: Secret etcd-restore-credentials in the control-plane "
                               "namespace is missing or empty (or use a presigned https:// URL)")
        return None, None
    ca_file = credentials_dir / CA_KEY if files.get(CA_KEY) else None
    if not required:
        return None, ca_file
    try:
        return parse_credentials(files, where="the restore credentials Secret"), ca_file
    except CredentialsError as error:
        raise RestoreError(str(error)) from None


def fetch_s3(url: str, destination: Path, credentials_dir: Path | None) -> int:
    bucket, key = parse_s3_url(url)
    credentials, ca_file = _credentials(credentials_dir, url, required=True)
    try:
        storage = S3Storage(credentials.s3_config(DEFAULT_REGION, ca_file), bucket)
        return storage.get(key, destination).size
    except (StorageError, CredentialsError) as error:
        raise RestoreError(f"cannot fetch the snapshot: {error}") from None


def https_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verification on: the public CAs, and the credentials Secret's ca.crt when there is one."""
    try:
        import certifi
        context = ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def _redacted(url: str) -> str:
    """A presigned URL without its query (the signature)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def fetch_https(url: str, destination: Path, credentials_dir: Path | None) -> int:
    shown = _redacted(url)
    _, ca_file = _credentials(credentials_dir, url, required=False)
    partial = destination.with_name(destination.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT, context=https_context(ca_file)) as response, \
                partial.open("wb") as out:
            expected = response.headers.get("Content-Length")
            shutil.copyfileobj(response, out, CHUNK)
            size = out.tell()
        if expected and expected.isdigit() and int(expected) != size:
            raise RestoreError(f"cannot fetch the snapshot {shown}: truncated, {size} of {expected} bytes")
        if size == 0:
            raise RestoreError(f"cannot fetch the snapshot {shown}: the object is empty")
        partial.replace(destination)
        return size
    except urllib.error.HTTPError as error:
        raise RestoreError(f"cannot fetch the snapshot {shown}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise RestoreError(f"cannot fetch the snapshot {shown}: {error.reason}") from None
    except (OSError, ssl.SSLError) as error:
        raise RestoreError(f"cannot fetch the snapshot {shown}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)


def fetch(url: str, destination: Path, credentials_dir: Path | None) -> int:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)
    scheme = urlsplit(url).scheme
    if scheme == "https":
        return fetch_https(url, destination, credentials_dir)
    if scheme == "s3":
        return fetch_s3(url, destination, credentials_dir)
    raise RestoreError(f"restoreSnapshotURL {_redacted(url)!r} is neither https:// nor s3://")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hcp.backup.restore", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="restoreSnapshotURL: https://... or s3://bucket/key")
    parser.add_argument("--data-dir", type=Path, required=True, help="the member's etcd data dir")
    parser.add_argument("--cluster-state", type=Path, required=True, help="the file reset-member wrote")
    parser.add_argument("--snapshot", type=Path, required=True, help="where the snapshot is written")
    parser.add_argument("--credentials-dir", type=Path, default=None, help="the mounted restore credentials")
    parser.add_argument("--termination-log", type=Path, default=TERMINATION_LOG)
    return parser.parse_args(argv)



def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    decision = decide(options.data_dir, read_cluster_state(options.cluster_state))
    print(decision.reason)
    if not decision.restore:
        options.snapshot.unlink(missing_ok=True)
        return 0
    try:
        size = fetch(options.url, options.snapshot, options.credentials_dir)
    except RestoreError as error:
        line = "etcd restore: " + " ".join(str(error).split())
        print(line, file=sys.stderr)
        write_message(options.termination_log, line)
        options.snapshot.unlink(missing_ok=True)
        return 1
    print(f"fetched the snapshot {_redacted(options.url)}: {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
