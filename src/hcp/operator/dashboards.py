"""The monitoring-dashboards controller: a Grafana dashboard ConfigMap per HostedCluster (docs 11.2).

With MONITORING_DASHBOARDS=1 on the operator's Deployment, every HostedCluster
has ConfigMap `cp-<namespace>-<name>` in hcp-monitoring holding its dashboard,
rendered from the template in ConfigMap `monitoring-dashboard-template` of the
operator's namespace (hcp.monitoring.dashboard decides what should exist). A
cluster's dashboard goes when the cluster is deleted; with the variable unset
(changing it restarts the operator) every dashboard goes.

One key, one pass over everything: the set of dashboards is a function of all
HostedClusters and the template, and a pass that finds nothing different writes
nothing (it compares with the cache of hcp's dashboards), so the HostedClusters'
frequent status writes cost a render in memory each, not API requests.

It touches only ConfigMaps labelled app.kubernetes.io/managed-by=hcp: it lists
and watches only those, creates a dashboard whose name is free with a create
(an existing ConfigMap of that name that is not hcp's is left alone, with a
warning) and updates its own with server-side apply. Without the template it
writes no dashboard and logs one warning until the template appears.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lightkube import ApiError, AsyncClient
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import ConfigMap

from hcp.api.names import CLUSTER_ANNOTATION
from hcp.kube.apply import apply
from hcp.kube.controller import Controller, Result
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict
from hcp.monitoring import DASHBOARD_TEMPLATE_CONFIGMAP, MONITORING_DASHBOARDS_ENV, NAMESPACE
from hcp.monitoring import dashboard

log = logging.getLogger(__name__)

KEY = "dashboards"
"""The controller's one work-queue key."""
MISSING_NAMESPACE_RETRY = 60.0
"""Seconds before a pass that found no hcp-monitoring namespace tries again (nothing watched announces it)."""


def dashboards_enabled(environ: Mapping[str, str]) -> bool:
    """MONITORING_DASHBOARDS=1 on the operator's Deployment, as HyperShift reads it ("1" only)."""
    return environ.get(MONITORING_DASHBOARDS_ENV, "") == "1"


class DashboardController:
    def __init__(self, client: AsyncClient, *, clusters: Informer, templates: Informer, dashboards: Informer,
                 operator_namespace: str, enabled: bool) -> None:
        """`templates`: ConfigMaps of the operator's namespace; `dashboards`: hcp's ConfigMaps in hcp-monitoring
        (label selector dashboard.MANAGED_BY)."""
        self.client = client
        self.clusters = clusters
        self.templates = templates
        self.dashboards = dashboards
        self.operator_namespace = operator_namespace
        self.enabled = enabled
        self._warned: set[str] = set()
        self.controller = Controller("monitoringdashboards", self.reconcile, workers=1)
        self.controller.watch(clusters, lambda obj: [KEY])
        self.controller.watch(templates, self._template_keys)
        self.controller.watch(dashboards, lambda obj: [KEY])

    _no_namespace = (f"namespace {NAMESPACE} does not exist: monitoring dashboards are written there once "
                     f"`hcp install` has created it")

    def _template_keys(self, obj: Any) -> list[str]:
        return [KEY] if obj.metadata.name == DASHBOARD_TEMPLATE_CONFIGMAP else []

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning(message)

    async def reconcile(self, key: str) -> Result | None:
        clusters = [as_dict(c) for c in self.clusters.list()]
        configmap = self.templates.get(self.operator_namespace, DASHBOARD_TEMPLATE_CONFIGMAP)
        template = dashboard.template_from(as_dict(configmap)) if configmap is not None else None
        missing = (f"monitoring dashboards are enabled ({MONITORING_DASHBOARDS_ENV}=1) but ConfigMap "
                   f"{self.operator_namespace}/{DASHBOARD_TEMPLATE_CONFIGMAP} (key "
                   f"{dashboard.DASHBOARD_TEMPLATE_KEY}) does not exist: no dashboard is written until it does")
        if self.enabled and template is None:
            self._warn_once(missing)
        else:
            self._warned.discard(missing)
        if self.enabled:
            for problem in dashboard.invalid_names(clusters):
                self._warn_once(problem)

        existing = [as_dict(c) for c in self.dashboards.list(NAMESPACE)]
        plan = dashboard.changes(clusters, template, self.enabled, existing)
        for name in plan.delete:
            try:
                await self.client.delete(ConfigMap, name, namespace=NAMESPACE)
                log.info("deleted dashboard", extra={"configmap": f"{NAMESPACE}/{name}"})
            except ApiError as error:
                if error.status.code != 404:
                    raise
        known = {c["metadata"]["name"] for c in existing}
        for body in plan.apply:
            if not await self._write(body, new=body["metadata"]["name"] not in known):
                self._warn_once(self._no_namespace)
                return Result(requeue_after=MISSING_NAMESPACE_RETRY)
        self._warned.discard(self._no_namespace)
        return None

    async def _write(self, body: dict[str, Any], *, new: bool) -> bool:
        """Create a new dashboard, or apply one of hcp's; False when namespace hcp-monitoring does not exist."""
        name = body["metadata"]["name"]
        where = {"configmap": f"{NAMESPACE}/{name}"}
        try:
            if new:
                try:
                    await self.client.create(from_dict(body))
                    log.info("created dashboard", extra=where)
                    return True
                except ApiError as error:
                    if error.status.code != 409:
                        raise
                # Taken: by hcp's own dashboard the cache has not seen yet, or by someone else's ConfigMap.
                live = await self.client.get(ConfigMap, name, namespace=NAMESPACE)
                if not dashboard.MANAGED_BY.items() <= ((live.metadata.labels or {}).items()):
                    self._warn_once(f"ConfigMap {NAMESPACE}/{name} exists and is not hcp's (no label "
                                    f"app.kubernetes.io/managed-by=hcp): the dashboard of HostedCluster "
                                    f"{body['metadata']['annotations'][CLUSTER_ANNOTATION]} is not written "
                                    f"over it")
                    return True
            await apply(self.client, body)
            log.info("updated dashboard", extra=where)
            return True
        except ApiError as error:
            if error.status.code == 404 and _names_namespace(error):
                return False
            raise


def _names_namespace(error: ApiError) -> bool:
    """A 404 saying the namespace is missing (NamespaceLifecycle), not the object."""
    details = error.status.details
    return bool(details and details.kind == "namespaces") or "namespaces" in (error.status.message or "")
