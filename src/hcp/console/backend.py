"""What the web console does, each step a plain API request made with the signed-in user's own token.

The console holds no identity of its own on the management cluster: it knows
only where the API server is and which CA it presents (from a kubeconfig,
whose credentials it never uses), and every request carries the token the
user signed in with. RBAC therefore judges the user, exactly as for
`kubectl --token`, and whatever the API answers — a Forbidden, an Invalid —
is shown as the API worded it (`ApiProblem`).

Creating and destroying a cluster go through the same functions as
`hcp create cluster kwok` and `hcp destroy cluster kwok` (`hcp.hostedcluster`),
so the console makes the same objects in the same order, all or nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx2
import yaml
from lightkube import ApiError, KubeConfig
from lightkube.resources.core_v1 import ConfigMap, Namespace, Node

from hcp.api import HostedControlPlane
from hcp.api.names import AUTO_CREATED_LABEL
from hcp.api.v1beta1.etcd import DEFAULT_ETCD_STORAGE_SIZE
from hcp.api.v1beta1.nodepool import MAX_NODE_POOL_REPLICAS
from hcp.api.v1beta1.platform import PlatformType
from hcp.capacity.baseline import BASELINE_CONFIGMAP, BASELINE_NAMESPACE, default_baseline, overrides_from_mapping, \
    with_overrides
from hcp.capacity.formulas import HIGHLY_AVAILABLE, POLICIES
from hcp.capacity.report import report, table
from hcp.hostedcluster import lifecycle, objects
from hcp.hostedcluster.kube import HostedClusterError, Kube
from hcp.hostedcluster.kubeconfig import admin_kubeconfig
from hcp.api.names import control_plane_namespace
from hcp.console.plots import matrix_series, svg_plot
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict
from hcp.monitoring import DASHBOARD_TEMPLATE_CONFIGMAP, NAMESPACE as MONITORING_NAMESPACE, PROMETHEUS, \
    PROMETHEUS_PORT_NAME
from hcp.monitoring.dashboard import console_plots, dashboard_name, default_template, render_for, template_from
from hcp.operator.install import NAMESPACE as OPERATOR_NAMESPACE
from hcp.release.versions import SUPPORTED_VERSIONS_NAME, SUPPORTED_VERSIONS_NAMESPACE, supported_release_versions, \
    release_image

HOSTED_CLUSTERS = lifecycle.HOSTED_CLUSTERS
NODE_POOLS = lifecycle.NODE_POOLS
CONTROL_PLANES = resource_of(HostedControlPlane)
API_GROUP_PATH = "/apis/hypershift.openshift.io/v1beta1"
SUMMARY_CONDITIONS = ("Available", "Progressing", "Degraded")
DESTROY_GRACE_SECONDS = 600.0
"""As `hcp destroy cluster`'s default --cluster-grace-period (10m)."""
PROMETHEUS_QUERY_RANGE = (f"/api/v1/namespaces/{MONITORING_NAMESPACE}/services/https:{PROMETHEUS}:"
                          f"{PROMETHEUS_PORT_NAME}/proxy/api/v1/query_range")
"""Prometheus's range queries, through the management API server's service proxy (the user's rights decide)."""
PLOT_SECONDS, PLOT_STEP_SECONDS = 3600, 60
"""The console's plots show the last hour, a point a minute."""


class ApiProblem(Exception):
    """A request the API server refused (its Status message, verbatim) or could not be sent; `code` is HTTP's."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ManagementAPI:
    """Where the management API server is and how to trust it: a kubeconfig's cluster entry, never its user."""

    cluster: dict[str, Any]
    kubeconfig_path: Path | None = None
    transport: httpx2.BaseTransport | None = None

    @classmethod
    def from_kubeconfig(cls, path: Path, transport: httpx2.BaseTransport | None = None) -> ManagementAPI:
        document = yaml.safe_load(path.read_text()) or {}
        contexts = {c["name"]: c.get("context") or {} for c in document.get("contexts") or []}
        clusters = {c["name"]: c.get("cluster") or {} for c in document.get("clusters") or []}
        context = contexts.get(document.get("current-context")) or next(iter(contexts.values()), {})
        cluster = clusters.get(context.get("cluster")) or next(iter(clusters.values()), None)
        if not cluster or not cluster.get("server"):
            raise HostedClusterError(f"{path} names no API server; pass the management cluster's kubeconfig")
        return cls(cluster, path, transport)

    @property
    def server(self) -> str:
        return self.cluster["server"]

    def as_user(self, token: str) -> Kube:
        """A client that sends `token` as the bearer of every request (and nothing else of the kubeconfig)."""
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "console",
                  "clusters": [{"name": "management", "cluster": self.cluster}],
                  "users": [{"name": "user", "user": {"token": token}}],
                  "contexts": [{"name": "console", "context": {"cluster": "management", "user": "user"}}]}
        return Kube(KubeConfig.from_dict(config, fname=self.kubeconfig_path), self.transport)


def calling(action: Callable[[], Any]) -> Any:
    """Run one step against the API, turning whatever it refuses into an ApiProblem with the API's words."""
    try:
        return action()
    except ApiError as error:
        status = error.status
        raise ApiProblem(status.message or status.reason or f"HTTP {status.code}", status.code or 500) from None
    except httpx2.HTTPStatusError as error:
        raise ApiProblem(_message(error.response), error.response.status_code) from None
    except HostedClusterError as error:
        raise ApiProblem(str(error), 409 if "already exists" in str(error) else 400) from None
    except httpx2.TransportError as error:
        raise ApiProblem(f"cannot reach the management API server ({error or type(error).__name__})", 502) from None


def _message(response: httpx2.Response) -> str:
    """The Status message of an error response, else its text: what the API said, as it said it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.text.strip() or f"HTTP {response.status_code}"


def _checked(response: httpx2.Response) -> dict[str, Any]:
    if response.is_error:
        raise ApiProblem(_message(response), response.status_code)
    return response.json()


def who_am_i(kube: Kube) -> dict[str, Any]:
    """The user a token authenticates as (SelfSubjectReview): how sign-in checks a token without any rights."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    review = calling(lambda: _checked(kube.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                                     json=body)))
    info = (review.get("status") or {}).get("userInfo") or {}
    if not info.get("username"):
        raise ApiProblem("the API server did not say who this token belongs to", 401)
    return {"username": info["username"], "groups": info.get("groups") or []}


HEALTHY_STATUS: dict[str, str] = {
    # HostedCluster (HyperShift's expected condition states, and hcp's own types)
    "Available": "True", "Progressing": "False", "Degraded": "False", "ValidConfiguration": "True",
    "SupportedConfiguration": "True", "SupportedHostedCluster": "True", "ValidReleaseImage": "True",
    "ReconciliationActive": "True", "IgnitionEndpointAvailable": "True", "UnmanagedEtcdAvailable": "True",
    "ValidOIDCConfiguration": "True", "ClusterVersionSucceeding": "True", "ClusterVersionUpgradeable": "True",
    "ClusterVersionRetrievedUpdates": "True", "EtcdAvailable": "True", "KubeAPIServerAvailable": "True",
    "InfrastructureReady": "True",
    # NodePool
    "Ready": "True", "ValidHostedCluster": "True", "ValidPlatformConfig": "True", "ValidPlatformImage": "True",
    "ValidMachineTemplate": "True", "ValidMachineConfig": "True", "UpdatingVersion": "False",
    "UpdatingConfig": "False",
}
"""Which status of a condition type is the healthy one: Available=True, but Progressing=False and
Degraded=False. Types not here (ReconciliationPaused, AutoscalingEnabled: settings, not health) are neutral."""
UNDER_WAY = frozenset({"Progressing", "UpdatingVersion", "UpdatingConfig"})
"""Types whose other status is work under way (a rollout, an update), not a fault: neutral rather than bad."""


def condition_health(type_: str, status: str | None) -> str:
    """How the console colours a condition: "good", "bad" or "neutral" (Unknown, or a type of no known sense)."""
    healthy = HEALTHY_STATUS.get(type_)
    if healthy is None or status not in ("True", "False"):
        return "neutral"
    if status == healthy:
        return "good"
    return "neutral" if type_ in UNDER_WAY else "bad"


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{key: c.get(key) for key in ("type", "status", "reason", "message", "lastTransitionTime")}
            for c in (obj.get("status") or {}).get("conditions") or []]
    return [{**row, "health": condition_health(row["type"], row["status"])} for row in rows]


def _summary(cluster: dict[str, Any], pools: list[dict[str, Any]]) -> dict[str, Any]:
    metadata, status = cluster["metadata"], cluster.get("status") or {}
    conditions = {c["type"]: c for c in _conditions(cluster)}
    version = status.get("version") or {}
    return {
        "name": metadata["name"], "namespace": metadata["namespace"],
        "version": (version.get("desired") or {}).get("version") or "",
        "releaseImage": (cluster.get("spec") or {}).get("release", {}).get("image", ""),
        "conditions": {kind: conditions.get(kind) for kind in SUMMARY_CONDITIONS},
        "nodePools": len(pools),
        "deleting": bool(metadata.get("deletionTimestamp")),
    }


def list_clusters(kube: Kube, namespace: str | None) -> list[dict[str, Any]]:
    """HostedClusters of one namespace or of all (the user's rights decide which works), with NodePool counts."""
    clusters = calling(lambda: [as_dict(c) for c in kube.list(HOSTED_CLUSTERS, namespace)])
    pools = calling(lambda: [as_dict(p) for p in kube.list(NODE_POOLS, namespace)])
    rows = []
    for cluster in sorted(clusters, key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"])):
        mine = [p for p in pools if p["metadata"]["namespace"] == cluster["metadata"]["namespace"]
                and (p.get("spec") or {}).get("clusterName") == cluster["metadata"]["name"]]
        rows.append(_summary(cluster, mine))
    return rows


def cluster_detail(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    """One HostedCluster: conditions, NodePools, its events, the updates it offers, and its kubeconfig's state."""
    cluster = calling(lambda: lifecycle.hosted_cluster(kube, namespace, name))
    pools = [p for p in calling(lambda: [as_dict(p) for p in kube.list(NODE_POOLS, namespace)])
             if (p.get("spec") or {}).get("clusterName") == name]
    status = cluster.get("status") or {}
    detail = _summary(cluster, pools)
    detail.update({
        "allConditions": _conditions(cluster),
        "availableUpdates": [u.get("image") for u in (status.get("version") or {}).get("availableUpdates") or []
                             if u.get("image")],
        "kubeconfigReady": bool((status.get("kubeconfig") or {}).get("name")),
        "controlPlaneEndpoint": status.get("controlPlaneEndpoint") or None,
        "nodePools": [_pool(p) for p in sorted(pools, key=lambda p: p["metadata"]["name"])],
    })
    try:
        detail["events"], detail["eventsError"] = events(kube, namespace, "HostedCluster", name), None
    except ApiProblem as problem:  # events are a view; a user who may not read them still sees the rest
        detail["events"], detail["eventsError"] = [], str(problem)
    return detail


def _pool(pool: dict[str, Any]) -> dict[str, Any]:
    spec, status = pool.get("spec") or {}, pool.get("status") or {}
    return {"name": pool["metadata"]["name"], "replicas": spec.get("replicas"),
            "currentReplicas": status.get("replicas") or 0, "version": status.get("version") or "",
            "platform": (spec.get("platform") or {}).get("type"), "conditions": _conditions(pool)}


def events(kube: Kube, namespace: str, kind: str, name: str) -> list[dict[str, Any]]:
    """Events about one object (core/v1 events API, as `kubectl describe` reads them), newest first."""
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    items = calling(lambda: _checked(kube.request("GET", f"/api/v1/namespaces/{namespace}/events",
                                                  params={"fieldSelector": selector})))["items"]
    rows = [{"type": e.get("type"), "reason": e.get("reason"), "message": e.get("message"),
             "count": e.get("count") or 1,
             "lastTimestamp": e.get("lastTimestamp") or e.get("eventTime") or
             (e.get("metadata") or {}).get("creationTimestamp")}
            for e in items
            if (e.get("involvedObject") or {}).get("kind") == kind and (e.get("involvedObject") or {}).get("name") == name]
    return sorted(rows, key=lambda e: e["lastTimestamp"] or "", reverse=True)


def scale(kube: Kube, namespace: str, pool: str, replicas: int) -> dict[str, Any]:
    """`kubectl scale nodepool/<pool> --replicas=N`: a merge patch of the scale subresource."""
    if not 0 <= replicas <= MAX_NODE_POOL_REPLICAS:
        raise ApiProblem(f"replicas must be between 0 and {MAX_NODE_POOL_REPLICAS}", 400)
    return calling(lambda: _checked(kube.request(
        "PATCH", f"{API_GROUP_PATH}/namespaces/{namespace}/nodepools/{pool}/scale",
        json={"spec": {"replicas": replicas}}, headers={"Content-Type": "application/merge-patch+json"})))


def start_update(kube: Kube, namespace: str, name: str, image: str) -> dict[str, Any]:
    """`kubectl patch hostedcluster <name> --type merge -p '{"spec":{"release":{"image":...}}}'` (docs 6.5)."""
    if not image:
        raise ApiProblem("choose a release image to update to", 400)
    return calling(lambda: _checked(kube.request(
        "PATCH", f"{API_GROUP_PATH}/namespaces/{namespace}/hostedclusters/{name}",
        json={"spec": {"release": {"image": image}}}, headers={"Content-Type": "application/merge-patch+json"})))


def kubeconfig(kube: Kube, namespace: str, name: str) -> str:
    """The admin kubeconfig the HostedCluster reports in status.kubeconfig, as `hcp create kubeconfig` prints it."""
    return calling(lambda: admin_kubeconfig(kube, namespace, name))


def releases(kube: Kube) -> dict[str, Any]:
    """Release images to offer on the create form, and the minors ConfigMap hypershift/supported-versions lists.

    The images are those `hcp release publish` pushes (the default of `hcp
    create cluster` first); the ConfigMap is read with the user's rights and
    its minors are shown when the user may read it.
    """
    from hcp.cli.create import DEFAULT_RELEASE_IMAGE  # the CLI's default, wherever it comes from
    registry = DEFAULT_RELEASE_IMAGE.split("/", 1)[0]
    images = list(dict.fromkeys([DEFAULT_RELEASE_IMAGE, *(release_image(registry, v)
                                                          for v in supported_release_versions())]))
    try:
        config_map = calling(lambda: kube.get_or_none(ConfigMap, SUPPORTED_VERSIONS_NAME,
                                                      SUPPORTED_VERSIONS_NAMESPACE))
        supported = yaml.safe_load(((config_map.data or {}).get("supported-versions") or "{}")
                                   ) if config_map else {}
        minors, problem = (supported or {}).get("versions") or [], None
    except ApiProblem as error:
        minors, problem = [], str(error)
    return {"images": images, "default": DEFAULT_RELEASE_IMAGE, "supportedVersions": minors,
            "supportedVersionsError": problem}


@dataclass(frozen=True)
class CreateRequest:
    """The create form: what `hcp create cluster kwok --name N --namespace NS --release-image R
    --node-pool-replicas N [--api-server-address A]` takes; everything else at the CLI's defaults."""

    name: str
    namespace: str
    release_image: str
    replicas: int = 2
    api_server_address: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CreateRequest:
        try:
            replicas = int(body.get("replicas", 2))
        except (TypeError, ValueError):
            raise ApiProblem("replicas must be a whole number", 400) from None
        if not -1 <= replicas <= MAX_NODE_POOL_REPLICAS:
            raise ApiProblem(f"replicas must be between -1 (no NodePool) and {MAX_NODE_POOL_REPLICAS}", 400)
        name, namespace = str(body.get("name") or "").strip(), str(body.get("namespace") or "").strip()
        image = str(body.get("releaseImage") or "").strip()
        if not (name and namespace and image):
            raise ApiProblem("name, namespace and release image are required", 400)
        try:
            objects.check_names(namespace, name)
        except ValueError as error:
            raise ApiProblem(str(error), 400) from None
        return cls(name, namespace, image, replicas, str(body.get("apiServerAddress") or "").strip() or None)


def cluster_documents(kube: Kube, request: CreateRequest, state_dir: Path) -> list[dict[str, Any]]:
    """The objects `hcp create cluster kwok` makes for these options (tests hold the two equal).

    One difference, for users bound in a namespace they were given: when the
    user may not read Namespaces (hcp's cluster-service-consumer may not),
    the Namespace is left out — such a user cannot create one either, and
    `create` never touches a namespace that exists.
    """
    from hcp.cli.create import _encryption_key  # the CLI's rule: keep an existing key, else a new one
    address = request.api_server_address or calling(lambda: lifecycle.management_node_address(kube, state_dir))
    options = objects.ClusterOptions(
        name=request.name, namespace=request.namespace, release_image=request.release_image,
        api_server_address=address, etcd_storage_size=DEFAULT_ETCD_STORAGE_SIZE, platform=PlatformType.KWOK,
        encryption_key=calling(lambda: _encryption_key(kube, request.namespace, request.name)))
    pool = None
    if request.replicas >= 0:
        pool = objects.NodePoolOptions(
            name=request.name, namespace=request.namespace, cluster_name=request.name, replicas=request.replicas,
            release_image=request.release_image, labels={AUTO_CREATED_LABEL: request.name},
            platform=PlatformType.KWOK)
    documents = objects.cluster_objects(options, pool)
    try:
        calling(lambda: kube.get_or_none(Namespace, request.namespace))
    except ApiProblem as problem:
        if problem.code != 403:
            raise
        documents = [d for d in documents if d["kind"] != "Namespace"]
    return documents


def create_cluster(kube: Kube, request: CreateRequest, state_dir: Path) -> list[str]:
    """Create the cluster as `hcp create cluster kwok` does (dry run of everything first, all or nothing)."""
    documents = cluster_documents(kube, request, state_dir)
    lines: list[str] = []
    calling(lambda: lifecycle.create_cluster(kube, documents, lines.append))
    return lines


def capacity(kube: Kube, policy: str = HIGHLY_AVAILABLE) -> dict[str, Any]:
    """`hcp capacity`'s report (with the cluster's baseline ConfigMap if any), computed with the user's rights."""
    nodes = calling(lambda: [as_dict(n) for n in kube.list(Node)])
    control_planes = calling(lambda: [as_dict(p) for p in kube.list(CONTROL_PLANES)])
    baselines = {p: default_baseline(p) for p in POLICIES}
    try:
        config_map = calling(lambda: kube.get_or_none(ConfigMap, BASELINE_CONFIGMAP, BASELINE_NAMESPACE))
    except ApiProblem as problem:
        if problem.code != 403:
            raise
        config_map = None  # not readable by this user: hcp's own baseline, as with --no-cluster-baseline
    if config_map is not None:
        origin = f"ConfigMap {BASELINE_NAMESPACE}/{BASELINE_CONFIGMAP}"
        for p, values in overrides_from_mapping(config_map.data or {}, origin).items():
            baselines[p] = with_overrides(baselines[p], values, origin)
    data = report(nodes, control_planes, baselines, policy, qps=None, node_selector={})
    return {"report": _json(data), "table": table(data) if data["nodes"] else
            "no node of the management cluster can host control planes"}


def _json(value: Any) -> Any:
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


@dataclass
class Destroy:
    """A destroy running in the background with the user's token, and what it has said so far."""

    namespace: str
    name: str
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    done: bool = False
    started: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "lines": self.lines[-20:], "error": self.error,
                "done": self.done}


def destroy(management: ManagementAPI, token: str, namespace: str, name: str, confirmation: str) -> Destroy:
    """Start `hcp destroy cluster kwok` for one cluster; the confirmation must be the cluster's name.

    The HostedCluster's delete is sent before this returns, so a refusal
    (Forbidden, not found) is the caller's to show at once; the wait until
    the operator has removed everything, and the removal of the Secrets
    `create` made, go on in a thread with a client of its own, the user's
    token in memory only.
    """
    if confirmation != name:
        raise ApiProblem(f"type the cluster's name ({name}) to confirm that it is to be destroyed", 400)
    kube = management.as_user(token)
    job = Destroy(namespace, name)
    try:
        calling(lambda: lifecycle.hosted_cluster(kube, namespace, name))
        calling(lambda: kube.client.delete(HOSTED_CLUSTERS, name, namespace=namespace))
    except BaseException:
        kube.close()
        raise
    job.lines.append(f"deleting HostedCluster {namespace}/{name}")

    def run() -> None:
        try:
            calling(lambda: lifecycle.destroy_cluster(kube, namespace, name, job.lines.append,
                                                      DESTROY_GRACE_SECONDS))
        except ApiProblem as problem:
            if not _already_gone(problem):
                job.error = str(problem)
        except Exception as error:  # noqa: BLE001 — shown on the page rather than lost in a thread
            job.error = f"{type(error).__name__}: {error}"
        finally:
            job.done = True
            kube.close()

    threading.Thread(target=run, name=f"destroy-{namespace}-{name}", daemon=True).start()
    return job


def _already_gone(problem: ApiProblem) -> bool:
    """destroy_cluster's "not found and nothing of it is left": what a finished destroy looks like."""
    return "nothing of it is left" in str(problem)


def metrics(kube: Kube, namespace: str, name: str, now: float | None = None) -> dict[str, Any]:
    """The cluster page's plots (hcp.monitoring.dashboard.console_plots) over the last hour, each drawn as SVG.

    Prometheus is asked through the API server's service proxy with the user's
    token. When no Prometheus answers there (404: no such service or namespace;
    503: no ready pod) or the user may not use the proxy (403, the API's words
    verbatim), the answer is one line in `unavailable` and no plots; a query
    Prometheus refuses is that plot's `error`.
    """
    end = float(int(now if now is not None else time.time()))
    start = end - PLOT_SECONDS
    target = control_plane_namespace(namespace, name)
    drawn = []
    for plot in console_plots():
        params = {"query": plot.promql(target), "start": start, "end": end, "step": PLOT_STEP_SECONDS}
        response = calling(lambda: kube.request("GET", PROMETHEUS_QUERY_RANGE, params=params))
        body = _json_or_none(response)
        prometheus_error = isinstance(body, dict) and body.get("status") == "error" and "errorType" in body
        if response.is_error and not prometheus_error:
            return {"plots": [], "unavailable": _unavailable(response), "start": start, "end": end}
        entry = {"title": plot.title, "unit": plot.unit, "query": params["query"], "svg": None, "error": None}
        if prometheus_error or not isinstance(body, dict) or body.get("status") != "success":
            entry["error"] = f"Prometheus: {body.get('error') if isinstance(body, dict) else response.text.strip()}"
        else:
            entry["svg"] = svg_plot(matrix_series(body, plot.legend), plot.unit, start=start, end=end,
                                    step=PLOT_STEP_SECONDS, title=plot.title)
        drawn.append(entry)
    return {"plots": drawn, "unavailable": None, "start": start, "end": end}


def _json_or_none(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _unavailable(response: httpx2.Response) -> str:
    """The one line the page shows instead of plots when the service proxy does not lead to Prometheus."""
    code, message = response.status_code, _message(response)
    if code == 403:
        return message
    where = f"service {MONITORING_NAMESPACE}/{PROMETHEUS}"
    if code in (404, 503):
        return (f"No plots: Prometheus is not installed or not running ({where} through the API server's proxy "
                f"answered {code}: {message}); `hcp install --prometheus` deploys it.")
    return f"No plots: Prometheus could not be reached ({where} through the API server's proxy answered {code}: " \
           f"{message})."


def grafana_dashboard(kube: Kube, namespace: str, name: str) -> tuple[str, str]:
    """(file name, JSON) of the cluster's Grafana dashboard, as the operator renders it: from ConfigMap
    hypershift/monitoring-dashboard-template when the user may read it, else from hcp's default template."""
    cluster = calling(lambda: lifecycle.hosted_cluster(kube, namespace, name))
    try:
        configmap = calling(lambda: kube.get_or_none(ConfigMap, DASHBOARD_TEMPLATE_CONFIGMAP, OPERATOR_NAMESPACE))
    except ApiProblem as problem:
        if problem.code != 403:
            raise
        configmap = None
    template = template_from(as_dict(configmap)) if configmap is not None else None
    return f"{dashboard_name(namespace, name)}.json", render_for(template or default_template(), cluster)
