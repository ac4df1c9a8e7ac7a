"""`hcp management-cluster` (alias `mc`): the embedded single-node management cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from hcp.management import cluster
from hcp.upstream import binaries
from hcp.management.layout import Layout, default_state_dir
from hcp.progress import Progress

DEFAULT_NAME = "mgmt"


def _absolute(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """The node's processes (kubelet's podLogsDir above all) need absolute, normalized paths."""
    return Path(os.path.abspath(value))


state_dir_option = click.option(
    "--state-dir", type=click.Path(path_type=Path), default=default_state_dir, callback=_absolute,
    show_default="$HCP_STATE_DIR or ~/.local/state/hcp/management",
    help="Directory holding the cluster's data, certificates and logs.",
)


def _describe(error: OSError) -> str:
    if error.filename is None:
        return error.strerror or str(error)
    target = f" -> {error.filename2}" if error.filename2 else ""
    return f"{error.filename}{target}: {error.strerror or error}"


class ManagementClusterGroup(click.Group):
    """Turns what the host refuses (a busy path, a failed host command) into one error line, never a traceback.

    The commands here work on the host itself, so an OSError or a failing host
    tool is a condition a user can act on; hcp's entry point prints
    ClusterError as `error: ...` and exits 1.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as error:
            command = ctx.invoked_subcommand or "command"
            raise cluster.ClusterError(f"management-cluster {command}: {_describe(error)}") from error
        except subprocess.CalledProcessError as error:
            command = ctx.invoked_subcommand or "command"
            stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr or ""
            argv = " ".join(map(str, error.cmd)) if isinstance(error.cmd, (list, tuple)) else str(error.cmd)
            last = stderr.strip().splitlines()[-1:]
            raise cluster.ClusterError(
                f"management-cluster {command}: `{argv}` exited with code {error.returncode}"
                + (f": {last[0]}" if last else "")
            ) from error


@click.group("management-cluster", cls=ManagementClusterGroup)
def management_cluster() -> None:
    """Run a real single-node Kubernetes management cluster on this machine.

    The node is a network namespace on this host running etcd, kube-apiserver,
    kube-controller-manager, kube-scheduler, kubelet with containerd and runc,
    kube-proxy, kube-router's firewall (it enforces NetworkPolicies) and a
    local OCI registry, with CoreDNS and a default
    StorageClass as add-ons. Needs root.
    """


@management_cluster.command()
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Cluster name (1-10 of a-z, 0-9, -).")
@state_dir_option
def up(name: str, state_dir: Path) -> None:
    """Start the cluster (building what is missing); safe to re-run.

    \b
    Example:
      hcp management-cluster up
      kubectl --kubeconfig <(hcp management-cluster kubeconfig) get nodes
    """
    progress = Progress()
    layout = Layout(state_dir)
    config = cluster.up(layout, name, progress)
    progress(f"management cluster {config.name} is up; API server {config.api_server_url}")
    click.echo(f"kubeconfig: {layout.admin_kubeconfig}")


@management_cluster.command()
@state_dir_option
def down(state_dir: Path) -> None:
    """Stop every process of the cluster; its data stays for the next `up`."""
    cluster.down(Layout(state_dir), Progress())


@management_cluster.command()
@state_dir_option
def delete(state_dir: Path) -> None:
    """Stop the cluster and remove its state dir (all of its data)."""
    cluster.delete(Layout(state_dir), Progress())


@management_cluster.command()
@state_dir_option
def status(state_dir: Path) -> None:
    """Show each component: running, healthy, restarts and log file. Exits 1 unless all are healthy."""
    layout = Layout(state_dir)
    config = layout.load_config()
    if config is None:
        raise cluster.ClusterError(f"no management cluster in {state_dir}; run `hcp management-cluster up`")
    statuses = cluster.component_status(layout, config)
    if not statuses:
        click.echo(f"management cluster {config.name} is not running")
        sys.exit(1)
    rows = [("COMPONENT", "RUNNING", "HEALTHY", "RESTARTS", "LOG")] + [
        (s.name, "yes" if s.running else "no", "yes" if s.healthy else "no", str(s.restarts), s.log)
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if not all(s.healthy for s in statuses):
        sys.exit(1)


@management_cluster.command()
@state_dir_option
def kubeconfig(state_dir: Path) -> None:
    """Print the cluster's admin kubeconfig."""
    layout = Layout(state_dir)
    if not layout.admin_kubeconfig.exists():
        raise cluster.ClusterError(f"no management cluster in {state_dir}; run `hcp management-cluster up`")
    click.echo(layout.admin_kubeconfig.read_text(), nl=False)


@management_cluster.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@state_dir_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kubectl(state_dir: Path, args: tuple[str, ...]) -> None:
    """Run hcp's kubectl against the cluster as its admin.

    \b
    Example:
      hcp management-cluster kubectl -- get nodes,pods -A
    """
    layout = Layout(state_dir)
    if not layout.admin_kubeconfig.exists():
        raise cluster.ClusterError(f"no management cluster in {state_dir}; run `hcp management-cluster up`")
    command = binaries.binary("kubernetes", "kubectl")
    os.execv(command, [str(command), "--kubeconfig", str(layout.admin_kubeconfig), *args])


@management_cluster.command("trust-registry")
@click.argument("registry", metavar="HOST[:PORT]")
@click.option("--ca", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CA certificate (PEM) that signs the registry's certificate; default: the host's CAs.")
@state_dir_option
def trust_registry(registry: str, ca: Path | None, state_dir: Path) -> None:
    """Let the node pull images from another registry (one `hcp release publish --registry` pushed to).

    On any other management cluster this is the administrator's part: the nodes'
    container runtime must trust the registry's CA. Logins come from pods' imagePullSecrets.
    """
    from hcp.images import RegistryLocation
    from hcp.management import host_processes
    from hcp.management.layout import Layout

    location = RegistryLocation.parse(registry)
    if location.prefix:
        raise click.BadParameter("a registry host, without a repository prefix", param_hint="REGISTRY")
    layout = Layout(state_dir)
    if layout.load_config() is None:
        raise cluster.ClusterError(f"no management cluster in {state_dir}")
    path = host_processes.trust_registry(layout, location.host, ca.read_bytes() if ca else None)
    click.echo(f"the node pulls from {location.host} ({path})")
