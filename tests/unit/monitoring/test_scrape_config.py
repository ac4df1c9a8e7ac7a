"""What Prometheus scrapes of a control plane: the ServiceMonitors and hcp's own Prometheus's configuration."""

import base64
import datetime

import yaml

from hcp.monitoring import CONFIG_KEY, CONFIG_SECRET, NAMESPACE, WEB_CONFIG_KEY
from hcp.monitoring.prometheus import ScrapedControlPlane, ServingCertificate, config, file_key, render
from hcp.monitoring.sets import MetricsSet
from hcp.monitoring.targets import ControlPlane, service_monitors, targets
from hcp.operator.monitoring import serving_certificate

PLANE = ControlPlane("clusters-a", "6f0c2d3e-id", MetricsSet.TELEMETRY)
CERTS = {
    "metrics-client": {"tls.crt": b"C", "tls.key": b"K", "ca.crt": b"A"},
    "etcd-metrics-client-tls": {"etcd-client.crt": b"EC", "etcd-client.key": b"EK", "etcd-client-ca.crt": b"EA"},
}
SERVING = ServingCertificate(b"S", b"SK", b"SA")


def jobs(prometheus_yml: dict) -> dict[str, dict]:
    return {job["job_name"]: job for job in prometheus_yml["scrape_configs"]}


def test_every_component_has_a_service_monitor_selecting_its_one_service():
    monitors = {m["metadata"]["name"]: m for m in service_monitors(PLANE)}
    assert set(monitors) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                             "konnectivity-server"}
    etcd = monitors["etcd"]["spec"]
    assert etcd["selector"] == {"matchLabels": {"hcp.io/metrics": "etcd"}}
    assert etcd["namespaceSelector"] == {"matchNames": ["clusters-a"]}
    endpoint = etcd["endpoints"][0]
    assert endpoint["scheme"] == "https" and endpoint["tlsConfig"]["serverName"] == "etcd-client"
    assert endpoint["tlsConfig"]["keySecret"] == {"name": "etcd-metrics-client-tls", "key": "etcd-client.key"}
    assert endpoint["metricRelabelings"][-1] == {"action": "replace", "targetLabel": "_id",
                                                 "replacement": "6f0c2d3e-id"}
    assert "tlsConfig" not in monitors["konnectivity-server"]["spec"]["endpoints"][0]  # upstream serves plain HTTP


def test_an_unmanaged_etcd_is_not_scraped_here():
    plane = ControlPlane("clusters-a", "id", MetricsSet.ALL, etcd_managed=False)
    assert "etcd" not in {target.job for target in targets(plane)}


def test_each_component_is_a_job_over_verified_tls_with_the_clusters_labels():
    scraped = jobs(config([ScrapedControlPlane(PLANE, CERTS)], None, "hypershift"))
    kas = scraped["clusters-a/kube-apiserver"]
    assert kas["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["clusters-a"]}}]
    assert kas["tls_config"] == {
        "ca_file": "/etc/prometheus/config/clusters-a.metrics-client.ca.crt",
        "cert_file": "/etc/prometheus/config/clusters-a.metrics-client.tls.crt",
        "key_file": "/etc/prometheus/config/clusters-a.metrics-client.tls.key",
        "server_name": "kube-apiserver",
    }
    assert "insecure_skip_verify" not in str(kas)
    assert kas["relabel_configs"][0] == {"action": "keep", "regex": "kube-apiserver;client", "source_labels": [
        "__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_container_port_name"]}
    assert {"action": "replace", "target_label": "_id", "replacement": "6f0c2d3e-id"} in kas["relabel_configs"]
    assert kas["metric_relabel_configs"][0]["action"] == "keep"
    assert {"hcp-operator", "cadvisor"} <= set(scraped)


def test_switching_the_metrics_set_changes_what_is_kept():
    telemetry = jobs(config([ScrapedControlPlane(PLANE, CERTS)], None, "hypershift"))
    everything = jobs(config([ScrapedControlPlane(ControlPlane("clusters-a", "id", MetricsSet.ALL), CERTS)], None,
                             "hypershift"))
    assert telemetry["clusters-a/etcd"]["metric_relabel_configs"][0]["action"] == "keep"
    assert [c["action"] for c in everything["clusters-a/etcd"]["metric_relabel_configs"]] == ["replace"]


def test_a_control_plane_whose_certificates_are_not_there_yet_is_left_out_until_they_are():
    scraped = jobs(config([ScrapedControlPlane(PLANE, {})], None, "hypershift"))
    assert list(scraped) == ["hcp-operator", "cadvisor", "clusters-a/konnectivity-server"]


def test_the_secret_holds_the_configuration_and_every_file_it_names():
    secret = render([ScrapedControlPlane(PLANE, CERTS)], None, SERVING, "hypershift")
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (CONFIG_SECRET, NAMESPACE)
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    prometheus_yml = yaml.safe_load(data[CONFIG_KEY])
    named = {value.rsplit("/", 1)[1] for job in prometheus_yml["scrape_configs"]
             for key, value in job.get("tls_config", {}).items() if key.endswith("_file")
             and value.startswith("/etc/prometheus/config/")}
    assert named <= set(data)
    assert data[file_key("clusters-a", "etcd-metrics-client-tls", "etcd-client.key")] == b"EK"
    assert yaml.safe_load(data[WEB_CONFIG_KEY])["tls_server_config"]["cert_file"] == "/etc/prometheus/config/tls.crt"
    assert data["tls.key"] == b"SK"


def test_the_serving_certificate_is_kept_until_due_and_then_renewed():
    first = serving_certificate({}, NAMESPACE)
    kept = serving_certificate({"tls.crt": first.cert_pem, "tls.key": first.key_pem, "ca.crt": first.ca_pem},
                               NAMESPACE)
    assert kept == first
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=300)
    renewed = serving_certificate({"tls.crt": first.cert_pem, "tls.key": first.key_pem, "ca.crt": first.ca_pem},
                                  NAMESPACE, now=later)
    assert renewed.cert_pem != first.cert_pem


def test_the_operator_is_scraped_over_tls_when_it_serves_so():
    plain = jobs(config([], None, "hypershift"))["hcp-operator"]
    assert "tls_config" not in plain
    secret = render([], None, SERVING, "hypershift", operator_ca=b"OPERATOR-CA")
    data = {key: base64.b64decode(value) for key, value in secret["data"].items()}
    operator = jobs(yaml.safe_load(data[CONFIG_KEY]))["hcp-operator"]
    assert operator["scheme"] == "https"
    assert operator["tls_config"] == {"ca_file": "/etc/prometheus/config/operator.ca.crt",
                                      "server_name": "operator.hypershift.svc"}
    assert data["operator.ca.crt"] == b"OPERATOR-CA"
