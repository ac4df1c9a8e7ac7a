"""The configuration of the Prometheus `hcp install --prometheus` runs: one Secret the operator writes.

Prometheus mounts the Secret CONFIG_SECRET whole at CONFIG_DIR and re-reads
prometheus.yml when it changes (auto-reload-config), and its TLS files on
every new connection, so hosted clusters come and go, and certificates are
renewed, without a restart. The Secret holds:

- prometheus.yml: per control plane, one scrape job per component
  (hcp.monitoring.targets), discovering that namespace's pods, verifying the
  server's certificate and presenting Prometheus's client certificate; the
  metrics set's relabel configs; `_id`, `namespace`, `pod` and `job` labels.
  Plus the operator (job hcp-operator) and the management nodes' cAdvisor
  (job cadvisor, from each kubelet with Prometheus's token, CPU and memory
  only: what the console's per-cluster plots read).
- web.yml and Prometheus's serving certificate: it answers over TLS only.
- every control plane's client certificates and CAs, copied from its namespace,
  under `<namespace>.<Secret>.<key>`.

`render` is pure: it is given the control planes, their certificates and the
serving certificate, and returns the Secret; `hcp.operator.monitoring` reads
and writes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from hcp.monitoring import CLUSTER_ID_LABEL, CONFIG_DIR, CONFIG_KEY, CONFIG_SECRET, NAMESPACE, WEB_CONFIG_KEY
from hcp.monitoring.sets import RelabelConfig, native, relabel_configs
from hcp.monitoring.targets import ControlPlane, Target, cluster_id_relabel, targets

SERVING_CERT_KEY, SERVING_KEY_KEY, SERVING_CA_KEY = "tls.crt", "tls.key", "ca.crt"
"""Prometheus's serving certificate, its key, and the CA that signed it (for clients that verify it)."""
SCRAPE_INTERVAL = "30s"
OPERATOR_JOB = "hcp-operator"
CADVISOR_JOB = "cadvisor"
CADVISOR_METRICS = "container_cpu_usage_seconds_total|container_memory_working_set_bytes"
"""What is kept of cAdvisor: a control plane's CPU and memory over time, by pod and container."""
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class ScrapedControlPlane:
    """A control plane and the certificate files its scrapes need: Secret name -> key -> bytes, from its namespace."""

    plane: ControlPlane
    secrets: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)

    def ready(self, target: Target) -> bool:
        """Whether the certificates the target's scrape presents exist yet (a new control plane's come soon)."""
        if target.tls is None:
            return True
        found = self.secrets.get(target.tls.secret, {})
        return all(found.get(key) for key in (target.tls.cert_key, target.tls.key_key, target.tls.ca_key))


@dataclass(frozen=True)
class ServingCertificate:
    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    ca_pem: bytes


def file_key(namespace: str, secret: str, key: str) -> str:
    """The Secret key (and file name under CONFIG_DIR) of a control plane's certificate file."""
    return f"{namespace}.{secret}.{key}"


def _path(key: str) -> str:
    return f"{CONFIG_DIR}/{key}"


def _keep(source: Sequence[str], regex: str) -> dict[str, Any]:
    return {"action": "keep", "source_labels": list(source), "regex": regex}


def _set(target_label: str, *, source: str | None = None, replacement: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"action": "replace", "target_label": target_label}
    if source:
        config["source_labels"] = [source]
    if replacement is not None:
        config["replacement"] = replacement
    return config


def scrape_job(plane: ControlPlane, target: Target, sre: Mapping[str, list[RelabelConfig]] | None) -> dict[str, Any]:
    """One component of one control plane, as a prometheus.yml scrape config."""
    job: dict[str, Any] = {
        "job_name": f"{plane.namespace}/{target.job}",
        "scheme": target.scheme,
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [plane.namespace]}}],
        "relabel_configs": [
            _keep(["__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_container_port_name"],
                  f"{target.app};{target.port}"),
            _keep(["__meta_kubernetes_pod_phase"], "Running"),
            _set("job", replacement=target.job),
            _set("namespace", source="__meta_kubernetes_namespace"),
            _set("pod", source="__meta_kubernetes_pod_name"),
            _set(CLUSTER_ID_LABEL, replacement=plane.cluster_id),
        ],
        "metric_relabel_configs": [native(c) for c in (*relabel_configs(plane.metrics_set, target.set_key, sre),
                                                          cluster_id_relabel(plane.cluster_id))],
    }
    if target.tls:
        job["tls_config"] = {
            "ca_file": _path(file_key(plane.namespace, target.tls.secret, target.tls.ca_key)),
            "cert_file": _path(file_key(plane.namespace, target.tls.secret, target.tls.cert_key)),
            "key_file": _path(file_key(plane.namespace, target.tls.secret, target.tls.key_key)),
            "server_name": target.server_name,
        }
    return job


OPERATOR_CA_KEY = "operator.ca.crt"
"""The CA of the operator's serving certificate, in the Secret (hcp.operator.serving)."""


def management_jobs(operator_namespace: str, operator_tls: bool) -> list[dict[str, Any]]:
    """The operator's metrics (over TLS when it serves so) and the management nodes' cAdvisor (from each kubelet,
    as Prometheus's ServiceAccount)."""
    token = f"{SERVICE_ACCOUNT_DIR}/token"
    operator_tls_config = {"scheme": "https", "tls_config": {
        "ca_file": _path(OPERATOR_CA_KEY), "server_name": f"operator.{operator_namespace}.svc"}} if operator_tls else {}
    return [
        {
            "job_name": OPERATOR_JOB,
            **operator_tls_config,
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [operator_namespace]}}],
            "relabel_configs": [
                _keep(["__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_container_port_name"],
                      "operator;metrics"),
                _set("job", replacement=OPERATOR_JOB),
                _set("namespace", source="__meta_kubernetes_namespace"),
                _set("pod", source="__meta_kubernetes_pod_name"),
            ],
        },
        {
            # Each kubelet directly (its address from the Node, its port 10250, which the node role discovers),
            # with the ServiceAccount's token: the kubelet authorizes /metrics/cadvisor as nodes/metrics, the
            # only kubelet right Prometheus holds (nodes/proxy, which the API server's node proxy needs, would
            # reach the whole kubelet API, exec included).
            "job_name": CADVISOR_JOB,
            "scheme": "https",
            "metrics_path": "/metrics/cadvisor",
            "authorization": {"credentials_file": token},
            "tls_config": {"ca_file": f"{SERVICE_ACCOUNT_DIR}/ca.crt"},
            "kubernetes_sd_configs": [{"role": "node"}],
            "relabel_configs": [
                _set("node", source="__meta_kubernetes_node_name"),
                _set("job", replacement=CADVISOR_JOB),
            ],
            "metric_relabel_configs": [_keep(["__name__"], CADVISOR_METRICS)],
        },
    ]


def config(planes: Sequence[ScrapedControlPlane], sre: Mapping[str, list[RelabelConfig]] | None,
           operator_namespace: str, operator_tls: bool = False) -> dict[str, Any]:
    """prometheus.yml: the management jobs, then each control plane's components whose certificates exist."""
    jobs = management_jobs(operator_namespace, operator_tls)
    for scraped in sorted(planes, key=lambda each: each.plane.namespace):
        jobs += [scrape_job(scraped.plane, target, sre) for target in targets(scraped.plane) if scraped.ready(target)]
    return {"global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
            "scrape_configs": jobs}


def web_config() -> dict[str, Any]:
    return {"tls_server_config": {"cert_file": _path(SERVING_CERT_KEY), "key_file": _path(SERVING_KEY_KEY)}}


def render(planes: Sequence[ScrapedControlPlane], sre: Mapping[str, list[RelabelConfig]] | None,
           serving: ServingCertificate, operator_namespace: str, operator_ca: bytes | None = None) -> dict[str, Any]:
    """The Secret CONFIG_SECRET: configuration, serving certificate and every certificate file the jobs name.
    `operator_ca`: the CA of the operator's serving certificate; None: it serves plain HTTP."""
    files: dict[str, bytes] = {
        CONFIG_KEY: yaml.safe_dump(config(planes, sre, operator_namespace, operator_ca is not None),
                                   sort_keys=False).encode(),
        WEB_CONFIG_KEY: yaml.safe_dump(web_config(), sort_keys=False).encode(),
        SERVING_CERT_KEY: serving.cert_pem, SERVING_KEY_KEY: serving.key_pem, SERVING_CA_KEY: serving.ca_pem,
    }
    if operator_ca is not None:
        files[OPERATOR_CA_KEY] = operator_ca
    for scraped in planes:
        for target in targets(scraped.plane):
            if target.tls is None or not scraped.ready(target):
                continue
            values = scraped.secrets[target.tls.secret]
            for key in (target.tls.cert_key, target.tls.key_key, target.tls.ca_key):
                files[file_key(scraped.plane.namespace, target.tls.secret, key)] = values[key]
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": CONFIG_SECRET, "namespace": NAMESPACE,
                     "labels": {"app.kubernetes.io/managed-by": "hcp", "app.kubernetes.io/name": "prometheus"}},
        "data": {key: base64.b64encode(value).decode() for key, value in sorted(files.items())},
    }
