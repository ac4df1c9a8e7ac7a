"""Monitoring of hosted control planes: metrics sets, scrape targets, the embedded Prometheus, dashboards.

The names here are shared by the operator (which writes the Prometheus
configuration and the dashboards), `hcp install` (which deploys Prometheus) and
the console (which reads it); they live once, here.

Every series scraped from a control plane carries `job` (the component:
etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
konnectivity-server), `namespace` (the control-plane namespace), `pod`, and
`_id` (the HostedCluster's spec.clusterID, HyperShift's label for it). The
management node's cAdvisor series (job `cadvisor`: container CPU and memory)
carry `namespace`, `pod` and `container`; the operator's carry job `hcp-operator`.
"""

from __future__ import annotations

NAMESPACE = "hcp-monitoring"
"""Where `hcp install --prometheus` runs Prometheus, and where the operator writes its configuration and the
per-cluster dashboards. Labelled MONITORING_LABEL=true: the control planes' NetworkPolicies let it scrape."""
MONITORING_LABEL = "hcp.io/monitoring"

PROMETHEUS = "prometheus"
"""Name of Prometheus's Deployment, Service, ServiceAccount and ClusterRole(Binding) (hcp:prometheus)."""
PROMETHEUS_PORT = 9090
PROMETHEUS_PORT_NAME = "web"
"""Prometheus serves its API over TLS (https) on this port; users reach it through the management API
server's service proxy (`/api/v1/namespaces/hcp-monitoring/services/https:prometheus:web/proxy/`)."""
CONFIG_SECRET = "prometheus-config"
"""The Secret (in NAMESPACE) the operator writes and Prometheus mounts at CONFIG_DIR: prometheus.yml, web.yml,
its serving certificate and the client certificates and CAs of every control plane it scrapes. Prometheus
re-reads it when it changes (auto-reload-config), so hosted clusters come and go without a restart."""
CONFIG_DIR = "/etc/prometheus/config"
CONFIG_KEY = "prometheus.yml"
WEB_CONFIG_KEY = "web.yml"

METRICS_SET_ENV = "METRICS_SET"
"""On the operator's Deployment: Telemetry (default), SRE or All (docs 11.1)."""
SRE_CONFIGMAP = "sre-metric-set"
"""In the operator's namespace: the SRE metrics set's relabel configs per component, under key SRE_CONFIG_KEY."""
SRE_CONFIG_KEY = "config"

MONITORING_DASHBOARDS_ENV = "MONITORING_DASHBOARDS"
"""On the operator's Deployment: "1" makes it write a dashboard per HostedCluster (docs 11.2)."""
DASHBOARD_TEMPLATE_CONFIGMAP = "monitoring-dashboard-template"
"""In the operator's namespace, key DASHBOARD_TEMPLATE_KEY: the Grafana dashboard with __NAME__, __NAMESPACE__,
__CONTROL_PLANE_NAMESPACE__ and __CLUSTER_ID__ (docs 11.2.1)."""
DASHBOARD_TEMPLATE_KEY = "template"
DASHBOARD_KEY = "hostedcluster-dashboard.json"
"""The key of a generated dashboard ConfigMap (cp-<namespace>-<name> in NAMESPACE), as HyperShift's."""

CLUSTER_ID_LABEL = "_id"
