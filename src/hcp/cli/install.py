"""`hcp install`: the operator and its CRDs on a management cluster (the embedded one by default)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from hcp import __version__
from hcp.images import RegistryClient
from hcp.cli.options import management_kubeconfig
from hcp.kube.client import client_for
from hcp.management.cluster import ClusterError
from hcp.management.layout import Layout, default_state_dir
from hcp.operator import image as operator_image
from hcp.operator import install as operator_install
from hcp.progress import Progress


@click.command("install")
@click.option("--kubeconfig", type=click.Path(path_type=Path, exists=True),
              help="Management cluster to install into. Default: $KUBECONFIG, else the embedded cluster.")
@click.option("--image", help="Operator image to run. Default: build it and push it to the embedded registry.")
@click.option("--render", is_flag=True, help="Print the manifests instead of applying them.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=default_state_dir,
              show_default="$HCP_STATE_DIR or ~/.local/state/hcp/management",
              help="The embedded management cluster whose registry and kubeconfig are the defaults.")
def install(kubeconfig: Path | None, image: str | None, render: bool, state_dir: Path) -> None:
    """Install (or upgrade in place) the hcp operator: CRDs, namespace hypershift, RBAC, Deployment.

    Waits until the operator is available. Running it again is safe.

    \b
    Examples:
      hcp install                       # into the embedded management cluster
      hcp install --render > hcp.yaml   # the manifests, to review or apply elsewhere
      hcp install --kubeconfig k.yaml --image my.registry/hcp/operator:0.1.0
    """
    layout = Layout(state_dir)
    config = layout.load_config()
    registry_ca = layout.pki_dir / "ca.crt"
    if image is None and render:
        image = f"{config.registry if config else 'REGISTRY'}/{operator_image.REPOSITORY}:{__version__}"
    ca_pem = registry_ca.read_bytes() if config and registry_ca.exists() else None
    # Hosted nodes are outside the management cluster: they reach its registry at the node's address.
    node_registries = {config.registry: config.registry_url} if config else None
    if render:
        documents = operator_install.render(image, ca_pem, node_registries)
        click.echo(yaml.safe_dump_all(documents, sort_keys=False), nl=False)
        return

    progress = Progress()
    kubeconfig = management_kubeconfig(kubeconfig, state_dir)
    if image is None:
        if config is None:
            raise ClusterError("--image is required outside the embedded management cluster")
        progress("building the operator image")
        with RegistryClient(config.registry_url, ca_file=registry_ca) as registry:
            image = operator_image.publish_operator_image(registry, config.registry)
        progress(f"pushed {image}")
    operator_install.install(client_for(kubeconfig), operator_install.render(image, ca_pem, node_registries),
                             progress)
