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


def _destroy_command(platform: str, what: str, note: str = "") -> None:
    """`hcp destroy cluster <platform>`: the same steps on every platform (the operator removes the machines)."""

    @destroy_cluster.command(platform, help=f"""Destroy a hosted cluster {what}; safe to re-run after an interruption.

    Deletes the HostedCluster (the operator then removes its NodePools and
    control-plane namespace <namespace>-<name>), waits until they are gone,
    and deletes the Secrets `hcp create cluster` made. Also cleans up after a
    `create` that was interrupted before the HostedCluster existed.{note}

    \b
    Examples:
      hcp destroy cluster {platform} --name demo
      hcp destroy cluster {platform} --name demo --namespace team-a --cluster-grace-period 20m0s
    """)
    @click.option("--name", required=True, help="Name of the hosted cluster.")
    @click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Namespace of the HostedCluster.")
    @click.option("--cluster-grace-period", type=Duration(), default="10m", show_default=True,
                  help="How long to wait for everything to be gone (e.g. 20m0s) before giving up with an error.")
    @management_options
    def command(name: str, namespace: str, cluster_grace_period: float, kubeconfig: Path | None,
                state_dir: Path) -> None:
        with connect(kubeconfig, state_dir) as kube:
            lifecycle.destroy_cluster(kube, namespace, name, Progress(), cluster_grace_period)


_destroy_command("kwok", "of simulated machines")
_destroy_command("container", "whose machines are pods of the management cluster")
_destroy_command("none", "whose machines joined on their own",
                 "\n\n    The machines themselves are their owner's: stop them (or reinstall them); hcp\n"
                 "    cannot reach them, and their credentials stop working with the control plane.")
