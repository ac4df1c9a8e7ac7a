"""`hcp dump cluster`: gather a hosted cluster's diagnostics into a directory (the must-gather, docs 12.1)."""

from __future__ import annotations

from pathlib import Path

import click

from hcp.cli.options import DEFAULT_NAMESPACE, connect, management_options
from hcp.hostedcluster.dump import ERRORS, dump_cluster
from hcp.progress import Progress


@click.group("dump")
def dump() -> None:
    """Gather diagnostics."""


@dump.command("cluster")
@click.option("--name", required=True, help="Name of the hosted cluster.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Namespace of the HostedCluster.")
@click.option("--artifact-dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory to write the dump into (created if missing).")
@click.option("--dump-guest-cluster", is_flag=True,
              help="Also dump the hosted cluster's nodes, CRDs and objects, through its admin kubeconfig.")
@click.option("--archive", is_flag=True, help="Also pack the dump into <artifact-dir>/hypershift-dump.tar.gz.")
@management_options
def dump_cluster_command(name: str, namespace: str, artifact_dir: Path, dump_guest_cluster: bool, archive: bool,
                         kubeconfig: Path | None, state_dir: Path) -> None:
    """Dump a hosted cluster's objects, events and logs for troubleshooting; never Secret values.

    Writes the management cluster's nodes; the HostedCluster, its NodePools
    and their Secrets (names, types and keys only) and events; every object of
    the control-plane namespace and of the operator's namespace (NetworkPolicies
    and, where the Prometheus Operator is installed, ServiceMonitors included,
    if you may list them); the current
    and previous logs of each of their containers, among them each
    kube-apiserver's audit log (the log of its audit-logs container).

    \b
    Examples:
      hcp dump cluster --name demo --artifact-dir ./demo-dump --archive
      hcp dump cluster --name demo --artifact-dir ./demo-dump --dump-guest-cluster
    """
    progress = Progress()
    with connect(kubeconfig, state_dir) as kube:
        errors = dump_cluster(kube, namespace, name, artifact_dir, progress, guest=dump_guest_cluster,
                              archive=archive)
    if errors:
        progress(f"{len(errors)} items could not be gathered; see {artifact_dir / ERRORS}")
    progress(f"dump of hosted cluster {namespace}/{name} written to {artifact_dir}")
