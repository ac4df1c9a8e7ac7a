"""`hcp destroy cluster <platform>`: delete a hosted cluster and wait until nothing of it is left."""

from __future__ import annotations

from pathlib import Path

import click

from hcp.cli.options import DEFAULT_NAMESPACE, Duration, connect, management_options
from hcp.hostedcluster import lifecycle
from hcp.progress import Progress


@click.group("destroy")
def destroy() -> None:
    """Destroy hosted clusters."""


@destroy.group("cluster")
def destroy_cluster() -> None:
    """Destroy a hosted cluster: its HostedCluster, NodePools, control plane and the Secrets `create` made."""


@destroy_cluster.command("kwok")
@click.option("--name", required=True, help="Name of the hosted cluster.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Namespace of the HostedCluster.")
@click.option("--cluster-grace-period", type=Duration(), default="10m", show_default=True,
              help="How long to wait for everything to be gone (e.g. 20m0s) before giving up with an error.")
@management_options
def destroy_cluster_kwok(name: str, namespace: str, cluster_grace_period: float, kubeconfig: Path | None,
                         state_dir: Path) -> None:
    """Destroy a hosted cluster of simulated machines; safe to re-run after an interruption.

    Deletes the HostedCluster (the operator then removes its NodePools and
    control-plane namespace <namespace>-<name>), waits until they are gone,
    and deletes the Secrets `hcp create cluster` made. Also cleans up after a
    `create` that was interrupted before the HostedCluster existed.

    \b
    Examples:
      hcp destroy cluster kwok --name demo
      hcp destroy cluster kwok --name demo --namespace team-a --cluster-grace-period 20m0s
    """
    with connect(kubeconfig, state_dir) as kube:
        lifecycle.destroy_cluster(kube, namespace, name, Progress(), cluster_grace_period)
