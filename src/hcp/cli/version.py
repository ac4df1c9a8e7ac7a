"""`hcp version`: the client's version and newest Kubernetes, and what the operator on the server supports.

The three lines mirror HyperShift's (docs 6.3.2); the server's come from
ConfigMap hypershift/supported-versions, which the operator writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from lightkube.resources.core_v1 import ConfigMap

from hcp import __version__
from hcp.cli.options import connect, management_options
from hcp.hostedcluster.kube import HostedClusterError
from hcp.release.versions import (
    SUPPORTED_VERSIONS_NAME,
    SUPPORTED_VERSIONS_NAMESPACE,
    release_version,
    toolsets_newest_first,
)


@click.command("version")
@click.option("--client-only", is_flag=True, help="Print only the client's version; needs no management cluster.")
@management_options
def version(client_only: bool, kubeconfig: Path | None, state_dir: Path) -> None:
    """Print the client's version and the versions the management cluster's operator supports.

    \b
    Example:
      $ hcp version
      Client Version: hcp: 0.1.0. Latest supported Kubernetes: 1.37.1
      Server Version: 0.1.0
      Server Supports Kubernetes Versions: 1.37, 1.36
    """
    newest = release_version(toolsets_newest_first()[0])
    click.echo(f"Client Version: hcp: {__version__}. Latest supported Kubernetes: {newest}")
    if client_only:
        return
    # An unreachable server fails below with one error line, after the client line is out.
    with connect(kubeconfig, state_dir) as kube:
        config_map = kube.get_or_none(ConfigMap, SUPPORTED_VERSIONS_NAME, SUPPORTED_VERSIONS_NAMESPACE)
    if config_map is None:
        raise HostedClusterError(f"no ConfigMap {SUPPORTED_VERSIONS_NAMESPACE}/{SUPPORTED_VERSIONS_NAME} on the "
                                 f"management cluster; install the operator with `hcp install`")
    data = config_map.data or {}
    versions = json.loads(data.get("supported-versions") or "{}").get("versions") or []
    click.echo(f"Server Version: {data.get('server-version', 'unknown')}")
    click.echo(f"Server Supports Kubernetes Versions: {', '.join(versions)}")
