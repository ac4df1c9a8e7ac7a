"""The monitoring controller: what Prometheus scrapes follows the hosted control planes (docs 11.1).

One key, one pass over every HostedControlPlane:

- with `--prometheus-namespace` (hcp install --prometheus), the Secret
  prometheus-config there: scrape jobs and certificates of every control plane
  (hcp.monitoring.prometheus), Prometheus's serving certificate (minted once,
  renewed at two thirds of its life);
- where the Prometheus Operator's ServiceMonitor CRD exists, a ServiceMonitor
  per component in each control-plane namespace (hcp.monitoring.targets),
  owned by the HostedControlPlane so that they go with it.

Both under each cluster's metrics set: its HostedCluster's spec.monitoring.metricsSet,
else the operator's METRICS_SET; SRE reads the ConfigMap sre-metric-set in the
operator's namespace, and a bad edit of it is logged and the last good one kept
(a scrape configuration Prometheus would refuse is never written).

The pass is triggered by what it reads changing: HostedControlPlanes, HostedClusters, the control planes'
Secrets (the scrape client certificates, and the configuration Secret it writes: both managed-by hcp) and the
SRE ConfigMap; and it comes back every RECHECK seconds for what it does not watch (the operator's serving
CA, the renewal of Prometheus's serving certificate, due at two thirds of a life of years) and for any missed
event. Whether the ServiceMonitor CRD is served is looked at every CRD_RECHECK seconds on a key of its own
(CRD_KEY), one list call whatever the number of control planes, which runs the whole pass when that changed.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import httpx2
from cryptography import x509
from lightkube import ApiError, AsyncClient
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import ConfigMap, Secret

from hcp.api.names import CLUSTER_ANNOTATION
from hcp.controlplane.pki import secret_data
from hcp.kube.apply import apply, delete_if_exists, get_or_none, owner_reference
from hcp.kube.controller import Result
from hcp.kube.informer import Informer
from hcp.kube.objects import as_dict, split_key
from hcp.monitoring import CONFIG_SECRET, NAMESPACE, PROMETHEUS, SRE_CONFIG_KEY, SRE_CONFIGMAP
from hcp.monitoring.prometheus import (
    SERVING_CA_KEY, SERVING_CERT_KEY, SERVING_KEY_KEY, ScrapedControlPlane, ServingCertificate, render,
)
from hcp.monitoring.sets import MetricsSet, MetricsSetError, RelabelConfig, effective, parse_sre_config
from hcp.monitoring.targets import SERVICE_MONITOR_API, TARGETS, ControlPlane, service_monitors, targets
from hcp.operator.serving import CA_KEY as OPERATOR_SERVING_CA_KEY
from hcp.pki import issue, new_ca, renew_at

log = logging.getLogger(__name__)

KEY = "monitoring"
"""The controller's one work-queue key: every change leads to the same whole pass."""
RECHECK = 600.0
"""Seconds between passes when nothing watched changes: one pass renders every control plane's scrape
configuration, so with dozens of control planes a pass every minute was most of an idle operator's CPU."""
CRD_KEY = "monitoring/servicemonitor-crd"
"""The key on which the controller only looks whether the ServiceMonitor CRD is served (no watch: the operator
may not read CRDs), and makes the whole pass when that changed since the last pass."""
CRD_RECHECK = 60.0
ServiceMonitor = create_namespaced_resource(*SERVICE_MONITOR_API)


def to_key(_obj: Any) -> list[str]:
    return [KEY]


def serving_names(namespace: str) -> tuple[str, ...]:
    return (PROMETHEUS, f"{PROMETHEUS}.{namespace}", f"{PROMETHEUS}.{namespace}.svc",
            f"{PROMETHEUS}.{namespace}.svc.cluster.local", "localhost")


def serving_certificate(existing: dict[str, bytes], namespace: str,
                        now: datetime.datetime | None = None) -> ServingCertificate:
    """The serving certificate kept in the Secret, or a new CA and certificate when missing or due for renewal."""
    now = now or datetime.datetime.now(datetime.UTC)
    cert, key, ca = (existing.get(k) for k in (SERVING_CERT_KEY, SERVING_KEY_KEY, SERVING_CA_KEY))
    if cert and key and ca:
        try:
            if renew_at(x509.load_pem_x509_certificate(cert)) > now:
                return ServingCertificate(cert, key, ca)
        except ValueError:
            pass
    authority = new_ca("hcp-prometheus-ca")
    pair = issue(authority, PROMETHEUS, dns_names=serving_names(namespace), server=True)
    return ServingCertificate(pair.cert_pem, pair.key_pem, authority.cert_pem)


class MonitoringController:
    def __init__(self, client: AsyncClient, *, control_planes: Informer, clusters: Informer, secrets: Informer,
                 operator_namespace: str, metrics_set: MetricsSet, prometheus_namespace: str | None = NAMESPACE,
                 operator_serving_secret: str | None = None) -> None:
        self.client = client
        self.control_planes = control_planes
        self.clusters = clusters
        self.secrets = secrets
        """The control planes' own Secrets (label managed-by hcp), where the scrape client certificates are read:
        from the cache, not two GETs per control plane each minute."""
        self.operator_namespace = operator_namespace
        self.metrics_set = metrics_set
        self.prometheus_namespace = prometheus_namespace
        """Where Prometheus runs (hcp.monitoring.NAMESPACE); None: hcp runs none, its config is not written."""
        self.operator_serving_secret = operator_serving_secret
        """The Secret of the operator's serving certificate (hcp.operator.serving); None: it serves plain HTTP."""
        self._sre: dict[str, list[RelabelConfig]] = {}
        self._applied_monitors: dict[str, list[dict[str, Any]]] = {}
        """Control-plane namespace -> the ServiceMonitors last applied there by this process."""
        self._sre_text: str | None = None
        self._served: bool | None = None
        """Whether the ServiceMonitor CRD was served at the last pass (None: no pass yet)."""

    async def reconcile(self, key: str) -> Result | None:
        if key == CRD_KEY:
            if await self._service_monitors_served() != self._served:
                await self._pass()
            return Result(requeue_after=CRD_RECHECK)
        await self._pass()
        return Result(requeue_after=RECHECK)

    async def _pass(self) -> None:
        sre = await self._sre_config()
        live = [each for each in self.control_planes.list() if not each.metadata.deletionTimestamp]
        planes = [self._plane(each) for each in live]
        self._served = await self._service_monitors_served()
        if self._served:
            for plane, owner in zip(planes, live):
                await self._apply_service_monitors(plane, sre, owner)
        present = {plane.namespace for plane in planes}  # a deleted control plane's entry goes with it
        self._applied_monitors = {ns: monitors for ns, monitors in self._applied_monitors.items() if ns in present}
        if self.prometheus_namespace:
            await self._write_prometheus_config(planes, sre)

    def _plane(self, live: Any) -> ControlPlane:
        hcp = as_dict(live)
        spec = hcp.get("spec", {})
        cluster_key = (live.metadata.annotations or {}).get(CLUSTER_ANNOTATION, "")
        cluster = self.clusters.get(*split_key(cluster_key)) if cluster_key else None
        wanted = ((as_dict(cluster).get("spec", {}).get("monitoring") or {}).get("metricsSet")
                  if cluster is not None else None)
        etcd = spec.get("etcd", {})
        return ControlPlane(namespace=live.metadata.namespace, cluster_id=spec.get("clusterID") or "",
                            metrics_set=effective(self.metrics_set, wanted),
                            etcd_managed=etcd.get("managementType", "Managed") == "Managed")

    async def _sre_config(self) -> dict[str, list[RelabelConfig]]:
        """The SRE set's relabel configs; a change that does not parse is logged once and the last good kept."""
        found = await get_or_none(self.client, ConfigMap, SRE_CONFIGMAP, self.operator_namespace)
        text = (found.data or {}).get(SRE_CONFIG_KEY, "") if found is not None else ""
        if text != self._sre_text:
            self._sre_text = text
            try:
                self._sre = parse_sre_config(text)
            except MetricsSetError as error:
                log.error("%s; keeping the SRE metrics set as it was", error)
        return self._sre

    async def _service_monitors_served(self) -> bool:
        """Whether the management cluster has the Prometheus Operator's ServiceMonitor (its CRD)."""
        try:
            async for _ in self.client.list(ServiceMonitor, namespace=self.operator_namespace):
                break
        except ApiError as error:
            if error.status.code == 404:
                return False
            raise
        except httpx2.HTTPStatusError as error:  # an API group not served answers 404 without a Status body
            if error.response.status_code == 404:
                return False
            raise
        return True

    async def _apply_service_monitors(self, plane: ControlPlane, sre: dict[str, list[RelabelConfig]],
                                      owner: Any) -> None:
        """Apply the control plane's ServiceMonitors unless this process applied the very same ones last time (a
        pass every minute would otherwise patch every one of every control plane), and delete those it no longer
        renders. After a restart, the first pass applies them all once."""
        wanted = service_monitors(plane, sre)
        for monitor in wanted:
            monitor["metadata"]["ownerReferences"] = [owner_reference(owner)]
            monitor["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "hcp"}
        if self._applied_monitors.get(plane.namespace) == wanted:
            return
        for monitor in wanted:
            await apply(self.client, monitor)
        names = {monitor["metadata"]["name"] for monitor in wanted}
        for target in TARGETS:  # an etcd that became unmanaged is not scraped here any more
            if target.job not in names:
                await delete_if_exists(self.client, ServiceMonitor, target.job, plane.namespace)
        self._applied_monitors[plane.namespace] = wanted

    async def _write_prometheus_config(self, planes: list[ControlPlane], sre: dict[str, list[RelabelConfig]]) -> None:
        scraped = []
        for plane in planes:
            secrets = {}
            for secret in {t.tls.secret for t in targets(plane) if t.tls}:
                found = self.secrets.get(plane.namespace, secret)
                if found is not None:
                    secrets[secret] = secret_data(as_dict(found))
            scraped.append(ScrapedControlPlane(plane, secrets))
        existing = await get_or_none(self.client, Secret, CONFIG_SECRET, self.prometheus_namespace)
        current = secret_data(as_dict(existing)) if existing is not None else {}
        operator_ca = None
        if self.operator_serving_secret:
            found = await get_or_none(self.client, Secret, self.operator_serving_secret, self.operator_namespace)
            operator_ca = secret_data(as_dict(found)).get(OPERATOR_SERVING_CA_KEY) if found is not None else None
        desired = render(scraped, sre, serving_certificate(current, self.prometheus_namespace),
                         self.operator_namespace, operator_ca)
        desired["metadata"]["namespace"] = self.prometheus_namespace
        if secret_data(desired) != current:
            await apply(self.client, desired)
            log.info("Prometheus configuration written: %d control planes", len(scraped))
