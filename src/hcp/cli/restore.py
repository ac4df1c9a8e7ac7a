"""`hcp restore cluster`: bring a hosted cluster back from `hcp backup cluster`, here or on another management cluster."""

from __future__ import annotations

from pathlib import Path

import click

from hcp.cli.backup import credentials_options, file_credentials
from hcp.cli.options import Duration, connect, management_options
from hcp.hostedcluster.backup import restore_cluster
from hcp.hostedcluster.lifecycle import management_node_address
from hcp.progress import Progress


@click.group("restore")
def restore() -> None:
    """Restore hosted clusters from backups."""


@restore.command("cluster")
@click.option("--from", "source", required=True, metavar="s3://BUCKET/PREFIX|DIR",
              help="The backup: the location `hcp backup cluster` printed (s3://… or a directory).")
@click.option("--name", help="Name of the restored hosted cluster. Default: the one saved.")
@click.option("--namespace", help="Namespace of the restored HostedCluster. Default: the one saved.")
@credentials_options
@click.option("--api-server-address", metavar="ADDRESS",
              help="Address to publish the NodePort services on. Default: the saved one on the management "
                   "cluster the backup came from, else this management cluster's node address.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait until the control plane is Available and every NodePool has its nodes.")
@click.option("--timeout", type=Duration(), default="15m", show_default=True, help="How long to wait.")
@management_options
def cluster_command(source: str, name: str | None, namespace: str | None, credentials_secret: str | None,
                    credentials_file: Path | None, ca_file: Path | None, region: str, api_server_address: str | None,
                    wait: bool, timeout: float, kubeconfig: Path | None, state_dir: Path) -> None:
    """Recreate a hosted cluster from a backup, on this or another management cluster.

    Reads the backup (each file checked against its sha256), refuses to take
    over anything that exists under the names it would use, then creates the
    Secrets, NodePools and HostedCluster (paused), puts the saved signers and
    service-account key in the control-plane namespace, and starts the cluster:
    etcd restores from the snapshot (spec.etcd.managed.storage.restoreSnapshotURL),
    so every object is back, service-account tokens and client certificates
    issued before stay valid, and certificates whose names changed are
    re-issued. With --name, the Secrets and NodePools named after the cluster
    follow the new name, and Nodes are relabelled to their renamed pool.

    The snapshot must be readable by the control plane: a backup in S3 is read
    with the Secret --credentials-secret names (default: the embedded object
    store's); a directory backup, or one read with --credentials-file, is copied
    into the management cluster's object store for the restore and removed after.

    \b
    Examples:
      hcp restore cluster --from s3://hcp-backups/clusters/clusters-demo/20261206T181500Z
      hcp restore cluster --from /var/backups/hcp/clusters-demo/20261206T181500Z --name demo2
      hcp restore cluster --from ./clusters-demo/20261206T181500Z --kubeconfig other-management.kubeconfig
    """
    credentials = file_credentials(credentials_secret, credentials_file, ca_file)
    with connect(kubeconfig, state_dir) as kube:
        result = restore_cluster(kube, source, namespace=namespace, name=name,
                                 credentials_secret=credentials_secret, credentials=credentials, region=region,
                                 log=Progress(), wait=wait, timeout=timeout,
                                 node_address=lambda: management_node_address(kube, state_dir),
                                 api_server_address=api_server_address)
    if not wait:
        click.echo(f"restoring {result.namespace}/{result.name}; follow it with "
                   f"`kubectl -n {result.namespace} get hostedcluster {result.name}`")
        return
    click.echo(f"restored {result.namespace}/{result.name}: API server at {result.endpoint}, {result.nodes} node(s)")
    click.echo(f"kubeconfig: hcp create kubeconfig --namespace {result.namespace} --name {result.name}")
