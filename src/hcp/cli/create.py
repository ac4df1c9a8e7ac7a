"""`hcp create cluster|nodepool <platform>` and `hcp create kubeconfig`.

Platforms are subcommands, so a flag a platform cannot honour is not among
its options and click rejects it. hcp has one platform: `kwok` (simulated
machines, platform type KWOK).
"""

from __future__ import annotations

import base64
import contextlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml
from lightkube.resources.core_v1 import Secret

from hcp.api.meta import TaintEffect, Toleration
from hcp.api.v1beta1.common import AvailabilityPolicy
from hcp.api.v1beta1.etcd import DEFAULT_ETCD_STORAGE_SIZE
from hcp.api.v1beta1.networking import NetworkType
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS
from hcp.api.v1beta1.platform import PlatformType
from hcp.controlplane.components.kube_apiserver.adapter import AESCBC_SECRET_KEY
from hcp.cli.options import (
    CIDR,
    DEFAULT_NAMESPACE,
    Duration,
    GoDuration,
    Quantity,
    connect,
    key_values,
    management_flags,
    management_options,
)
from hcp.hostedcluster import lifecycle, objects
from hcp.hostedcluster.join import wait_for_join_command
from hcp.hostedcluster.kube import HostedClusterError, Kube
from hcp.hostedcluster.kubeconfig import admin_kubeconfig, merged_kubeconfig, parse_ttl, short_lived_kubeconfig
from hcp.management.layout import REGISTRY_HOST, REGISTRY_PORT
from hcp.progress import Progress
from hcp.release import newest_release_image

DEFAULT_RELEASE_IMAGE = newest_release_image(f"{REGISTRY_HOST}:{REGISTRY_PORT}")
JOINING_PLATFORMS = (PlatformType.NONE,)
"""Platforms whose machines join with a join command, rather than being made by hcp."""
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@click.group("create")
def create() -> None:
    """Create hosted clusters and NodePools, or print a hosted cluster's kubeconfig."""


@create.group("cluster")
def create_cluster() -> None:
    """Create a hosted cluster: a HostedCluster, its default NodePool and its Secrets.

    The platform decides what a machine is; hcp has `kwok` (simulated machines).
    """


def kwok_capacity(command: Any) -> Any:
    """--cpu, --memory, --max-pods: what each simulated node reports (NodePool spec.platform.kwok.capacity)."""
    command = click.option("--max-pods", type=click.IntRange(min=1), help="Pods each node accepts, e.g. 110.")(command)
    command = click.option("--memory", type=Quantity(), help="Memory of each node, e.g. 16Gi.")(command)
    return click.option("--cpu", type=Quantity(), help="CPUs of each node, e.g. 4.")(command)


def node_pool_management(command: Any) -> Any:
    command = click.option("--node-drain-timeout", type=GoDuration(),
                           help="How long to try draining a node before removing it anyway (e.g. 5m); "
                                "0s, the default, retries forever.")(command)
    return click.option("--auto-repair", is_flag=True,
                        help="Replace nodes that stay unhealthy (machine health checks).")(command)


def cluster_options(command: Any) -> Any:
    """The options of `hcp create cluster` on every platform."""
    for option in reversed(_CLUSTER_OPTIONS):
        command = option(command)
    return command


_CLUSTER_OPTIONS = [
    click.option("--name", required=True, help="Name of the hosted cluster (a DNS label)."),
    click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True,
                  help="Namespace of the HostedCluster; its control plane runs in <namespace>-<name>."),
    click.option("--release-image", default=DEFAULT_RELEASE_IMAGE, show_default=True,
                  help="Release payload of the control plane and the default NodePool."),
    click.option("--node-pool-replicas", type=click.IntRange(min=-1, max=MAX_NODE_POOL_REPLICAS), default=2,
                  show_default=True, help="Nodes of the default NodePool (named like the cluster); -1 creates no NodePool."),
    click.option("--pull-secret", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                  help='File with the docker config JSON nodes pull images with. Default: {"auths":{}}, '
                       "as hcp's registry needs no credentials."),
    click.option("--ssh-key", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                  help="Public SSH key file authorized on every node."),
    click.option("--generate-ssh", is_flag=True,
                  help="Generate an ed25519 key pair, kept in Secret <name>-ssh-key (id_rsa, id_rsa.pub)."),
    click.option("--no-secret-encryption", "no_secret_encryption", is_flag=True,
                  help="Store Secrets unencrypted in etcd. Default: encrypted at rest with a new aescbc key "
                       "(Secret <name>-etcd-encryption-key, key `key`; an existing one is kept), "
                       "as HyperShift's CLI does."),
    click.option("--base-domain", default="hcp.local", show_default=True, help="Base domain of the cluster."),
    click.option("--control-plane-availability-policy", "availability",
                  type=click.Choice([p.value for p in AvailabilityPolicy]),
                  default=AvailabilityPolicy.SINGLE_REPLICA.value, show_default=True,
                  help="HighlyAvailable runs 3 etcd members and several API servers."),
    click.option("--etcd-storage-class", help="StorageClass of etcd's volumes. Default: the cluster's default class."),
    click.option("--etcd-storage-size", type=Quantity(), default=DEFAULT_ETCD_STORAGE_SIZE, show_default=True,
                  help="Size of each etcd member's volume."),
    click.option("--service-cidr", type=CIDR(), multiple=True,
                  help="Service network; repeat for dual stack. Default: 172.31.0.0/16."),
    click.option("--cluster-cidr", type=CIDR(), multiple=True,
                  help="Pod network; repeat for dual stack. Default: 10.132.0.0/14."),
    click.option("--network-type", type=click.Choice([t.value for t in NetworkType]),
                  default=objects.ClusterOptions.network_type.value, show_default=True,
                  help="CNI of the hosted cluster: hcp deploys Flannel (vxlan); with Other you bring your own. "
                       "hcp cannot deploy OpenShiftSDN, Calico or OVNKubernetes."),
    click.option("--node-selector", multiple=True,
                  help="key=value[,key=value] the control-plane pods must run on (management node labels)."),
    click.option("--toleration", multiple=True,
                  help="key=value:effect (or key:effect for any value) the control-plane pods tolerate; repeatable."),
    click.option("--annotations", multiple=True, help="key=value annotation of the HostedCluster; repeatable."),
    click.option("--labels", multiple=True, help="key=value label of the HostedCluster; repeatable."),
    click.option("--pausedUntil", "paused_until",
                  help='Create paused: "true" (until the field is removed) or an RFC3339 time.'),
    node_pool_management,
    click.option("--api-server-address",
                  help="Address the control plane's node ports are published on. "
                       "Default: the management cluster's node address (needs the management cluster)."),
    click.option("--render", is_flag=True, help="Print the objects as YAML instead of creating them (no Secrets)."),
    click.option("--render-sensitive", is_flag=True, help="With --render, include the Secrets."),
    click.option("--render-into", type=click.Path(path_type=Path, dir_okay=False),
                  help="Write the rendered YAML into this file (implies --render)."),
    click.option("--wait", is_flag=True, help="Wait until the control plane is available and the nodes are ready."),
    click.option("--timeout", type=Duration(), default="0s", show_default=True,
                  help="With --wait, give up after this long (e.g. 15m); 0s waits forever."),
    management_options,
]


@create_cluster.command("kwok")
@cluster_options
@kwok_capacity
def create_cluster_kwok(**options: Any) -> None:
    """Create a hosted cluster whose machines are simulated (kwok nodes in the hosted cluster).

    Creates the namespace, Secrets <name>-pull-secret, <name>-etcd-encryption-key
    (the aescbc key Secrets are encrypted at rest with; none with
    --no-secret-encryption) and <name>-ssh-key (with --ssh-key or
    --generate-ssh), the HostedCluster with every control-plane service
    published as a NodePort of the management cluster, and a NodePool <name>. All or
    nothing: every object is validated by the API server (dry run) first, and
    if one is refused, what this command created is removed again.

    \b
    Examples:
      hcp create cluster kwok --name demo --node-pool-replicas 3 --wait
      hcp create cluster kwok --name demo --render > demo.yaml      # review, then kubectl apply -f
      hcp create cluster kwok --name ha --control-plane-availability-policy HighlyAvailable \\
          --etcd-storage-size 4Gi --generate-ssh --timeout 15m --wait
    """
    _create_cluster(PlatformType.KWOK, **options)


@create_cluster.command("none")
@cluster_options
def create_cluster_none(**options: Any) -> None:
    """Create a hosted cluster whose machines come from anywhere and join on their own (platform None).

    The same objects as `hcp create cluster kwok`, of platform None. Its
    control plane serves each NodePool's join payload (the Ignition service);
    a machine becomes a node of a pool when root runs the pool's join command
    on it (`hcp create join-command`): a fresh Debian machine that reaches the
    published services is enough. --wait waits for the control plane only.

    \b
    Examples:
      hcp create cluster none --name edge --node-pool-replicas 2 --wait
      hcp create join-command --cluster-name edge --nodepool edge     # run its output on each machine
    """
    _create_cluster(PlatformType.NONE, **options)


@create_cluster.command("container")
@cluster_options
def create_cluster_container(**options: Any) -> None:
    """Create a hosted cluster whose machines are pods of the management cluster (platform Container).

    The same objects as `hcp create cluster kwok`, of platform Container: each
    machine of a NodePool is a privileged pod in the control-plane namespace
    running containerd and the release's kubelet from hcp's node image, joined
    through the cluster's ignition server like any machine. The management
    cluster's nodes must allow privileged pods.

    \b
    Examples:
      hcp create cluster container --name demo --node-pool-replicas 2 --wait
    """
    _create_cluster(PlatformType.CONTAINER, **options)


def _create_cluster(platform: PlatformType, *, name: str, namespace: str, release_image: str,
                    node_pool_replicas: int, pull_secret: Path | None, ssh_key: Path | None, generate_ssh: bool,
                    no_secret_encryption: bool, base_domain: str, availability: str, etcd_storage_class: str | None, etcd_storage_size: str,
                    service_cidr: tuple[str, ...], cluster_cidr: tuple[str, ...], network_type: str,
                    node_selector: tuple[str, ...], toleration: tuple[str, ...], annotations: tuple[str, ...],
                    labels: tuple[str, ...], paused_until: str | None, auto_repair: bool,
                    node_drain_timeout: str | None, api_server_address: str | None, render: bool,
                    render_sensitive: bool, render_into: Path | None, wait: bool, timeout: float,
                    kubeconfig: Path | None, state_dir: Path, cpu: str | None = None, memory: str | None = None,
                    max_pods: int | None = None) -> None:
    """The HostedCluster, its Secrets and its default NodePool on `platform` (see the commands' help)."""
    objects.check_names(namespace, name)
    render = render or render_into is not None
    if render_sensitive and not render:
        raise click.UsageError("--render-sensitive only applies with --render or --render-into")
    if wait and render:
        raise click.UsageError("--wait cannot be combined with --render: rendering creates nothing to wait for")
    if ssh_key and generate_ssh:
        raise click.UsageError("--ssh-key and --generate-ssh cannot be combined: pass one of them")
    if paused_until and paused_until != "true":
        _check_rfc3339(paused_until)
    public_key, private_key = (generate_ssh_key() if generate_ssh
                               else (_public_key(ssh_key) if ssh_key else None, None))
    options = dict(
        name=name, namespace=namespace, release_image=release_image, base_domain=base_domain,
        pull_secret=objects.check_pull_secret(pull_secret.read_bytes(), f"--pull-secret {pull_secret}")
        if pull_secret else objects.EMPTY_PULL_SECRET,
        ssh_public_key=public_key, ssh_private_key=private_key,
        availability_policy=AvailabilityPolicy(availability), etcd_storage_class=etcd_storage_class,
        etcd_storage_size=etcd_storage_size, network_type=NetworkType(network_type), platform=platform,
        node_selector=key_values(node_selector, "--node-selector", commas=True),
        tolerations=tuple(parse_toleration(t) for t in toleration),
        annotations=key_values(annotations, "--annotations"), labels=key_values(labels, "--labels"),
        paused_until=paused_until,
    )
    if service_cidr:
        options["service_cidrs"] = service_cidr
    if cluster_cidr:
        options["cluster_cidrs"] = cluster_cidr
    pool = None
    if node_pool_replicas >= 0:
        pool = objects.NodePoolOptions(
            name=name, namespace=namespace, cluster_name=name, replicas=node_pool_replicas,
            release_image=release_image, auto_repair=auto_repair, node_drain_timeout=node_drain_timeout,
            cpu=cpu, memory=memory, max_pods=max_pods, paused_until=paused_until,
            labels={objects.AUTO_CREATED_LABEL: name}, platform=platform)
    elif auto_repair or node_drain_timeout or cpu or memory or max_pods:
        raise click.UsageError("--auto-repair, --node-drain-timeout, --cpu, --memory and --max-pods configure "
                               "the default NodePool, which --node-pool-replicas -1 does not create")

    needs_cluster = not (render and api_server_address)
    with connect(kubeconfig, state_dir) if needs_cluster else contextlib.nullcontext() as kube:
        address = api_server_address or lifecycle.management_node_address(kube, state_dir)
        if not no_secret_encryption:
            options["encryption_key"] = _encryption_key(kube, namespace, name)
        documents = objects.cluster_objects(objects.ClusterOptions(api_server_address=address, **options), pool)
        if render:
            _render(documents if render_sensitive else objects.without_secrets(documents), render_into,
                    sensitive=render_sensitive)
            return
        progress = Progress()
        lifecycle.create_cluster(kube, documents, progress)
        if wait:
            # Machines of a joining platform come once the user runs the join command: not waited for.
            nodes = max(node_pool_replicas, 0) if platform not in JOINING_PLATFORMS else 0
            lifecycle.wait_for_cluster(kube, namespace, name, nodes, progress, timeout)
    flags = management_flags(kubeconfig, state_dir)
    if wait:
        click.echo(f"hosted cluster {namespace}/{name} is available. Use it:")
    else:
        click.echo(f"hosted cluster {namespace}/{name} created; its control plane is available in a minute or two "
                   f"(`kubectl -n {namespace} get hostedcluster {name}`, or re-run with --wait). Then use it:")
    click.echo(f"  hcp create kubeconfig{flags} --namespace {namespace} --name {name} > {name}.kubeconfig\n"
               f"  kubectl --kubeconfig {name}.kubeconfig get nodes")
    if pool is not None and platform in JOINING_PLATFORMS:
        click.echo(f"Machines join NodePool {name} with the command this prints (run it as root on each):\n"
                   f"  hcp create join-command{flags} --namespace {namespace} --cluster-name {name} --nodepool {name}")


def generate_ssh_key() -> tuple[bytes, bytes]:
    """A new key pair (tests replace this to keep goldens stable)."""
    return objects.generate_ssh_key()


def generate_encryption_key() -> bytes:
    """A new aescbc key (tests replace this to keep goldens stable)."""
    return objects.generate_encryption_key()


def _encryption_key(kube: Kube | None, namespace: str, name: str) -> bytes:
    """The key of Secret <name>-etcd-encryption-key where it exists already, else a new one.

    An existing key is kept, never replaced: it is one an interrupted run
    created, or one the user made for a restore (the key the snapshot's Secrets
    were encrypted with), and a new one would make those Secrets unreadable.
    Rendering without the management cluster (--render --api-server-address)
    cannot look, so it renders a new key.
    """
    secret_name = objects.encryption_key_secret_name(name)
    existing = kube.get_or_none(Secret, secret_name, namespace) if kube is not None else None
    if existing is None:
        return generate_encryption_key()
    data = (existing.data or {}).get(AESCBC_SECRET_KEY)
    if data is None:
        raise HostedClusterError(f"Secret {namespace}/{secret_name} exists without the data key "
                                 f"{AESCBC_SECRET_KEY!r} of an aescbc key; add it, remove the Secret, or pass "
                                 f"--no-secret-encryption")
    return objects.check_encryption_key(base64.b64decode(data), f"Secret {namespace}/{secret_name}")


@create.group("nodepool")
def create_nodepool() -> None:
    """Add a NodePool to an existing hosted cluster. Platforms: kwok (simulated), none (machines that join)."""


@create_nodepool.command("kwok")
@click.option("--cluster-name", required=True, help="The HostedCluster the nodes join.")
@click.option("--name", required=True, help="Name of the NodePool.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True,
              help="Namespace of the HostedCluster and the NodePool.")
@click.option("--node-count", type=click.IntRange(min=0, max=MAX_NODE_POOL_REPLICAS), default=2, show_default=True,
              help="Number of nodes.")
@click.option("--release-image", show_default="the HostedCluster's",
              help="Release the nodes run; not newer than the control plane's.")
@kwok_capacity
@node_pool_management
@click.option("--render", is_flag=True, help="Print the NodePool as YAML instead of creating it.")
@management_options
def create_nodepool_kwok(cluster_name: str, name: str, namespace: str, node_count: int, release_image: str | None,
                         cpu: str | None, memory: str | None, max_pods: int | None, auto_repair: bool,
                         node_drain_timeout: str | None, render: bool, kubeconfig: Path | None,
                         state_dir: Path) -> None:
    """Create a NodePool of simulated (kwok) nodes for a hosted cluster (validated by a dry run first).

    \b
    Examples:
      hcp create nodepool kwok --cluster-name demo --name big --node-count 5 --cpu 16 --memory 64Gi
      kubectl -n clusters scale nodepool/big --replicas 10
    """
    objects.check_names(namespace, name)
    with connect(kubeconfig, state_dir) as kube:
        cluster = lifecycle.hosted_cluster(kube, namespace, cluster_name)
        pool = objects.node_pool_object(objects.NodePoolOptions(
            name=name, namespace=namespace, cluster_name=cluster_name, replicas=node_count,
            release_image=release_image or cluster["spec"]["release"]["image"], auto_repair=auto_repair,
            node_drain_timeout=node_drain_timeout, cpu=cpu, memory=memory, max_pods=max_pods))
        if render:
            lifecycle.check_node_pool_release(cluster, pool["spec"]["release"]["image"])
            _render([pool], None, sensitive=False)
            return
        lifecycle.create_node_pool(kube, pool, Progress())
    click.echo(f"NodePool {namespace}/{name} created; watch it with `kubectl -n {namespace} get nodepool {name}`")


@create_nodepool.command("none")
@click.option("--cluster-name", required=True, help="The HostedCluster the machines join.")
@click.option("--name", required=True, help="Name of the NodePool.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True,
              help="Namespace of the HostedCluster and the NodePool.")
@click.option("--node-count", type=click.IntRange(min=0, max=MAX_NODE_POOL_REPLICAS), default=1, show_default=True,
              help="Machines the pool expects; it is Ready once that many have joined.")
@click.option("--release-image", show_default="the HostedCluster's",
              help="Release whose kubelet the machines run; not newer than the control plane's.")
@click.option("--render", is_flag=True, help="Print the NodePool as YAML instead of creating it.")
@management_options
def create_nodepool_none(cluster_name: str, name: str, namespace: str, node_count: int, release_image: str | None,
                         render: bool, kubeconfig: Path | None, state_dir: Path) -> None:
    """Create a NodePool whose machines join on their own (platform None), then print how they join.

    \b
    Examples:
      hcp create nodepool none --cluster-name demo --name edge --node-count 2
      hcp create join-command --cluster-name demo --nodepool edge    # run its output as root on a machine
    """
    objects.check_names(namespace, name)
    with connect(kubeconfig, state_dir) as kube:
        cluster = lifecycle.hosted_cluster(kube, namespace, cluster_name)
        pool = objects.node_pool_object(objects.NodePoolOptions(
            name=name, namespace=namespace, cluster_name=cluster_name, replicas=node_count,
            release_image=release_image or cluster["spec"]["release"]["image"], platform=PlatformType.NONE))
        if render:
            lifecycle.check_node_pool_release(cluster, pool["spec"]["release"]["image"])
            _render([pool], None, sensitive=False)
            return
        lifecycle.create_node_pool(kube, pool, Progress())
    flags = management_flags(kubeconfig, state_dir)
    click.echo(f"NodePool {namespace}/{name} created. Machines join it with the command this prints "
               f"(run it as root on each):\n"
               f"  hcp create join-command{flags} --namespace {namespace} --cluster-name {cluster_name} "
               f"--nodepool {name}")


@create.command("join-command")
@click.option("--cluster-name", required=True, help="The HostedCluster.")
@click.option("--nodepool", required=True, help="The NodePool (platform None) the machine joins.")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True,
              help="Namespace of the HostedCluster and the NodePool.")
@click.option("--timeout", type=Duration(), default="5m", show_default=True,
              help="How long to wait for the control plane to serve the pool (0s: forever).")
@management_options
def create_join_command(cluster_name: str, nodepool: str, namespace: str, timeout: float,
                        kubeconfig: Path | None, state_dir: Path) -> None:
    """Print the command that makes a machine a node of a NodePool; run it as root on the machine.

    The command fetches the pool's join script from the cluster's ignition
    server (its key pinned) with the pool's current bootstrap token, which the
    operator rotates: print it again for a machine that joins later. The
    machine needs curl and Debian's packages (or containerd, runc, the CNI
    plugins, iptables and conntrack already installed).

    \b
    Examples:
      hcp create join-command --cluster-name demo --nodepool edge > join.sh
      ssh root@machine sh < join.sh
    """
    with connect(kubeconfig, state_dir) as kube:
        pool = lifecycle.node_pool(kube, namespace, nodepool)
        platform = (pool.get("spec") or {}).get("platform", {}).get("type")
        if (pool.get("spec") or {}).get("clusterName") != cluster_name:
            raise HostedClusterError(f"NodePool {namespace}/{nodepool} belongs to cluster "
                                     f"{pool['spec'].get('clusterName')}, not {cluster_name}")
        if platform not in JOINING_PLATFORMS:
            raise HostedClusterError(f"NodePool {namespace}/{nodepool} is of platform {platform}, whose machines hcp "
                                     f"makes itself; only platform None machines join with a command")
        command = wait_for_join_command(kube, namespace, cluster_name, nodepool, Progress(), timeout or None)
    click.echo(command)


@create.command("kubeconfig")
@click.option("--name", help="The hosted cluster. Default: all of them, one context <namespace>-<name> each.")
@click.option("--namespace", help=f"Namespace of the HostedCluster(s). Default: {DEFAULT_NAMESPACE} with --name, "
                                  "else all namespaces.")
@click.option("--ttl", help="Mint a new short-lived kubeconfig valid this long (a Go duration: 30m, 8h), signed by "
                            "the break-glass signer, instead of printing the admin one. Needs --name.")
@management_options
def create_kubeconfig(name: str | None, namespace: str | None, ttl: str | None, kubeconfig: Path | None,
                      state_dir: Path) -> None:
    """Print a hosted cluster's admin kubeconfig (Secret <name>-admin-kubeconfig).

    With --ttl, mint a short-lived one instead: a new client certificate of
    the customer-break-glass signer (user system:customer-break-glass:<random>,
    group system:masters), valid for --ttl and never longer than the signer.
    It reads the signer's key from the control-plane namespace, so it needs
    admin rights on the management cluster; the private key is written only
    into the printed kubeconfig. A CertificateRevocationRequest revokes it
    together with the admin kubeconfig (docs/configuration.md, "Revoking
    admin credentials").

    \b
    Examples:
      hcp create kubeconfig --name demo > demo.kubeconfig
      kubectl --kubeconfig demo.kubeconfig get nodes
      hcp create kubeconfig > all.kubeconfig      # every hosted cluster, one context each
      hcp create kubeconfig --name demo --ttl 1h > demo-1h.kubeconfig
    """
    lifetime = parse_ttl(ttl) if ttl is not None else None
    if lifetime is not None and not name:
        raise click.UsageError("--ttl needs --name: a short-lived kubeconfig is minted for one hosted cluster")
    with connect(kubeconfig, state_dir) as kube:
        if lifetime is not None:
            click.echo(short_lived_kubeconfig(kube, namespace or DEFAULT_NAMESPACE, name, lifetime), nl=False)
        elif name:
            click.echo(admin_kubeconfig(kube, namespace or DEFAULT_NAMESPACE, name), nl=False)
        else:
            click.echo(yaml.safe_dump(merged_kubeconfig(kube, namespace), sort_keys=False), nl=False)


def parse_toleration(text: str) -> Toleration:
    """key=value:effect, key:effect (any value), key=value (any effect) or key, as kubectl writes taints."""
    spec, colon, effect = text.rpartition(":") if ":" in text else (text, "", "")
    key, equals, value = spec.partition("=")
    effects = [e.value for e in TaintEffect]
    if not key or (colon and effect not in effects):
        raise click.BadParameter(f"{text!r} is not key=value:effect with effect one of {', '.join(effects)}",
                                 param_hint="--toleration")
    toleration = Toleration(key=key, operator="Equal" if equals else "Exists")
    if equals:
        toleration.value = value
    if effect:
        toleration.effect = effect
    return toleration


def _public_key(path: Path) -> bytes:
    return objects.check_ssh_public_key(path.read_bytes(), f"--ssh-key {path}")


def _check_rfc3339(text: str) -> None:
    try:
        if not RFC3339.match(text):
            raise ValueError(text)
        datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f'{text!r} is neither "true" nor an RFC3339 time such as 2030-01-01T00:00:00Z',
                                 param_hint="--pausedUntil") from None


def _render(documents: list[dict[str, Any]], into: Path | None, *, sensitive: bool) -> None:
    text = yaml.safe_dump_all(documents, sort_keys=False)
    if into is None:
        click.echo(text, nl=False)
        return
    into.write_text(text)
    if sensitive:
        into.chmod(0o600)
    click.echo(f"wrote {len(documents)} objects to {into}", err=True)
