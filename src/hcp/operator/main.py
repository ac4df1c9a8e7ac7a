"""`python -m hcp.operator`: the operator process, in a pod or on a host for debugging.

One manager runs the HostedCluster, NodePool, HostedControlPlane, data-plane and HCPEtcdBackup controllers while
holding the leader Lease in the operator's namespace, so a second replica
waits instead of fighting. On start it also publishes the supported-versions
ConfigMap, as HyperShift's operator does. From the start, leading or not, it
serves /metrics, /healthz and /readyz on --metrics-port (HyperShift's 9000).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from pathlib import Path

from lightkube.operators import exists
from lightkube.codecs import resource_registry
from lightkube.resources.batch_v1 import Job
from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap, Node, Pod, Secret
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from hcp import __version__
from hcp.api.types import parse_duration
from hcp.api import HCPEtcdBackup, HostedCluster, HostedControlPlane, NodePool
from hcp.api.certificates.v1alpha1 import CertificateRevocationRequest
from hcp.controlplane.controller import ControlPlaneSettings, HostedControlPlaneController, probe_readyz
from hcp.controlplane.components.component import COMPONENT_LABEL
from hcp.controlplane.health import HealthProbe
from hcp.controlplane.render import KINDS as CONTROL_PLANE_KINDS
from hcp.ignition.join import RegistryMirror
from hcp.dataplane.controller import DataPlaneController
from hcp.kube.apply import apply, resource_of
from hcp.kube.client import async_client_for
from hcp.kube.controller import Controller, Manager
from hcp.kube.events import EventRecorder
from hcp.kube.informer import Informer, annotation_keys, owner_keys, same_namespace_keys
from hcp.kube.leader import LeaderElector
from hcp.kube.refresh import MountRefresh
from hcp.kube.logs import configure_logging
from hcp.kube.metrics import ControllerMetrics, MetricsServer
from hcp.api.names import CLUSTER_ANNOTATION, HOSTED_CLUSTER_UID_LABEL
from hcp.operator.etcdbackup.controller import EtcdBackupController, backup_keys
from hcp.operator.etcdbackup.job import BACKUP_LABEL
from hcp.operator.etcdbackup.scheduler import EtcdBackupScheduler
from hcp.operator.hostedcluster import HostedClusterController
from hcp.monitoring import NAMESPACE as MONITORING_NAMESPACE
from hcp.monitoring.dashboard import MANAGED_BY as DASHBOARD_MANAGED_BY
from hcp.operator.dashboards import DashboardController, dashboards_enabled
from hcp.operator.install import METRICS_PORT, OPERATOR_IMAGE_ENV
from hcp.operator.metrics import CacheCollector, CapacityCollector
from hcp.operator import serving as serving_certificate
from hcp.operator.monitoring import CRD_KEY as MONITORING_CRD_KEY, KEY as MONITORING_KEY, MonitoringController, \
    to_key as monitoring_key
from hcp.monitoring import METRICS_SET_ENV, PROMETHEUS, SRE_CONFIGMAP
from hcp.monitoring.sets import MetricsSetError, parse_metrics_set
from hcp.capacity.baseline import BASELINE_CONFIGMAP, BASELINE_NAMESPACE, baselines_from_configmap
from hcp.operator.nodepool import NodePoolController, Settings
from hcp.platforms.container import MACHINE_LABEL
from hcp.images.credentials import CredentialsError, for_registry, load_docker_config
from hcp.release.resolver import Releases
from hcp.release import supported_versions_configmap

log = logging.getLogger("hcp.operator")

MANAGED_BY = {"app.kubernetes.io/managed-by": "hcp"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hcp-operator", description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", default="hypershift", help="namespace of the operator and its Lease")
    parser.add_argument("--kubeconfig", type=Path, help="management cluster kubeconfig (default: in-cluster)")
    parser.add_argument("--registry", metavar="HOST[:PORT][/PREFIX]",
                        help="the registry release pull specs name (set by `hcp install`); default: the host "
                             "of --registry-url")
    parser.add_argument("--registry-url",
                        help="where the operator reads release payloads (OCI distribution API, https); "
                             "default: https://<host of --registry>")
    parser.add_argument("--registry-ca", type=Path, help="CA bundle that signs the registry's certificate")
    parser.add_argument("--registry-auth", type=Path, metavar="DOCKERCONFIGJSON",
                        help="the registry's pull credentials (a docker config file, as a dockerconfigjson Secret "
                             "holds them): used to read payloads and given to control-plane pods")
    parser.add_argument("--node-registry", action="append", default=[], metavar="NAME=URL",
                        help="a registry name as the release's pull specs spell it, and the https URL where "
                             "nodes reach it (trusted with --registry-ca); repeatable")
    parser.add_argument("--no-leader-elect", dest="leader_elect", action="store_false")
    parser.add_argument("--serving-secret", metavar="NAME",
                        help="serve --metrics-port over TLS with the certificate in this Secret of --namespace, "
                             "minted there if missing (`hcp install` passes operator-serving-cert); default: "
                             "plain HTTP")
    parser.add_argument("--prometheus-namespace", metavar="NAMESPACE",
                        help="where hcp's Prometheus runs (`hcp install --prometheus`): the operator writes its "
                             "scrape configuration there; default: hcp runs no Prometheus")
    parser.add_argument("--metrics-port", type=int, default=METRICS_PORT,
                        help=f"port of /metrics, /healthz and /readyz, on all interfaces; 0 picks a free one "
                             f"(default {METRICS_PORT})")
    defaults = Settings()
    parser.add_argument("--machine-health-check-timeout", type=parse_duration, default=defaults.health_timeout,
                        help="auto-repair replaces a machine whose node stays NotReady this long (default 8m)")
    parser.add_argument("--machine-health-check-node-startup-timeout", type=parse_duration,
                        default=defaults.startup_timeout,
                        help="auto-repair replaces a machine whose node is not Ready this long after creation")
    parser.add_argument("--machine-health-check-max-unhealthy", default=defaults.max_unhealthy,
                        help="auto-repair replaces nothing while more machines of a pool are unhealthy "
                             "(a number or a percentage; default 2)")
    parser.add_argument("--scale-down-unneeded-time", type=parse_duration, default=defaults.unneeded_time,
                        help="autoscaling removes nodes that have had no workload this long (default 10m)")
    return parser.parse_args(argv)


def registry_options(options: argparse.Namespace) -> tuple[str, str, bytes | None]:
    """(name, url, pull secret) of the one registry the operator was installed with; it assumes none."""
    if not options.registry and not options.registry_url:
        raise SystemExit("hcp-operator: give --registry and/or --registry-url (where release payloads live); "
                         "`hcp install` sets them")
    url = options.registry_url or f"https://{options.registry.split('/', 1)[0]}"
    if not url.startswith("https://"):
        raise SystemExit(f"hcp-operator: --registry-url {url!r}: want https://HOST[:PORT] (hcp speaks TLS only)")
    pull_secret = None
    if options.registry_auth:
        try:
            pull_secret = options.registry_auth.read_bytes()
        except OSError as error:
            raise SystemExit(f"hcp-operator: cannot read --registry-auth {options.registry_auth}: "
                             f"{error.strerror or error}") from None
    return options.registry or url.removeprefix("https://"), url, pull_secret


def registry_credentials(options: argparse.Namespace, name: str, url: str):
    """The credentials --registry-auth holds for the registry (by the name images use, or the URL's host)."""
    if not options.registry_auth:
        return None
    try:
        config = load_docker_config(options.registry_auth)
    except CredentialsError as error:
        raise SystemExit(f"hcp-operator: --registry-auth: {error}") from None
    return for_registry(config, name) or for_registry(config, url.removeprefix("https://"))


async def run(options: argparse.Namespace) -> None:
    client = async_client_for(options.kubeconfig)
    name, url, _ = registry_options(options)
    releases = Releases(url, options.registry_ca, name=name, credentials=registry_credentials(options, name, url))
    events = EventRecorder(client, component="hypershift-operator")

    clusters = Informer(client, resource_of(HostedCluster))
    control_planes = Informer(client, resource_of(HostedControlPlane))
    node_pools = Informer(client, resource_of(NodePool))
    # Every kind a control plane renders, as cached for the HostedControlPlane controller: what it finds there
    # unchanged since it applied it is not applied again (hcp.kube.applied), a change brings a pass.
    owned = {kind: Informer(client, resource_registry.load(api_version, kind), labels=MANAGED_BY)
             for api_version, kind in CONTROL_PLANE_KINDS}
    workloads = {kind: owned[kind] for kind in ("Deployment", "StatefulSet")}

    hosted_clusters = HostedClusterController(client, releases, events, clusters=clusters,
                                              control_planes=control_planes, node_pools=node_pools)
    cluster_controller = Controller("hostedcluster", hosted_clusters.reconcile, workers=2)
    cluster_controller.watch(clusters)
    cluster_controller.watch(control_planes, annotation_keys(CLUSTER_ANNOTATION))

    node_pool_settings = Settings(options.machine_health_check_timeout,
                                  options.machine_health_check_node_startup_timeout,
                                  options.machine_health_check_max_unhealthy, options.scale_down_unneeded_time)
    machine_pods = Informer(client, Pod, labels={MACHINE_LABEL: exists()})
    node_pool_controller = NodePoolController(client, releases, events, node_pools=node_pools, clusters=clusters,
                                              control_planes=control_planes, machine_pods=machine_pods,
                                              settings=node_pool_settings).controller

    # CertificateRevocationRequests are carried out by the HostedControlPlane controller, the one writer of the
    # PKI and of the API server's client CA bundle; each step also re-publishes the admin kubeconfig.
    revocations = Informer(client, resource_of(CertificateRevocationRequest))
    hosted_control_planes = HostedControlPlaneController(client, releases, events, control_planes=control_planes,
                                                         owned=owned,
                                                         settings=control_plane_settings(options),
                                                         revocations=revocations)
    control_plane_controller = Controller("hostedcontrolplane", hosted_control_planes.reconcile, workers=2)
    control_plane_controller.watch(control_planes)
    control_plane_controller.watch(revocations, same_namespace_keys(control_planes))
    cluster_controller.watch(revocations, same_namespace_keys(control_planes, CLUSTER_ANNOTATION))
    for informer in owned.values():
        control_plane_controller.watch(informer, owner_keys("HostedControlPlane"))
    # The copies of the HostedCluster's Secrets and ConfigMaps the HostedCluster controller keeps in the
    # control-plane namespace (marked with its UID): read by the pass, so a change of one brings a pass.
    copies = {kind: Informer(client, kind, labels={HOSTED_CLUSTER_UID_LABEL: exists()}) for kind in (Secret, ConfigMap)}
    for informer in copies.values():
        control_plane_controller.watch(informer, same_namespace_keys(control_planes))
    # Between the full passes of a settled control plane (controller.RESYNC), its published /readyz is probed.
    health = HealthProbe(control_planes=control_planes, secrets=owned["Secret"],
                         full_pass=control_plane_controller.queue.add, probe=probe_readyz)
    health_controller = Controller("hostedcontrolplanehealth", health.reconcile, workers=2)
    health_controller.watch(control_planes)

    # Files the control-plane components (and hcp's Prometheus) re-read when they change reach their pods within a
    # second of the change instead of at the kubelet's next periodic resync (hcp.kube.refresh).
    refreshed_pods = [Informer(client, Pod, labels={COMPONENT_LABEL: exists()})]
    if options.prometheus_namespace:
        refreshed_pods.append(Informer(client, Pod, namespace=options.prometheus_namespace,
                                       labels={"app": PROMETHEUS}))
    refresh = MountRefresh(client, pods=refreshed_pods, secrets=[owned["Secret"], copies[Secret]],
                           config_maps=[owned["ConfigMap"], copies[ConfigMap]])
    refresh_controller = Controller("mountrefresh", refresh.reconcile, workers=1)
    for pods in refreshed_pods:
        refresh_controller.watch(pods)
        for informer in (owned["Secret"], owned["ConfigMap"], *copies.values()):
            refresh_controller.watch(informer, same_namespace_keys(pods))

    # Node identity and trust inside each hosted cluster: bootstrap RBAC and tokens, kubelet serving CSRs.
    data_plane_controller = DataPlaneController(client, events, control_planes=control_planes,
                                                node_pools=node_pools).controller

    # Monitoring dashboards (docs 11.2): a Grafana dashboard ConfigMap per HostedCluster with MONITORING_DASHBOARDS=1,
    # none (those it made deleted) without it.
    operator_config_maps = Informer(client, ConfigMap, namespace=options.namespace)
    dashboards = DashboardController(
        client, clusters=clusters, templates=operator_config_maps,
        dashboards=Informer(client, ConfigMap, namespace=MONITORING_NAMESPACE, labels=DASHBOARD_MANAGED_BY),
        operator_namespace=options.namespace, enabled=dashboards_enabled(os.environ)).controller

    # One-shot etcd backups: a Job beside etcd per HCPEtcdBackup. One worker: the check that no other backup
    # of the namespace runs and the Job's creation are not raced by a second worker.
    backups = Informer(client, resource_of(HCPEtcdBackup))
    backup_jobs = Informer(client, Job, labels={BACKUP_LABEL: None})
    etcd_backups = EtcdBackupController(client, releases, events, backups=backups, jobs=backup_jobs,
                                        control_planes=control_planes, clusters=clusters,
                                        statefulsets=workloads["StatefulSet"], operator_namespace=options.namespace,
                                        operator_image=os.environ.get(OPERATOR_IMAGE_ENV, ""))
    backup_controller = Controller("hcpetcdbackup", etcd_backups.reconcile, workers=1)
    backup_controller.watch(backups)
    backup_controller.watch(backup_jobs, owner_keys("HCPEtcdBackup"))
    backup_controller.watch(workloads["StatefulSet"], backup_keys(backups))

    # Scheduled backups (hcp's annotations on the HostedCluster): HCPEtcdBackups made when due, old ones pruned.
    scheduler = EtcdBackupScheduler(client, events, clusters=clusters, backups=backups,
                                    operator_namespace=options.namespace)
    schedule_controller = Controller("etcdbackupschedule", scheduler.reconcile, workers=1)
    schedule_controller.watch(clusters)
    schedule_controller.watch(backups, annotation_keys(CLUSTER_ANNOTATION))

    # What Prometheus scrapes: its configuration Secret (with --prometheus-namespace) and ServiceMonitors (where the
    # Prometheus Operator's CRD exists), under each cluster's metrics set (docs 11.1).
    monitoring = MonitoringController(client, control_planes=control_planes, clusters=clusters, secrets=owned["Secret"],
                                      operator_namespace=options.namespace, metrics_set=metrics_set(),
                                      prometheus_namespace=options.prometheus_namespace,
                                      operator_serving_secret=options.serving_secret)
    monitoring_controller = Controller("monitoring", monitoring.reconcile, workers=1)
    monitoring_controller.watch(control_planes, monitoring_key)
    monitoring_controller.watch(clusters, monitoring_key)
    monitoring_controller.watch(owned["Secret"], monitoring_key)
    monitoring_controller.watch(operator_config_maps,
                                lambda obj: [MONITORING_KEY] if obj.metadata.name == SRE_CONFIGMAP else [])
    monitoring_controller.queue.add(MONITORING_KEY)  # a first pass with no control plane yet: Prometheus's config
    monitoring_controller.queue.add(MONITORING_CRD_KEY)

    identity = os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    elector = LeaderElector(client, namespace=options.namespace, name="hypershift-operator", identity=identity) \
        if options.leader_elect else None
    registry = metrics_registry()
    registry.register(CacheCollector(clusters=clusters, node_pools=node_pools, control_planes=control_planes,
                                     backups=backups))
    # Capacity (docs 2.2): nodes cached for the gauges only; the baseline ConfigMap is read once, here.
    nodes = Informer(client, Node)
    registry.register(CapacityCollector(nodes=nodes, control_planes=control_planes,
                                        baselines=await sizing_baselines(client)))
    manager = Manager(elector=elector, metrics=ControllerMetrics(registry))
    manager.add_informer(nodes)
    manager.add(cluster_controller)
    manager.add(node_pool_controller)
    manager.add(dashboards)
    manager.add(control_plane_controller)
    manager.add(health_controller)
    manager.add(refresh_controller)
    manager.add(data_plane_controller)
    manager.add(backup_controller)
    manager.add(schedule_controller)
    manager.add(monitoring_controller)
    # Served first: the probes must be answered while the rest starts (or waits for the API server).
    server = MetricsServer(registry, manager.readiness)
    serving = await serving_certificate.ensure(client, options.namespace, options.serving_secret) \
        if options.serving_secret else None
    await server.start(options.metrics_port, tls=serving_certificate.server_context(serving) if serving else None)
    try:
        await apply(client, supported_versions_configmap(__version__))
        await manager.run()
    finally:
        await server.stop()
        releases.close()


async def sizing_baselines(client) -> dict:
    """hcp's sizing baselines with ConfigMap hypershift/hcp-sizing-baseline applied; on a missing or bad one,
    the defaults, with the reason logged (as the docs' add-on does, 2.3.1)."""
    try:
        config_map = await client.get(ConfigMap, BASELINE_CONFIGMAP, namespace=BASELINE_NAMESPACE)
    except ApiError as error:
        if error.status.code != 404:
            log.error("cannot read ConfigMap %s/%s (%s); using hcp's default sizing baseline", BASELINE_NAMESPACE,
                      BASELINE_CONFIGMAP, error.status.message)
        config_map = None
    try:
        return baselines_from_configmap(config_map.data if config_map is not None else None)
    except ValueError as error:
        log.error("%s; using hcp's default sizing baseline", error)
        return baselines_from_configmap(None)


def metrics_set():
    """METRICS_SET from the environment (docs 11.1), or the operator refuses to start with one line."""
    try:
        return parse_metrics_set(os.environ.get(METRICS_SET_ENV))
    except MetricsSetError as error:
        raise SystemExit(f"hcp-operator: {METRICS_SET_ENV}: {error}") from None


def metrics_registry() -> CollectorRegistry:
    """The operator's own registry, with the process, Python and GC metrics client libraries usually export."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def control_plane_settings(options: argparse.Namespace) -> ControlPlaneSettings:
    """The operator's image (from its Deployment's env), the registry mirrors nodes pull through, and the
    registry's pull credentials for control-plane pods."""
    ca = options.registry_ca.read_bytes() if options.registry_ca and options.registry_ca.exists() else None
    mirrors = []
    for entry in options.node_registry:
        name, equals, url = entry.partition("=")
        if not equals or not url.startswith("https://"):
            raise SystemExit(f"--node-registry {entry!r}: want NAME=https://HOST:PORT")
        mirrors.append(RegistryMirror(name, url, ca))
    pull_secret = registry_options(options)[2] if (options.registry or options.registry_url) else None
    return ControlPlaneSettings(image=os.environ.get(OPERATOR_IMAGE_ENV, ""), registry_mirrors=tuple(mirrors),
                                pull_secret=pull_secret)


def main(argv: list[str] | None = None) -> None:
    configure_logging()
    asyncio.run(run(parse_args(argv)))
