"""`hcp backup verify`: restore a stored etcd snapshot into a scratch etcd data dir and report what it holds."""

from __future__ import annotations

from pathlib import Path

import click
from lightkube.resources.core_v1 import Secret

from hcp.backup.credentials import CredentialsError, decode_secret_data, parse_credentials
from hcp.backup.storage import DEFAULT_REGION
from hcp.backup.verify import VerifyError, parse_source, verify
from hcp.cli.options import connect, management_options
from hcp.management.binaries import binary

OPERATOR_NAMESPACE = "hypershift"
DEFAULT_SECRET = "object-store-credentials"
"""The Secret `hcp management-cluster up` writes for the embedded object store."""


@click.group("backup")
def backup() -> None:
    """Check etcd backups of hosted clusters."""


@backup.command("verify")
@click.option("--from", "source", required=True, metavar="s3://BUCKET/KEY|FILE",
              help="The snapshot: an object (HCPEtcdBackup's status.snapshotURL) or a local file.")
@click.option("--credentials-secret", metavar="NAME",
              help=f"Secret in namespace {OPERATOR_NAMESPACE} of the management cluster with the S3 credentials "
                   f"(HCPEtcdBackup's format). Default for s3:// sources: {DEFAULT_SECRET}.")
@click.option("--credentials-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="An AWS credentials file ([default] profile, endpoint_url for a non-AWS endpoint) instead.")
@click.option("--ca-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="PEM CA that signs the endpoint's certificate (with --credentials-file).")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="The bucket's region.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one line of JSON.")
@management_options
def verify_command(source: str, credentials_secret: str | None, credentials_file: Path | None,
                   ca_file: Path | None, region: str, as_json: bool, kubeconfig: Path | None,
                   state_dir: Path) -> None:
    """Restore an etcd snapshot into a scratch data dir with etcdutl and report it.

    Fetches the snapshot (checking the sha256 recorded when it was stored and
    the one etcd appended), restores it with `etcdutl snapshot restore`, reads
    the restored database with `etcdutl snapshot status`, and prints its
    revision, key count, size and hash. A corrupt, truncated or mismatched
    snapshot is one error line and exit status 1. Nothing is left on disk.

    \b
    Examples:
      hcp backup verify --from s3://hcp-backups/clusters-demo/1765000000.db
      hcp backup verify --from s3://my-bucket/demo/1765000000.db --credentials-secret aws-backup --region eu-west-1
      hcp backup verify --from ./snapshot.db
    """
    if credentials_secret and credentials_file:
        raise click.UsageError("give --credentials-secret or --credentials-file, not both")
    credentials = None
    if not isinstance(parse_source(source), Path):
        if credentials_file is not None:
            files = {"credentials": credentials_file.read_bytes()}
            credentials = parse_credentials(files, where=f"credentials file {credentials_file}")
        else:
            name = credentials_secret or DEFAULT_SECRET
            with connect(kubeconfig, state_dir) as kube:
                secret = kube.get_or_none(Secret, name, OPERATOR_NAMESPACE)
            if secret is None:
                raise CredentialsError(f"credential Secret {name!r} not found in namespace {OPERATOR_NAMESPACE!r}")
            credentials = parse_credentials(decode_secret_data(secret.data),
                                            where=f"credential Secret {name!r} in namespace {OPERATOR_NAMESPACE!r}")
    report = verify(source, binary("etcd", "etcdutl"), credentials, region, ca_file)
    click.echo(report.to_json() if as_json else "\n".join(report.lines()))


__all__ = ["backup", "VerifyError"]
