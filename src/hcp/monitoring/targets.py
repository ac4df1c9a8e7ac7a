"""What Prometheus scrapes in one control-plane namespace, and the ServiceMonitors that say it.

One `Target` per component: which pods (label `app`), which container port,
over what TLS (the server name its certificate carries, the CA that signed it,
the client certificate Prometheus presents) and under which metrics-set key.
The same list is rendered two ways, so that what is scraped is decided once:

- `service_monitors`: ServiceMonitors (monitoring.coreos.com/v1) in the
  control-plane namespace, which reference the PKI Secrets there by name: for a
  management cluster with the Prometheus Operator (docs 11.1);
- `hcp.monitoring.prometheus`: scrape configs for the Prometheus that `hcp install
  --prometheus` runs, with the same certificates copied into its configuration.

Scrapes verify the servers and authenticate with client certificates:
`metrics-client` (group system:monitoring, which upstream's RBAC allows /metrics
and nothing else) for the API server and the controllers, `etcd-metrics-client-tls`
for etcd. The konnectivity server serves its metrics only over plain HTTP on its
health port (upstream has no TLS option there); its NetworkPolicy admits only
the monitoring namespace to that port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hcp.controlplane.labels import METRICS_SERVICE_LABEL
from hcp.controlplane.pki import (
    CA_CERT_KEY, ETCD_CLIENT_CA_KEY, ETCD_CLIENT_CERT_KEY, ETCD_CLIENT_KEY_KEY, ETCD_CLIENT_SERVICE,
    ETCD_METRICS_CLIENT_TLS, KAS_SERVICE, KCM_SERVICE, KONNECTIVITY_SERVICE, METRICS_CLIENT, SCHEDULER_SERVICE,
    TLS_CERT_KEY, TLS_KEY_KEY,
)
from hcp.monitoring import CLUSTER_ID_LABEL
from hcp.monitoring.sets import (
    ETCD, KONNECTIVITY_SERVER, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER, MetricsSet, RelabelConfig,
    relabel_configs,
)

SERVICE_MONITOR_API = ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors")
"""(group, version, kind, plural) of the Prometheus Operator's ServiceMonitor."""


@dataclass(frozen=True)
class ClientTLS:
    """A Secret of the control-plane namespace holding Prometheus's client certificate, its key, and the CA that
    signed the server's certificate."""

    secret: str
    cert_key: str
    key_key: str
    ca_key: str


METRICS_CLIENT_TLS = ClientTLS(METRICS_CLIENT, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY)
ETCD_CLIENT_TLS = ClientTLS(ETCD_METRICS_CLIENT_TLS, ETCD_CLIENT_CERT_KEY, ETCD_CLIENT_KEY_KEY, ETCD_CLIENT_CA_KEY)


@dataclass(frozen=True)
class Target:
    """One component's metrics endpoint."""

    job: str
    """The `job` label of its series: the component's name."""
    set_key: str
    """Its key in the metrics sets (hcp.monitoring.sets)."""
    app: str
    """The `app` label of its pods."""
    port: str
    """The name of the container port serving /metrics."""
    service: str
    """The Service a ServiceMonitor selects (by METRICS_SERVICE_LABEL = job)."""
    tls: ClientTLS | None
    """None: plain HTTP."""

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def server_name(self) -> str:
        """The name the server's certificate carries (its Service's)."""
        return self.service


TARGETS: tuple[Target, ...] = (
    Target("etcd", ETCD, "etcd", "client", ETCD_CLIENT_SERVICE, ETCD_CLIENT_TLS),
    Target("kube-apiserver", KUBE_APISERVER, "kube-apiserver", "client", KAS_SERVICE, METRICS_CLIENT_TLS),
    Target("kube-controller-manager", KUBE_CONTROLLER_MANAGER, "kube-controller-manager", "client", KCM_SERVICE,
           METRICS_CLIENT_TLS),
    Target("kube-scheduler", KUBE_SCHEDULER, "kube-scheduler", "client", SCHEDULER_SERVICE, METRICS_CLIENT_TLS),
    Target("konnectivity-server", KONNECTIVITY_SERVER, "kube-apiserver", "proxy-health", KONNECTIVITY_SERVICE, None),
)


@dataclass(frozen=True)
class ControlPlane:
    """What the scrape configuration needs to know of one hosted control plane."""

    namespace: str
    cluster_id: str
    """The HostedCluster's spec.clusterID: the `_id` label of its series."""
    metrics_set: MetricsSet
    etcd_managed: bool = True
    """An unmanaged etcd runs elsewhere: not scraped here."""


def targets(plane: ControlPlane) -> tuple[Target, ...]:
    return tuple(t for t in TARGETS if plane.etcd_managed or t.job != "etcd")


def cluster_id_relabel(cluster_id: str) -> RelabelConfig:
    """Sets `_id` on every series, as HyperShift's ServiceMonitors do."""
    return {"action": "replace", "targetLabel": CLUSTER_ID_LABEL, "replacement": cluster_id}


def service_monitors(plane: ControlPlane, sre: dict[str, list[RelabelConfig]] | None = None) -> list[dict[str, Any]]:
    """The ServiceMonitors of one control plane, in its namespace, under its metrics set."""
    group, version, kind, _ = SERVICE_MONITOR_API
    monitors = []
    for target in targets(plane):
        endpoint: dict[str, Any] = {
            "targetPort": target.port,
            "scheme": target.scheme,
            "relabelings": [cluster_id_relabel(plane.cluster_id)],
            "metricRelabelings": [*relabel_configs(plane.metrics_set, target.set_key, sre),
                                  cluster_id_relabel(plane.cluster_id)],
        }
        if target.tls:
            endpoint["tlsConfig"] = {
                "ca": {"secret": {"name": target.tls.secret, "key": target.tls.ca_key}},
                "cert": {"secret": {"name": target.tls.secret, "key": target.tls.cert_key}},
                "keySecret": {"name": target.tls.secret, "key": target.tls.key_key},
                "serverName": target.server_name,
            }
        monitors.append({
            "apiVersion": f"{group}/{version}",
            "kind": kind,
            "metadata": {"name": target.job, "namespace": plane.namespace},
            "spec": {
                "jobLabel": METRICS_SERVICE_LABEL,
                "namespaceSelector": {"matchNames": [plane.namespace]},
                "selector": {"matchLabels": {METRICS_SERVICE_LABEL: target.job}},
                "endpoints": [endpoint],
            },
        })
    return monitors
