"""`hcp backup verify` and `hcp backup cluster`: prove an etcd snapshot restores; save a whole hosted cluster."""

from __future__ import annotations

from pathlib import Path

import click

from hcp.backup.credentials import S3Credentials, parse_credentials
from hcp.backup.storage import DEFAULT_REGION
from hcp.backup.verify import VerifyError, parse_source, verify
from hcp.cli.options import Duration, connect, management_options, name_options
from hcp.hostedcluster.backup import OPERATOR_NAMESPACE, STORE_SECRET, backup_cluster, read_credentials
from hcp.upstream.binaries import binary
from hcp.progress import Progress


def credentials_options(command):
    """--credentials-secret, --credentials-file, --ca-file and --region: how to reach an S3 bucket."""
    for option in reversed((
        click.option("--credentials-secret", metavar="NAME",
                     help=f"Secret in namespace {OPERATOR_NAMESPACE} of the management cluster with the S3 "
                          f"credentials (HCPEtcdBackup's format). Default for s3:// locations: {STORE_SECRET}, "
                          "the embedded object store's."),
        click.option("--credentials-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     help="An AWS credentials file ([default] profile, endpoint_url for a non-AWS endpoint) "
                          "instead."),
        click.option("--ca-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                     help="PEM CA that signs the endpoint's certificate (with --credentials-file)."),
        click.option("--region", default=DEFAULT_REGION, show_default=True, help="The bucket's region."),
    )):
        command = option(command)
    return command


def file_credentials(credentials_secret: str | None, credentials_file: Path | None,
                     ca_file: Path | None) -> S3Credentials | None:
    """The credentials a --credentials-file gives (its CA from --ca-file); None to read a Secret instead."""
    if credentials_secret and credentials_file:
        raise click.UsageError("give --credentials-secret or --credentials-file, not both")
    if credentials_file is None:
        return None
    files = {"credentials": credentials_file.read_bytes()}
    if ca_file is not None:
        files["ca.crt"] = ca_file.read_bytes()
    return parse_credentials(files, where=f"credentials file {credentials_file}")


@click.group("backup")
def backup() -> None:
    """Back up hosted clusters and check backups."""


@backup.command("verify")
@click.option("--from", "source", required=True, metavar="s3://BUCKET/KEY|FILE",
              help="The snapshot: an object (HCPEtcdBackup's status.snapshotURL) or a local file.")
@credentials_options
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
    credentials = file_credentials(credentials_secret, credentials_file, ca_file)
    if credentials is None and not isinstance(parse_source(source), Path):
        with connect(kubeconfig, state_dir) as kube:
            credentials = read_credentials(kube, credentials_secret or STORE_SECRET)
    report = verify(source, binary("etcd", "etcdutl"), credentials, region, ca_file)
    click.echo(report.to_json() if as_json else "\n".join(report.lines()))


@backup.command("cluster")
@name_options
@click.option("--to", "target", required=True, metavar="s3://BUCKET[/PREFIX]|DIR",
              help="Where the backup goes: a bucket (and key prefix), or a local directory.")
@credentials_options
@click.option("--timeout", type=Duration(), default="10m", show_default=True,
              help="How long to wait for the etcd snapshot.")
@management_options
def cluster_command(name: str, namespace: str, target: str, credentials_secret: str | None,
                    credentials_file: Path | None, ca_file: Path | None, region: str, timeout: float,
                    kubeconfig: Path | None, state_dir: Path) -> None:
    """Save everything a hosted cluster needs to come back, under TARGET/<namespace>-<name>/<time>/.

    The HostedCluster and its NodePools, the Secrets they reference (pull
    secret, SSH key, encryption keys), the control plane's signers and
    service-account signing key, and an etcd snapshot taken from a live member
    (an HCPEtcdBackup; the API keeps serving), proven by restoring it into a
    scratch etcd data dir. manifest.json, written last, lists what was saved
    and each file's sha256. A failure removes what was stored.

    A directory backup holds the cluster's keys in plain files (mode 0600,
    directory 0700): keep it as safe as the management cluster's etcd. The
    snapshot passes through the management cluster's object store on its way
    there.

    \b
    Examples:
      hcp backup cluster --name demo --to s3://hcp-backups/clusters
      hcp backup cluster --name demo --to /var/backups/hcp
      hcp restore cluster --from s3://hcp-backups/clusters/clusters-demo/20261206T181500Z --name demo2
    """
    credentials = file_credentials(credentials_secret, credentials_file, ca_file)
    with connect(kubeconfig, state_dir) as kube:
        result = backup_cluster(kube, namespace, name, target, credentials_secret=credentials_secret,
                                credentials=credentials, region=region, etcdutl=binary("etcd", "etcdutl"),
                                log=Progress(), timeout=timeout)
    click.echo(f"backed up {namespace}/{name} to {result.location} ({result.objects} objects, etcd revision "
               f"{result.snapshot.revision}, {result.snapshot.total_key} keys)")
    click.echo(f"restore it with: hcp restore cluster --from {result.location}")


__all__ = ["backup", "VerifyError"]
