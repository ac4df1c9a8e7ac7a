"""Per-hosted-cluster Grafana dashboards (docs 11.2), and the plots the console draws from the same panels.

The default template is `dashboard-template.json` beside this module: a Grafana
dashboard (panels of type timeseries, a `datasource` variable of type
prometheus) in which __NAME__, __NAMESPACE__, __CONTROL_PLANE_NAMESPACE__ and
__CLUSTER_ID__ stand for one HostedCluster's values. It is the one definition of
the plots: `hcp install --monitoring-dashboards` stores it in ConfigMap
`monitoring-dashboard-template` of the operator's namespace, where an admin may
edit it; the operator renders that ConfigMap's template into a dashboard
ConfigMap `cp-<namespace>-<name>` in hcp-monitoring per HostedCluster; and the
console reads its panels (`PLOTS`: title, PromQL, unit, legend) to draw its own
plots. A panel changed in the file changes all three.

Everything here is pure: no I/O but reading the packaged template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from hcp.api.names import CLUSTER_ANNOTATION, HOSTED_CLUSTER_UID_LABEL, cluster_id, control_plane_namespace
from hcp.monitoring import DASHBOARD_KEY, DASHBOARD_TEMPLATE_CONFIGMAP, DASHBOARD_TEMPLATE_KEY, NAMESPACE

TEMPLATE_FILE = "dashboard-template.json"

NAME, NAMESPACE_PLACEHOLDER, CONTROL_PLANE_NAMESPACE, CLUSTER_ID = (
    "__NAME__", "__NAMESPACE__", "__CONTROL_PLANE_NAMESPACE__", "__CLUSTER_ID__")
"""The strings a template's text has replaced (HyperShift's, docs 11.2.1)."""

MANAGED_BY = {"app.kubernetes.io/managed-by": "hcp"}
"""On every dashboard the operator writes: it lists, changes and deletes only ConfigMaps that carry it."""
DASHBOARD_LABELS = {
    "console.openshift.io/dashboard": "true",  # HyperShift's: the OpenShift console's dashboards
    "grafana_dashboard": "1",  # the Grafana sidecar's convention: a user's Grafana picks them up
}

MAX_NAME = 253
"""A ConfigMap's name is a DNS subdomain: at most 253 characters of [a-z0-9-.], alphanumeric at both ends."""
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

NAMESPACE_TOKEN = "{namespace}"
"""Where a console plot's PromQL takes the control-plane namespace (replaced as text: PromQL has braces too)."""

CONSOLE_PLOTS = ("API request rate by code", "etcd database size", "Control-plane CPU by pod",
                 "Control-plane memory by pod")
"""The panels of the default template the console draws on a cluster's page, in this order."""


# -- the template ------------------------------------------------------------------------------------------


@cache
def default_template() -> str:
    """hcp's dashboard template (the packaged dashboard-template.json), as text with the placeholders."""
    return resources.files("hcp.monitoring").joinpath(TEMPLATE_FILE).read_text()


def render(template: str, *, name: str, namespace: str, control_plane_namespace: str, cluster_id: str) -> str:
    """The dashboard of one HostedCluster: the template with its four placeholders replaced, as plain text
    (as HyperShift does; the values are Kubernetes names and a UUID, which need no JSON escaping)."""
    return (template.replace(NAME, name).replace(NAMESPACE_PLACEHOLDER, namespace)
            .replace(CONTROL_PLANE_NAMESPACE, control_plane_namespace).replace(CLUSTER_ID, cluster_id))


def render_for(template: str, hosted_cluster: Mapping[str, Any]) -> str:
    """`render` with a HostedCluster's values (a dict as the API serves it)."""
    metadata = hosted_cluster["metadata"]
    namespace, name = metadata["namespace"], metadata["name"]
    return render(template, name=name, namespace=namespace,
                  control_plane_namespace=control_plane_namespace(namespace, name),
                  cluster_id=_cluster_id(hosted_cluster))


def template_configmap(operator_namespace: str) -> dict[str, Any]:
    """ConfigMap `monitoring-dashboard-template` holding the default template, for `hcp install
    --monitoring-dashboards`. It is the admin's to customize afterwards (docs 11.2.1): create it when
    absent, and leave an existing one alone, or a re-install would undo their edits."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": DASHBOARD_TEMPLATE_CONFIGMAP, "namespace": operator_namespace,
                         "labels": dict(MANAGED_BY)},
            "data": {DASHBOARD_TEMPLATE_KEY: default_template()}}


def template_from(configmap: Mapping[str, Any] | None) -> str | None:
    """The template a `monitoring-dashboard-template` ConfigMap holds (a dict), or None when there is none."""
    if not configmap:
        return None
    return (configmap.get("data") or {}).get(DASHBOARD_TEMPLATE_KEY) or None


# -- the dashboards ----------------------------------------------------------------------------------------


def dashboard_name(namespace: str, name: str) -> str:
    """`cp-<namespace>-<name>`, HyperShift's name for a HostedCluster's dashboard ConfigMap.

    Raises ValueError when that is no valid ConfigMap name (longer than 253
    characters, or not a DNS subdomain). It is never shortened or hashed: a
    HostedCluster whose names are that long has no control plane either (its
    namespace `<namespace>-<name>` must be a DNS label of at most 63), so such
    a cluster simply gets no dashboard, and the operator logs why.
    """
    candidate = f"cp-{namespace}-{name}"
    if len(candidate) > MAX_NAME or not DNS_SUBDOMAIN.match(candidate):
        raise ValueError(f"HostedCluster {namespace}/{name} gets no dashboard: {candidate!r} is not a valid "
                         f"ConfigMap name (a DNS subdomain of at most {MAX_NAME} characters)")
    return candidate


def dashboard_configmap(template: str, *, namespace: str, name: str, cluster_id: str,
                        uid: str | None = None) -> dict[str, Any]:
    """The dashboard ConfigMap of HostedCluster `namespace/name` in hcp-monitoring: the rendered template under
    DASHBOARD_KEY, the dashboard labels, hcp's managed-by label, and the cluster it is for."""
    labels = {**DASHBOARD_LABELS, **MANAGED_BY}
    if uid:
        labels[HOSTED_CLUSTER_UID_LABEL] = uid
    dashboard = render(template, name=name, namespace=namespace,
                       control_plane_namespace=control_plane_namespace(namespace, name), cluster_id=cluster_id)
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": dashboard_name(namespace, name), "namespace": NAMESPACE, "labels": labels,
                         "annotations": {CLUSTER_ANNOTATION: f"{namespace}/{name}"}},
            "data": {DASHBOARD_KEY: dashboard}}


def desired_dashboards(hosted_clusters: Iterable[Mapping[str, Any]], template: str | None,
                       enabled: bool) -> list[dict[str, Any]]:
    """The dashboard ConfigMaps that should exist: one per HostedCluster not being deleted, when dashboards
    are enabled and there is a template; none otherwise. Sorted by name.

    Clusters whose dashboard name is invalid (`dashboard_name`) get none. Two
    clusters can map to one name (`a-b`/`c` and `a`/`b-c`, as their control-plane
    namespaces do): the older cluster keeps it, as it keeps the namespace.
    """
    if not enabled or template is None:
        return []
    chosen: dict[str, tuple[tuple[str, str, str], dict[str, Any]]] = {}
    for cluster in hosted_clusters:
        metadata = cluster["metadata"]
        if metadata.get("deletionTimestamp"):
            continue
        namespace, name = metadata["namespace"], metadata["name"]
        try:
            configmap = dashboard_configmap(template, namespace=namespace, name=name,
                                            cluster_id=_cluster_id(cluster), uid=metadata.get("uid"))
        except ValueError:
            continue
        age = (metadata.get("creationTimestamp") or "", namespace, name)
        key = configmap["metadata"]["name"]
        if key not in chosen or age < chosen[key][0]:
            chosen[key] = (age, configmap)
    return [chosen[key][1] for key in sorted(chosen)]


def invalid_names(hosted_clusters: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why each HostedCluster that `desired_dashboards` passes over for its name gets no dashboard."""
    problems = []
    for cluster in hosted_clusters:
        metadata = cluster["metadata"]
        try:
            dashboard_name(metadata["namespace"], metadata["name"])
        except ValueError as error:
            problems.append(str(error))
    return problems


@dataclass(frozen=True)
class Changes:
    """What makes the dashboards in hcp-monitoring equal to the desired ones."""

    apply: list[dict[str, Any]] = field(default_factory=list)
    """Dashboards to create or update (absent, or different from the desired one)."""
    delete: list[str] = field(default_factory=list)
    """Names of hcp's dashboards that should not exist."""


def changes(hosted_clusters: Iterable[Mapping[str, Any]], template: str | None, enabled: bool,
            existing: Iterable[Mapping[str, Any]]) -> Changes:
    """Bring `existing` (hcp's dashboard ConfigMaps, as dicts) to `desired_dashboards`.

    Only ConfigMaps labelled MANAGED_BY are ever deleted (the caller lists only
    those; a foreign one passed in is ignored). Without a template while
    enabled, nothing is created or changed and the dashboards of clusters that
    still exist are kept as they are: a template being replaced does not
    blank every dashboard; those of clusters that are gone (or being deleted)
    still go, as the docs promise.
    """
    clusters = list(hosted_clusters)
    mine = {c["metadata"]["name"]: c for c in existing if _managed(c)}
    if enabled and template is None:
        return Changes([], sorted(name for name, c in mine.items() if not _for_a_live(c, clusters)))
    desired = desired_dashboards(clusters, template, enabled)
    wanted = {d["metadata"]["name"] for d in desired}
    return Changes([d for d in desired if not _same(d, mine.get(d["metadata"]["name"]))],
                   sorted(name for name in mine if name not in wanted))


def _for_a_live(configmap: Mapping[str, Any], clusters: list[Mapping[str, Any]]) -> bool:
    """Whether the cluster a dashboard names (annotation) still exists and is not being deleted."""
    key = ((configmap.get("metadata") or {}).get("annotations") or {}).get(CLUSTER_ANNOTATION)
    return any(f"{c['metadata']['namespace']}/{c['metadata']['name']}" == key
               and not c["metadata"].get("deletionTimestamp") for c in clusters)


def _same(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """Whether a live ConfigMap already has everything the desired one sets (others' additions allowed)."""
    if live is None:
        return False
    want, have = desired["metadata"], live.get("metadata") or {}
    return ((live.get("data") or {}) == desired["data"]
            and want["labels"].items() <= (have.get("labels") or {}).items()
            and want["annotations"].items() <= (have.get("annotations") or {}).items())


def _managed(configmap: Mapping[str, Any]) -> bool:
    labels = (configmap.get("metadata") or {}).get("labels") or {}
    return MANAGED_BY.items() <= labels.items()


def _cluster_id(hosted_cluster: Mapping[str, Any]) -> str:
    return cluster_id((hosted_cluster.get("spec") or {}).get("clusterID"), hosted_cluster["metadata"].get("uid", ""))


# -- the console's plots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    """One panel of the template as the console draws it."""

    title: str
    query: str
    """PromQL with NAMESPACE_TOKEN where the control-plane namespace goes."""
    unit: str
    """Grafana's unit id: reqps, short, bytes, s, or `suffix:<text>`."""
    legend: str = ""
    """Grafana's legendFormat: `{{label}}` holes filled from each series' labels."""

    def promql(self, namespace: str) -> str:
        return self.query.replace(NAMESPACE_TOKEN, namespace)


def plots(template: str) -> list[Plot]:
    """The time-series panels of a template: the first query of each, with __CONTROL_PLANE_NAMESPACE__ as
    NAMESPACE_TOKEN. Panels with other placeholders in their query are left out (the console knows only
    the namespace)."""
    found = []
    for panel in _panels(json.loads(template)):
        targets = [t for t in panel.get("targets") or () if t.get("expr")]
        if panel.get("type") != "timeseries" or not targets:
            continue
        expr = targets[0]["expr"]
        if any(p in expr for p in (NAME, NAMESPACE_PLACEHOLDER, CLUSTER_ID)):
            continue
        unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit") or "short"
        found.append(Plot(panel.get("title") or "", expr.replace(CONTROL_PLANE_NAMESPACE, NAMESPACE_TOKEN), unit,
                          targets[0].get("legendFormat") or ""))
    return found


def _panels(dashboard: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Panels, including those inside collapsed rows."""
    out = []
    for panel in dashboard.get("panels") or ():
        out.append(panel)
        out.extend(panel.get("panels") or ())
    return out


PLOTS: tuple[Plot, ...] = tuple(plots(default_template()))
"""Every plot of the default template."""


def console_plots() -> list[Plot]:
    """The plots the console draws: CONSOLE_PLOTS, from the default template."""
    by_title = {p.title: p for p in PLOTS}
    return [by_title[title] for title in CONSOLE_PLOTS]
