"""`hcp install --prometheus`, --metrics-set and --monitoring-dashboards: what is rendered, what the operator is
told, and that uninstall takes Prometheus away too. Prometheus is the real one (tools/prometheus); nothing runs
here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hcp import monitoring
from hcp.api.v1beta1.clusteroptions import MetricsSet
from hcp.cli.install import uninstall_documents
from hcp.cli.main import cli
from hcp.controlplane import podsecurity
from hcp.images import NON_ROOT_ID
from hcp.operator import install, uninstall
from hcp.upstream import binaries
from tests.unit.operator.test_install_anywhere import FakeCluster
from tests.unit.pod_security import restricted_violations

IMAGE = "registry.test/hcp/operator:1.0.0"
REGISTRY = install.RegistrySettings("registry.test")
ON = install.MonitoringSettings(prometheus=True)
PROMETHEUS_VERSION = binaries.TOOLSETS["prometheus"].version


def find(documents: list[dict], kind: str, name: str) -> dict:
    [found] = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def monitoring_objects(documents: list[dict]) -> list[dict]:
    return [d for d in documents if d["metadata"].get("namespace") == monitoring.NAMESPACE
            or d["metadata"]["name"] in (monitoring.NAMESPACE, f"hcp:{monitoring.PROMETHEUS}")]


def operator_container(documents: list[dict]) -> dict:
    return find(documents, "Deployment", install.DEPLOYMENT)["spec"]["template"]["spec"]["containers"][0]


def env(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container["env"]}


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return install.render(IMAGE, REGISTRY, ON)


@pytest.fixture(scope="module")
def pod(documents) -> dict:
    return find(documents, "Deployment", monitoring.PROMETHEUS)["spec"]["template"]


def test_without_prometheus_nothing_of_it_is_rendered_and_the_operator_is_not_told_of_it():
    documents = install.render(IMAGE, REGISTRY)
    assert monitoring_objects(documents) == []
    operator = operator_container(documents)
    assert install.PROMETHEUS_NAMESPACE_FLAG not in operator["args"]
    # HyperShift's defaults: the Telemetry metrics set, no dashboards.
    assert env(operator)[monitoring.METRICS_SET_ENV] == "Telemetry"
    assert monitoring.MONITORING_DASHBOARDS_ENV not in env(operator)


def test_with_prometheus_its_namespace_rbac_deployment_and_service_come_before_the_operator(documents):
    kinds = [(d["kind"], d["metadata"]["name"]) for d in monitoring_objects(documents)]
    assert kinds == [("Namespace", monitoring.NAMESPACE), ("ServiceAccount", monitoring.PROMETHEUS),
                     ("ClusterRole", f"hcp:{monitoring.PROMETHEUS}"),
                     ("ClusterRoleBinding", f"hcp:{monitoring.PROMETHEUS}"),
                     ("Deployment", monitoring.PROMETHEUS), ("Service", monitoring.PROMETHEUS)]
    order = [(d["kind"], d["metadata"]["name"]) for d in documents]
    first = order.index(("Namespace", monitoring.NAMESPACE))
    # After the policy and the operator's own rights; before the operator, which writes Prometheus's config.
    assert order.index(("ValidatingAdmissionPolicyBinding", install.POLICY)) < first
    assert order.index(("ClusterRoleBinding", "hypershift-operator")) < first
    assert order.index(("Service", monitoring.PROMETHEUS)) < order.index(("Deployment", install.DEPLOYMENT))


def test_the_namespace_is_labelled_for_scraping_and_with_the_control_planes_pod_security(documents):
    labels = find(documents, "Namespace", monitoring.NAMESPACE)["metadata"]["labels"]
    assert labels == {monitoring.MONITORING_LABEL: "true", **podsecurity.namespace_labels(privileged_machines=False)}
    assert labels[podsecurity.ENFORCE] == podsecurity.BASELINE and labels[podsecurity.WARN] == podsecurity.RESTRICTED


def test_the_operator_is_told_where_prometheus_runs(documents):
    args = operator_container(documents)["args"]
    assert args[args.index(install.PROMETHEUS_NAMESPACE_FLAG) + 1] == monitoring.NAMESPACE


def test_prometheus_runs_its_image_from_the_installs_registry_with_its_config_secret(pod):
    [container] = pod["spec"]["containers"]
    assert container["image"] == f"registry.test/hcp/prometheus:{PROMETHEUS_VERSION}"
    args = container["args"]
    assert f"--config.file={monitoring.CONFIG_DIR}/{monitoring.CONFIG_KEY}" in args
    assert f"--web.config.file={monitoring.CONFIG_DIR}/{monitoring.WEB_CONFIG_KEY}" in args
    assert f"--web.listen-address=:{monitoring.PROMETHEUS_PORT}" in args
    assert {"--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=2d", "--config.auto-reload",
            "--config.auto-reload-interval=10s"} <= set(args)
    [config] = [v for v in pod["spec"]["volumes"] if v.get("secret")]
    # Not optional: without its configuration Prometheus would start with none (the pod waits for the Secret).
    assert config["secret"] == {"secretName": monitoring.CONFIG_SECRET, "defaultMode": 0o440}
    [mount] = [m for m in container["volumeMounts"] if m["name"] == config["name"]]
    assert mount == {"name": config["name"], "mountPath": monitoring.CONFIG_DIR, "readOnly": True}
    [data] = [m for m in container["volumeMounts"] if m["mountPath"] == "/prometheus"]
    assert [v for v in pod["spec"]["volumes"] if v["name"] == data["name"]] == [{"name": data["name"],
                                                                                "emptyDir": {}}]


def test_prometheus_flags_exist_in_the_pinned_release():
    """Every flag given is one v0.316.0's cmd/prometheus defines (no deprecated --enable-feature either)."""
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
    module = Path(cache or "/nonexistent") / f"github.com/prometheus/prometheus@{PROMETHEUS_VERSION}"
    main = module / "cmd" / "prometheus" / "main.go"
    if not main.exists():
        pytest.skip(f"Prometheus {PROMETHEUS_VERSION}'s source is not in the Go module cache")
    defined = set(re.findall(r'(?:a\.Flag|serverOnlyFlag\(a,)\s*\(?\s*"([^"]+)"', main.read_text()))
    documents = install.render(IMAGE, REGISTRY, ON)
    args = find(documents, "Deployment", monitoring.PROMETHEUS)["spec"]["template"]["spec"]["containers"][0]["args"]
    for arg in args:
        assert arg.removeprefix("--").split("=")[0] in defined, arg
    assert not [arg for arg in args if arg.startswith("--enable-feature")]  # 3.16 says --config.auto-reload


def test_prometheus_meets_the_restricted_profile_as_its_non_root_user(pod):
    spec = pod["spec"]
    assert restricted_violations(spec, pod["metadata"]) == []
    context = spec["securityContext"]
    assert context["runAsNonRoot"] is True and context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context["runAsUser"] == context["runAsGroup"] == context["fsGroup"] == NON_ROOT_ID  # reads the 0440 files
    [container] = spec["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    # kubernetes_sd and the kubelet scrapes authenticate with the ServiceAccount's token.
    assert spec["serviceAccountName"] == monitoring.PROMETHEUS and spec["automountServiceAccountToken"] is True


def test_one_prometheus_probed_over_https_behind_its_service(documents, pod):
    deployment = find(documents, "Deployment", monitoring.PROMETHEUS)
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    [container] = pod["spec"]["containers"]
    assert container["ports"] == [{"name": monitoring.PROMETHEUS_PORT_NAME, "containerPort": monitoring.PROMETHEUS_PORT,
                                   "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": monitoring.PROMETHEUS_PORT_NAME,
                                                      "scheme": "HTTPS"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": monitoring.PROMETHEUS_PORT_NAME,
                                                     "scheme": "HTTPS"}
    assert container["resources"] == {"requests": {"cpu": "50m", "memory": "200Mi"}}
    service = find(documents, "Service", monitoring.PROMETHEUS)
    assert service["spec"]["ports"] == [{"name": monitoring.PROMETHEUS_PORT_NAME, "port": monitoring.PROMETHEUS_PORT,
                                         "targetPort": monitoring.PROMETHEUS_PORT_NAME, "protocol": "TCP"}]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]


def test_prometheus_reads_what_discovery_needs_and_the_kubelets_metrics_never_their_proxy(documents):
    role = find(documents, "ClusterRole", f"hcp:{monitoring.PROMETHEUS}")
    grants = {(group, resource): set(rule["verbs"]) for rule in role["rules"] if "resources" in rule
              for group in rule["apiGroups"] for resource in rule["resources"]}
    read = {"get", "list", "watch"}
    assert grants == {
        ("", "pods"): read, ("", "services"): read, ("", "endpoints"): read, ("", "namespaces"): read,
        ("", "nodes"): read, ("discovery.k8s.io", "endpointslices"): read, ("", "nodes/metrics"): {"get"},
    }
    # nodes/proxy would reach the kubelet's /exec and /attach (a websocket upgrade is a GET): never granted.
    assert ("", "nodes/proxy") not in grants and ("", "secrets") not in grants
    assert [r for r in role["rules"] if "nonResourceURLs" in r] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    binding = find(documents, "ClusterRoleBinding", f"hcp:{monitoring.PROMETHEUS}")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": f"hcp:{monitoring.PROMETHEUS}"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": monitoring.PROMETHEUS,
                                    "namespace": monitoring.NAMESPACE}]


def test_with_a_pull_secret_prometheus_pulls_with_a_copy_in_its_namespace():
    settings = install.RegistrySettings("reg.example:5443/team", pull_secret=b'{"auths": {}}')
    documents = install.render("reg.example:5443/team/hcp/operator:1", settings, ON)
    copy = [d for d in documents if d["kind"] == "Secret" and d["metadata"]["namespace"] == monitoring.NAMESPACE]
    assert [(c["metadata"]["name"], c["type"]) for c in copy] == [
        (install.PULL_SECRET, "kubernetes.io/dockerconfigjson")]
    pod = find(documents, "Deployment", monitoring.PROMETHEUS)["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": install.PULL_SECRET}]
    assert pod["containers"][0]["image"] == f"reg.example:5443/team/hcp/prometheus:{PROMETHEUS_VERSION}"
    order = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in documents]
    assert order.index(("Namespace", None, monitoring.NAMESPACE)) < order.index(
        ("Secret", monitoring.NAMESPACE, install.PULL_SECRET)) < order.index(
        ("Deployment", monitoring.NAMESPACE, monitoring.PROMETHEUS))


def test_metrics_set_and_dashboards_reach_the_operator_as_hypershifts_environment():
    documents = install.render(IMAGE, REGISTRY, install.MonitoringSettings(metrics_set=MetricsSet.SRE, dashboards=True))
    assert env(operator_container(documents)).items() >= {monitoring.METRICS_SET_ENV: "SRE",
                                                          monitoring.MONITORING_DASHBOARDS_ENV: "1"}.items()
    assert monitoring_objects(documents) == []  # dashboards and metrics sets do not deploy Prometheus


def render_cli(*args: str, state_dir: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["install", "--render", "--state-dir", str(state_dir), *args])
    assert result.exit_code == 0, result.output
    return [d for d in yaml.load_all(result.stdout, Loader=yaml.CSafeLoader) if d]


@pytest.fixture
def embedded(tmp_path) -> Path:
    from hcp.management.layout import ClusterConfig, Layout
    layout = Layout(tmp_path / "state")
    layout.save_config(ClusterConfig("emb", 3))
    return layout.state_dir


def test_prometheus_is_on_by_default_for_the_embedded_cluster_only(embedded, tmp_path):
    on = render_cli(state_dir=embedded)
    assert monitoring_objects(on) and install.PROMETHEUS_NAMESPACE_FLAG in operator_container(on)["args"]
    assert monitoring_objects(render_cli("--no-prometheus", state_dir=embedded)) == []
    assert monitoring_objects(render_cli("--registry", "reg.example", state_dir=tmp_path / "none")) == []
    elsewhere = render_cli("--registry", "reg.example", "--prometheus", state_dir=tmp_path / "none")
    assert find(elsewhere, "Deployment", monitoring.PROMETHEUS)["spec"]["template"]["spec"]["containers"][0][
        "image"] == f"reg.example/hcp/prometheus:{PROMETHEUS_VERSION}"


@pytest.mark.parametrize("given,spelled", [("telemetry", "Telemetry"), ("SRE", "SRE"), ("sre", "SRE"),
                                           ("ALL", "All"), ("All", "All")])
def test_metrics_set_is_case_insensitive_and_passed_as_hypershift_spells_it(tmp_path, given, spelled):
    documents = render_cli("--registry", "reg.example", "--metrics-set", given, state_dir=tmp_path)
    assert env(operator_container(documents))[monitoring.METRICS_SET_ENV] == spelled


def test_an_unknown_metrics_set_is_clicks_one_line_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["install", "--render", "--registry", "reg.example", "--metrics-set", "Most",
                                      "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for '--metrics-set': 'Most' is not one of 'Telemetry', 'SRE', 'All'.")


def test_monitoring_dashboards_flag_sets_the_operators_environment(tmp_path):
    documents = render_cli("--registry", "reg.example", "--monitoring-dashboards", state_dir=tmp_path)
    assert env(operator_container(documents))[monitoring.MONITORING_DASHBOARDS_ENV] == "1"
    assert monitoring.MONITORING_DASHBOARDS_ENV not in env(operator_container(
        render_cli("--registry", "reg.example", state_dir=tmp_path)))


def test_uninstall_removes_prometheus_whether_or_not_it_was_installed(monkeypatch):
    documents = uninstall_documents()
    names = {(d["kind"], d["metadata"]["name"]) for d in monitoring_objects(documents)}
    assert {("Namespace", monitoring.NAMESPACE), ("ClusterRole", f"hcp:{monitoring.PROMETHEUS}"),
            ("ClusterRoleBinding", f"hcp:{monitoring.PROMETHEUS}")} <= names
    monkeypatch.setattr(uninstall, "POLL", 0)
    cluster = FakeCluster()
    uninstall.uninstall(cluster, documents, lambda _: None)
    deleted = cluster.deleted
    # The operator goes first (it writes into hcp-monitoring), then Prometheus and its namespace and rights.
    assert deleted.index("Deployment/operator") < deleted.index(f"Deployment/{monitoring.PROMETHEUS}")
    assert deleted.index(f"Deployment/{monitoring.PROMETHEUS}") < deleted.index(f"Namespace/{monitoring.NAMESPACE}")
    assert f"ClusterRoleBinding/hcp:{monitoring.PROMETHEUS}" in deleted
    assert f"ClusterRole/hcp:{monitoring.PROMETHEUS}" in deleted
    assert deleted.index(f"Namespace/{monitoring.NAMESPACE}") < deleted.index("Namespace/hypershift")


def test_with_dashboards_the_template_is_created_once_and_left_to_the_admin():
    documents = install.render("img", install.RegistrySettings("reg.example.com"),
                               install.MonitoringSettings(dashboards=True))
    [template] = [d for d in documents if d["metadata"]["name"] == "monitoring-dashboard-template"]
    assert template["metadata"]["namespace"] == install.NAMESPACE
    assert template["metadata"]["annotations"][install.CREATE_ONLY_ANNOTATION] == "true"
    assert "__CONTROL_PLANE_NAMESPACE__" in template["data"]["template"]
    kinds = [d["kind"] for d in documents]
    assert documents.index(template) < kinds.index("Deployment")
    without = install.render("img", install.RegistrySettings("reg.example.com"), install.MonitoringSettings())
    assert "monitoring-dashboard-template" not in [d["metadata"].get("name") for d in without]
