"""`hcp install` and `hcp uninstall`: the operator and its CRDs on a management cluster (the embedded one by
default, any Kubernetes cluster with --kubeconfig and --registry)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from hcp import __version__, monitoring
from hcp.api.v1beta1.clusteroptions import MetricsSet
from hcp.cli.options import management_kubeconfig
from hcp.images import RegistryClient, RegistryLocation
from hcp.images.credentials import for_registry, parse_docker_config
from hcp.kube.client import client_for
from hcp.management.cluster import ClusterError
from hcp.management.layout import Layout, default_state_dir
from hcp.operator import image as operator_image
from hcp.operator import install as operator_install
from hcp.operator import uninstall as operator_uninstall
from hcp.progress import Progress
from hcp.upstream import images as component_images


def registry_settings(registry: str | None, ca: Path | None, pull_secret: Path | None,
                      state_dir: Path) -> operator_install.RegistrySettings:
    """What the operator is told of its registry: --registry's, else the embedded cluster's (named explicitly)."""
    if registry is None:
        if ca or pull_secret:
            raise click.UsageError("--ca and --pull-secret describe the registry given with --registry")
        layout = Layout(state_dir)
        config = layout.load_config()
        if config is None:
            raise ClusterError(f"no embedded management cluster in {state_dir}: give --registry (where "
                               f"`hcp release publish --registry` pushed the releases and the operator image)")
        ca_file = layout.pki_dir / "ca.crt"
        # Pods resolve the registry's stable name (the cluster's DNS); hosted nodes, outside, reach the node.
        return operator_install.RegistrySettings(
            name=config.registry, url=f"https://{config.registry}",
            ca_pem=ca_file.read_bytes() if ca_file.exists() else None, node_url=config.registry_url)
    try:
        location = RegistryLocation.parse(registry)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--registry") from None
    ca_pem = None
    if ca is not None:
        ca_pem = ca.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
            raise click.BadParameter(f"{ca} holds no PEM certificate", param_hint="--ca")
    secret = None
    if pull_secret is not None:
        secret = pull_secret.read_bytes()
        if for_registry(parse_docker_config(secret, f"--pull-secret {pull_secret}"), location.host) is None:
            raise click.BadParameter(f"{pull_secret} holds no credentials for {location.host}",
                                     param_hint="--pull-secret")
    return operator_install.RegistrySettings(name=location.name, ca_pem=ca_pem, pull_secret=secret)


class SpelledChoice(click.Choice):
    """A case-insensitive choice (the value given is normalised to the choice's spelling) whose error names the
    choices as spelled: click's own lowercases them (`'x' is not one of 'telemetry', 'sre', 'all'`), as it does
    in the help's metavar, hence the options' own."""

    def get_invalid_choice_message(self, value: object, ctx: click.Context | None) -> str:
        return f"{value!r} is not one of {', '.join(map(repr, self.choices))}."


uninstall_options = (
    click.option("--force", is_flag=True,
                 help="Delete every HostedCluster first and wait until the operator has removed them."),
)


@click.command("install")
@click.option("--kubeconfig", type=click.Path(path_type=Path, exists=True),
              help="Management cluster to install into. Default: $KUBECONFIG, else the embedded cluster.")
@click.option("--registry", metavar="HOST[:PORT][/PREFIX]",
              help="The registry the operator resolves releases from (and pulls its image from), where "
                   "`hcp release publish --registry` pushed them. Default: the embedded cluster's registry.")
@click.option("--ca", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CA certificate (PEM) that signs --registry's certificate; default: publicly trusted.")
@click.option("--pull-secret", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Docker config (dockerconfigjson) with --registry's credentials: the operator pod and "
                   "every control-plane pod pull with it, and the operator reads releases with it.")
@click.option("--image", help="Operator image to run. Default: <registry>/hcp/operator:<version> with --registry; "
                              "else build it and push it to the embedded registry.")
@click.option("--prometheus/--no-prometheus", default=None,
              help=f"Deploy Prometheus (built from its Go module) in namespace {monitoring.NAMESPACE}; the operator "
                   f"configures it to scrape every hosted control plane. Default: on for the embedded management "
                   f"cluster (no --registry), off otherwise.")
@click.option("--metrics-set", type=SpelledChoice([m.value for m in MetricsSet], case_sensitive=False),
              metavar="[" + "|".join(m.value for m in MetricsSet) + "]",
              default=MetricsSet.TELEMETRY.value, show_default=True,
              help="Which control-plane metrics are scraped (HyperShift's metrics sets; the operator's METRICS_SET).")
@click.option("--monitoring-dashboards", is_flag=True,
              help="Have the operator write a monitoring dashboard per HostedCluster (ConfigMaps in "
                   f"{monitoring.NAMESPACE}; the operator's MONITORING_DASHBOARDS).")
@click.option("--render", is_flag=True, help="Print the manifests instead of applying them.")
@click.option("--uninstall", "remove", is_flag=True,
              help="Remove hcp instead (as `hcp uninstall`); refuses while HostedClusters exist unless --force.")
@uninstall_options[0]
@click.option("--state-dir", type=click.Path(path_type=Path), default=default_state_dir,
              show_default="$HCP_STATE_DIR or ~/.local/state/hcp/management",
              help="The embedded management cluster whose registry and kubeconfig are the defaults.")
def install(kubeconfig: Path | None, registry: str | None, ca: Path | None, pull_secret: Path | None,
            image: str | None, prometheus: bool | None, metrics_set: str, monitoring_dashboards: bool,
            render: bool, remove: bool, force: bool, state_dir: Path) -> None:
    """Install (or upgrade in place) the hcp operator: CRDs, namespace hypershift, RBAC, Deployment,
    ConfigMap supported-versions; with --prometheus, Prometheus in namespace hcp-monitoring.

    Waits until the operator is available (not for Prometheus, which starts once the operator has
    written its configuration). Running it again is safe.

    \b
    Examples:
      hcp install                       # into the embedded management cluster
      hcp install --render > hcp.yaml   # the manifests, to review or apply elsewhere
      hcp release publish --registry reg.example.com/hcp --ca ca.crt --docker-config auth.json
      hcp install --kubeconfig k.yaml --registry reg.example.com/hcp --ca ca.crt --pull-secret auth.json
      hcp install --kubeconfig k.yaml --registry reg.example.com/hcp --prometheus --metrics-set SRE
      hcp install --uninstall           # remove it again (--force: hosted clusters too)
    """
    if remove:
        if render:
            raise click.UsageError("--render and --uninstall do not go together")
        _uninstall(kubeconfig, state_dir, force)
        return
    if force:
        raise click.UsageError("--force goes with --uninstall")
    settings = registry_settings(registry, ca, pull_secret, state_dir)
    embedded = registry is None  # no --registry: the embedded cluster's registry, so its management cluster
    monitoring_settings = operator_install.MonitoringSettings(
        prometheus=embedded if prometheus is None else prometheus,
        metrics_set=MetricsSet(metrics_set), dashboards=monitoring_dashboards)
    if image is None and (render or not embedded):
        image = f"{settings.name}/{operator_image.REPOSITORY}:{__version__}"
    if render:
        documents = operator_install.render(image, settings, monitoring_settings)
        click.echo(yaml.safe_dump_all(documents, sort_keys=False), nl=False)
        return

    progress = Progress()
    kubeconfig = management_kubeconfig(kubeconfig, state_dir)
    if embedded and (image is None or monitoring_settings.prometheus):
        # The embedded registry: the operator image built from this tree, and Prometheus's if a cluster brought
        # up by an older hcp lacks it (`management-cluster up` pushes every component image, `release publish`
        # too for another registry).
        layout = Layout(state_dir)
        config = layout.load_config()
        with RegistryClient(config.registry_url, ca_file=layout.pki_dir / "ca.crt") as client:
            if monitoring_settings.prometheus:
                component_images.publish(client, progress, only=(operator_install.PROMETHEUS_IMAGE,))
            if image is None:
                progress("building the operator image")
                image = operator_image.publish_operator_image(client, config.registry)
                progress(f"pushed {image}")
    operator_install.install(client_for(kubeconfig), operator_install.render(image, settings, monitoring_settings),
                             progress)


@click.command("uninstall")
@click.option("--kubeconfig", type=click.Path(path_type=Path, exists=True),
              help="Management cluster to remove hcp from. Default: $KUBECONFIG, else the embedded cluster.")
@uninstall_options[0]
@click.option("--state-dir", type=click.Path(path_type=Path), default=default_state_dir,
              show_default="$HCP_STATE_DIR or ~/.local/state/hcp/management",
              help="The embedded management cluster, used when neither --kubeconfig nor $KUBECONFIG is given.")
def uninstall(kubeconfig: Path | None, force: bool, state_dir: Path) -> None:
    """Remove the hcp operator, its RBAC, admission policy, namespace hypershift and the CRDs.

    Refuses while HostedClusters exist; with --force deletes them first and waits
    until the operator has removed their control planes, then removes the operator.
    """
    _uninstall(kubeconfig, state_dir, force)


def _uninstall(kubeconfig: Path | None, state_dir: Path, force: bool) -> None:
    client = client_for(management_kubeconfig(kubeconfig, state_dir))
    operator_uninstall.uninstall(client, uninstall_documents(), Progress(), force=force)


def uninstall_documents() -> list[dict]:
    """Everything any install may have applied: names only matter here, so placeholder settings render the same
    objects, pull secrets, CA and Prometheus (whether or not it was installed; what is absent is skipped)."""
    return operator_install.render("unused", operator_install.RegistrySettings(
        "unused", ca_pem=b"unused", pull_secret=b"{}"), operator_install.MonitoringSettings(prometheus=True))
