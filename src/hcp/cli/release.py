"""`hcp release publish`: every supported release payload and the images it names, pushed to any OCI registry.

What `hcp management-cluster up` does for the embedded registry, for a registry
of one's own: a management cluster that is not the embedded one then resolves
releases there (`hcp install --registry`). Everything is built from the cached
upstream binaries; pushes skip what the registry already holds, so publishing
again is cheap and safe.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hcp import release as releases
from hcp.images import Credentials, RegistryClient, RegistryLocation
from hcp.images.credentials import for_registry, load_docker_config
from hcp.operator import image as operator_image
from hcp.progress import Progress
from hcp.upstream import images


def credentials(location: RegistryLocation, username: str | None, password_stdin: bool, password: str | None,
                docker_config: Path | None) -> Credentials | None:
    """The login for `location`: --username with a password (stdin or environment), or a docker config's."""
    if docker_config is not None:
        if username or password_stdin or password:
            raise click.UsageError("give either --docker-config or --username with a password, not both")
        found = for_registry(load_docker_config(docker_config), location.host)
        if found is None:
            raise click.BadParameter(f"{docker_config} holds no credentials for {location.host}",
                                     param_hint="--docker-config")
        return found
    if password_stdin and password:
        raise click.UsageError("give the password either on stdin (--password-stdin) or in "
                               "$HCP_REGISTRY_PASSWORD, not both")
    if not username:
        if password_stdin or password:
            raise click.UsageError("a password needs --username")
        return None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--username needs a password: --password-stdin, or $HCP_REGISTRY_PASSWORD")
    return Credentials(username, password)


@click.group("release")
def release() -> None:
    """Release payloads: the Kubernetes versions hcp runs and the images of their components."""


@release.command("publish")
@click.option("--registry", required=True, metavar="HOST[:PORT][/PREFIX]",
              help="The OCI registry to push to (TLS); images are named <registry>/hcp/<component>:<version>.")
@click.option("--ca", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CA certificate (PEM) that signs the registry's certificate; default: the system's CAs.")
@click.option("--username", help="Registry login; the password comes from --password-stdin or "
                                 "$HCP_REGISTRY_PASSWORD (never from the command line, which `ps` shows).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--password", envvar="HCP_REGISTRY_PASSWORD", hidden=True)
@click.option("--docker-config", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A docker config (e.g. ~/.docker/config.json) holding the registry's credentials.")
def publish(registry: str, ca: Path | None, username: str | None, password_stdin: bool, password: str | None,
            docker_config: Path | None) -> None:
    """Build and push every supported release payload, every component image and the operator image.

    \b
    Examples:
      hcp release publish --registry reg.example.com:5000/hcp --ca ca.crt --docker-config auth.json
      echo "$TOKEN" | hcp release publish --registry reg.example.com --username ci --password-stdin
    """
    try:
        location = RegistryLocation.parse(registry)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--registry") from None
    login = credentials(location, username, password_stdin, password, docker_config)
    progress = Progress()
    with RegistryClient(location.url, ca_file=ca, credentials=login, prefix=location.prefix) as client:
        client.check()  # unreachable, untrusted or refused: said before anything is built
        progress(f"registry {location.name} answers" + (f" (as {login.username})" if login else ""))
        images.publish(client, progress)
        published = releases.publish(client, location.name, progress)
        progress("building the operator image")
        operator = operator_image.publish_operator_image(client, location.name)
        progress(f"pushed {operator}")
    for each in published:
        click.echo(f"{each.image}  Kubernetes {each.version}")
