"""`hcp migrate cluster`: move a hosted cluster to another management cluster in one command."""

from __future__ import annotations

from pathlib import Path

import click

from hcp.cli.options import Duration, connect, management_options, name_options
from hcp.hostedcluster.kube import Kube
from hcp.hostedcluster.lifecycle import management_node_address
from hcp.hostedcluster.migrate import migrate_cluster
from hcp.upstream.binaries import binary
from hcp.progress import Progress


@click.group("migrate")
def migrate() -> None:
    """Move hosted clusters between management clusters."""


@migrate.command("cluster")
@name_options
@click.option("--to-kubeconfig", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Kubeconfig of the target management cluster (with hcp's operator installed).")
@click.option("--keep-backup", type=click.Path(path_type=Path, file_okay=False),
              help="Keep the backup the migration takes in this directory (default: a private temporary one, "
                   "removed after).")
@click.option("--timeout", type=Duration(), default="15m", show_default=True,
              help="How long to wait for the cluster to be Available on the target.")
@management_options
def cluster_command(name: str, namespace: str, to_kubeconfig: Path, keep_backup: Path | None, timeout: float,
                    kubeconfig: Path | None, state_dir: Path) -> None:
    """Move a hosted cluster to another management cluster (the docs' disaster-recovery procedure).

    Pauses the cluster and stops its API server on the source (so every write
    a client saw succeed is in the backup), backs it up (hcp backup cluster),
    restores it on the target (hcp restore cluster) and waits until it is
    Available with its nodes, then removes it from the source. If the backup
    or the restore fails, what the target has of it is removed and the
    source is started again. The API endpoint changes: get a new kubeconfig
    from the target. The hosted API is unavailable from the pause to the end
    of the restore; the command reports for how long.

    \b
    Examples:
      hcp migrate cluster --name demo --to-kubeconfig ./other-management.kubeconfig
      hcp migrate cluster --name demo --namespace team-a --to-kubeconfig dr.kubeconfig --keep-backup /var/backups/hcp
    """
    with connect(kubeconfig, state_dir) as source, Kube.from_file(to_kubeconfig) as target:
        result = migrate_cluster(source, target, namespace, name, etcdutl=binary("etcd", "etcdutl"), log=Progress(),
                                 target_address=lambda: management_node_address(target, state_dir),
                                 keep_backup=keep_backup, timeout=timeout)
    click.echo(f"migrated {namespace}/{name} to {target.server}: API server at {result.restored.endpoint}, "
               f"{result.restored.nodes} node(s); the hosted API was unavailable for {result.unavailable_seconds:.1f}s")
    click.echo(f"kubeconfig: hcp create kubeconfig --namespace {namespace} --name {name} --kubeconfig {to_kubeconfig}")
    if keep_backup:
        click.echo(f"backup kept at {result.backup}")
