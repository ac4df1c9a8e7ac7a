"""Entry point of the `hcp` command: the command groups, and one error line for every failure."""

from __future__ import annotations

import sys

import click
import httpx2
from lightkube import ApiError
from pydantic import ValidationError

from hcp import __version__
from hcp.api.parse import validation_message
from hcp.backup.bundle import BundleError
from hcp.backup.storage import StorageError
from hcp.backup.verify import VerifyError
from hcp.cli.backup import backup
from hcp.cli.capacity import capacity
from hcp.cli.completion import completion
from hcp.cli.console import console
from hcp.cli.create import create
from hcp.cli.destroy import destroy
from hcp.cli.dump import dump
from hcp.cli.install import install, uninstall
from hcp.cli.management_cluster import management_cluster
from hcp.cli.migrate import migrate
from hcp.cli.release import release
from hcp.cli.restore import restore
from hcp.cli.version import version
from hcp.hostedcluster.backup import BackupError
from hcp.hostedcluster.kube import HostedClusterError
from hcp.images import RegistryError
from hcp.upstream.binaries import BuildError
from hcp.management.cluster import ClusterError
from hcp.management.network import NetworkError
from hcp.operator.install import InstallError

USER_ERRORS = (VerifyError, StorageError, BackupError, BundleError, ClusterError, BuildError, NetworkError, RegistryError, InstallError, HostedClusterError, ValueError)


class AliasedGroup(click.Group):
    """Accepts short aliases for commands without listing them twice in --help."""

    aliases = {"mc": "management-cluster"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        return command.name if command else name, command, rest


@click.group(cls=AliasedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hcp")
def cli() -> None:
    """Hosted Kubernetes control planes on a management cluster.

    \b
    Quick start on one machine:
      hcp management-cluster up          # a real single-node management cluster
      hcp install                        # the operator
      hcp create cluster kwok --name demo --wait
      hcp create kubeconfig --name demo > demo.kubeconfig
    """


for command in (management_cluster, install, uninstall, release, create, destroy, dump, backup, restore, migrate,
                capacity, console, version, completion):
    cli.add_command(command)


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except ValidationError as error:  # before ValueError, of which it is one: one line, not pydantic's report
        click.echo(f"error: {validation_message(error)}", err=True)
        sys.exit(1)
    except USER_ERRORS as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except ApiError as error:
        click.echo(f"error: the API server refused a request: {error.status.message}", err=True)
        sys.exit(1)
    except httpx2.TransportError as error:
        click.echo(f"error: cannot reach the API server ({error or type(error).__name__}); check --kubeconfig, "
                   f"or start the embedded cluster with `hcp management-cluster up`", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
