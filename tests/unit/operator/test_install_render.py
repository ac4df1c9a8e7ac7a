"""What `hcp install` renders keeps the operator to least privilege: a deny policy in force first, narrow RBAC.

The policy's behaviour is proven against a real API server in
tests/integration/test_operator_privileges.py; these tests pin its shape (who it
matches, that it denies, that it uses the shared label) and the RBAC's limits, so
a careless edit of the manifest fails fast.
"""

from __future__ import annotations

import httpx
import pytest
import yaml
from click.testing import CliRunner
from lightkube import ApiError

from hcp import monitoring
from hcp.api import API_VERSION
from hcp.api.names import HOSTED_CONTROL_PLANE_LABEL
from hcp.cli.main import cli
from hcp.kube.refresh import MOUNTED_CONTENT_ANNOTATION
from hcp.operator import install
from hcp.monitoring import NAMESPACE as MONITORING_NAMESPACE
from hcp.monitoring.dashboard import MANAGED_BY
from hcp.operator.etcdbackup.job import BACKUP_LABEL
from hcp.operator.serving import SERVING_SECRET
from hcp.platforms import NODE_POOL_LABEL
from hcp.platforms.container import MACHINE_LABEL
from hcp.release.versions import SUPPORTED_VERSIONS_NAME, SUPPORTED_VERSIONS_NAMESPACE
from tests.unit.pod_security import restricted_violations

IMAGE = "registry.test/hcp/operator:1.0.0"
REGISTRY = install.RegistrySettings("registry.test")
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "*"}
ESCALATING_VERBS = {"escalate", "bind", "impersonate", "approve", "sign", "*"}


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    """The operator's install, without the persona ClusterRoles (nobody holds those until bound)."""
    return [d for d in install.render(IMAGE, REGISTRY) if not install.is_persona(d)]


def persona(name: str) -> dict:
    [found] = [d for d in install.render(IMAGE, REGISTRY) if install.is_persona(d) and d["metadata"]["name"] == name]
    return found


def grants(role: dict, group: str, resource: str) -> set[str]:
    return {verb for rule in role["rules"] if group in rule["apiGroups"] and resource in rule["resources"]
            for verb in rule["verbs"]}


def test_the_personas_come_last_and_only_as_clusterroles():
    rendered = install.render(IMAGE, REGISTRY)
    kinds = [(d["kind"], install.is_persona(d)) for d in rendered]
    assert kinds[-2:] == [("ClusterRole", True), ("ClusterRole", True)]
    assert sum(persona for _, persona in kinds) == 2


def test_the_service_consumer_manages_hosted_clusters_and_node_pools_but_escalates_nothing():
    consumer = persona("hcp:cluster-service-consumer")
    for resource in ("hostedclusters", "nodepools"):
        assert {"create", "delete", "patch"} <= grants(consumer, "hypershift.openshift.io", resource)
    assert grants(consumer, "hypershift.openshift.io", "hostedclusters/status") == {"get"}
    assert grants(consumer, "", "namespaces") == set()
    assert grants(consumer, "hypershift.openshift.io", "hcpetcdbackups") == set()
    verbs = {verb for rule in consumer["rules"] for verb in rule["verbs"]}
    assert not verbs & ESCALATING_VERBS and "*" not in {r for rule in consumer["rules"] for r in rule["resources"]}


def test_the_service_provider_reads_control_planes_but_no_secrets():
    provider = persona("hcp:cluster-service-provider")
    assert grants(provider, "", "secrets") == set()
    assert grants(provider, "", "pods/log") == {"get", "list", "watch"}
    assert "create" in grants(provider, "hypershift.openshift.io", "*")
    verbs = {verb for rule in provider["rules"] for verb in rule["verbs"]}
    assert not verbs & ESCALATING_VERBS


def test_the_service_provider_reads_network_policies_and_service_monitors_and_changes_neither():
    """What isolates a control plane and what scrapes it, read only: `hcp dump cluster` and troubleshooting."""
    provider = persona("hcp:cluster-service-provider")
    assert grants(provider, "networking.k8s.io", "networkpolicies") == {"get", "list", "watch"}
    assert grants(provider, "monitoring.coreos.com", "servicemonitors") == {"get", "list", "watch"}
    assert not any("*" in rule["resources"] for rule in provider["rules"]
                   if {"networking.k8s.io", "monitoring.coreos.com"} & set(rule["apiGroups"]))
    consumer = persona("hcp:cluster-service-consumer")
    assert grants(consumer, "networking.k8s.io", "networkpolicies") == set()
    assert grants(consumer, "monitoring.coreos.com", "servicemonitors") == set()


def one(documents: list[dict], kind: str) -> dict:
    [found] = [d for d in documents if d["kind"] == kind]
    return found


def operator_username(documents: list[dict]) -> str:
    account = one(documents, "ServiceAccount")["metadata"]
    return f"system:serviceaccount:{account['namespace']}:{account['name']}"


def rules(documents: list[dict]) -> list[dict]:
    return [rule for d in documents if d["kind"] in ("ClusterRole", "Role") for rule in d["rules"]]


def expressions(policy: dict) -> str:
    spec = policy["spec"]
    return "\n".join([v["expression"] for v in spec["variables"]]
                     + [v["expression"] for v in spec["validations"]])


def test_the_policy_is_applied_after_crds_and_namespace_and_before_any_right(documents):
    kinds = [d["kind"] for d in documents]
    crds = [i for i, kind in enumerate(kinds) if kind == "CustomResourceDefinition"]
    assert crds == list(range(len(crds))) and crds
    assert documents[len(crds)] == {"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": install.NAMESPACE}}
    policy = kinds.index("ValidatingAdmissionPolicy")
    binding = kinds.index("ValidatingAdmissionPolicyBinding")
    assert len(crds) < policy < binding
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment"):
        assert kinds.index(kind) > binding, kind


def test_the_policy_matches_every_write_of_the_operator_and_fails_closed(documents):
    policy = one(documents, "ValidatingAdmissionPolicy")
    spec = policy["spec"]
    assert policy["metadata"]["name"] == install.POLICY
    assert spec["failurePolicy"] == "Fail"
    assert spec["matchConstraints"]["resourceRules"] == [{
        "apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["*/*"],
    }]
    [condition] = spec["matchConditions"]
    assert f"request.userInfo.username == '{operator_username(documents)}'" in condition["expression"]
    deployment = one(documents, "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "operator"
    assert operator_username(documents) == f"system:serviceaccount:{install.NAMESPACE}:operator"


def test_the_binding_denies_what_the_policy_refuses(documents):
    binding = one(documents, "ValidatingAdmissionPolicyBinding")
    assert binding["metadata"]["name"] == install.POLICY
    assert binding["spec"] == {"policyName": install.POLICY, "validationActions": ["Deny"]}


def test_the_policy_uses_the_shared_names(documents):
    text = expressions(one(documents, "ValidatingAdmissionPolicy"))
    assert text.count(f"'{HOSTED_CONTROL_PLANE_LABEL}'") == 6  # in, == for namespaceObject, object, oldObject
    assert "hosted-control-plane'" not in text.replace(f"'{HOSTED_CONTROL_PLANE_LABEL}'", "")
    assert text.count(f"r.apiVersion == '{API_VERSION}'") == 2
    assert text.count("r.kind == 'HostedCluster'") == 2
    assert f"variables.requestNamespace == '{install.NAMESPACE}'" in text
    assert SUPPORTED_VERSIONS_NAMESPACE == install.NAMESPACE  # its ConfigMap is one the policy lets it write
    assert text.count(f"'{monitoring.NAMESPACE}'") == 1  # once, in variable monitoringNamespace
    assert SUPPORTED_VERSIONS_NAME


def test_the_policy_refuses_credentials_and_pods_but_container_machines(documents):
    text = expressions(one(documents, "ValidatingAdmissionPolicy"))
    assert "'kubernetes.io/service-account-token'" in text
    assert "'bootstrap.kubernetes.io/token'" in text
    assert ("request.resource.resource == 'pods') || request.operation == 'DELETE' || variables.machinePod || "
            "variables.mountRefresh") in text
    variables = {v["name"]: v["expression"] for v in one(documents, "ValidatingAdmissionPolicy")["spec"]["variables"]}
    machine = variables["machinePod"]
    for condition in ("request.operation == 'CREATE'", "!has(request.subResource)", "variables.controlPlaneNamespace",
                      f"'{MACHINE_LABEL}' in object.metadata.labels", f"'{NODE_POOL_LABEL}' in object.metadata.labels",
                      "object.spec.automountServiceAccountToken == false"):
        assert condition in machine


def test_the_policy_lets_the_operator_create_only_backup_jobs_and_never_change_one(documents):
    policy = one(documents, "ValidatingAdmissionPolicy")
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    assert variables["isJob"] == "request.resource.group == 'batch' && request.resource.resource == 'jobs'"
    job = variables["backupJob"]
    for condition in ("request.operation == 'CREATE'", "!has(request.subResource)", "variables.controlPlaneNamespace",
                      f"'{BACKUP_LABEL}' in object.metadata.labels",
                      "object.spec.template.spec.automountServiceAccountToken == false",
                      "object.spec.template.spec.hostNetwork", "object.spec.template.spec.hostPID",
                      "object.spec.template.spec.hostIPC", "volumes.all(v, !has(v.hostPath))",
                      "initContainers.all(c,", "containers.all(c,", "!c.securityContext.privileged"):
        assert condition in job, condition
    assert ("!variables.isJob || (request.operation == 'DELETE' && variables.controlPlaneNamespace) || "
            "variables.backupJob") in expressions(policy)
    verbs = {resource: set(rule["verbs"]) for rule in rules(documents) if rule["apiGroups"] == ["batch"]
             for resource in rule["resources"]}
    assert verbs == {"jobs": {"list", "watch", "create", "delete"}}  # no update or patch: a Job is never changed


def test_backups_are_read_and_only_their_status_written(documents):
    verbs = {resource: set(rule["verbs"]) for rule in rules(documents)
             if rule["apiGroups"] == ["hypershift.openshift.io"] for resource in rule["resources"]}
    assert verbs["hcpetcdbackups"] == {"get", "list", "watch", "create", "delete"}  # scheduled runs, pruning
    assert verbs["hcpetcdbackups/status"] == {"patch"}
    assert verbs["hostedclusters/status"] == {"patch"}  # status.lastSuccessfulEtcdBackupURL
    text = expressions(one(documents, "ValidatingAdmissionPolicy"))
    assert "request.resource.resource in ['hostedcontrolplanes', 'hcpetcdbackups'] &&" in text


def test_in_the_monitoring_namespace_the_operator_writes_only_its_own_dashboards_and_prometheus_config(documents):
    """Prometheus's configuration Secret (by name), the per-cluster dashboards it labelled (hcp.monitoring), and its
    own serving certificate in hypershift; nothing else there: no workloads, ServiceAccounts or token Secrets, and
    not the namespace itself. The behaviour is proven on a real API server in
    tests/integration/test_operator_privileges.py."""
    policy = one(documents, "ValidatingAdmissionPolicy")
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    [[label, value]] = MANAGED_BY.items()
    for name, obj in (("newManagedByHcp", "object"), ("oldManagedByHcp", "oldObject")):
        assert f"'{label}' in {obj}.metadata.labels" in variables[name]
        assert f"{obj}.metadata.labels['{label}'] == '{value}'" in variables[name]
    assert variables["monitoringNamespace"] == (
        f"variables.namespaced && variables.requestNamespace == '{monitoring.NAMESPACE}'")
    assert variables["monitoringSecret"] == (
        "variables.isSecret && variables.monitoringNamespace && has(request.name) && "
        f"request.name == '{monitoring.CONFIG_SECRET}' && "
        "variables.secretType in ['', 'Opaque'] && variables.oldSecretType in ['', 'Opaque']")
    assert f"request.name == '{SERVING_SECRET}'" in variables["servingSecret"]
    assert "variables.requestNamespace == 'hypershift'" in variables["servingSecret"]
    names = [v["name"] for v in policy["spec"]["variables"]]
    assert names.index("namespaced") < names.index("monitoringNamespace") < names.index("monitoringSecret")
    assert names.index("secretType") < names.index("oldSecretType") < names.index("monitoringSecret")
    validations = [v["expression"] for v in policy["spec"]["validations"]]
    [secrets] = [v for v in validations if "variables.monitoringSecret" in v]
    assert secrets.startswith("!variables.isSecret || variables.controlPlaneNamespace || variables.monitoringSecret ||"
                              " variables.servingSecret ||")
    assert ("(variables.monitoringNamespace && variables.core && "
            "request.resource.resource == 'configmaps' && "
            "(request.operation == 'DELETE' || variables.newManagedByHcp) && "
            "(request.operation == 'CREATE' || variables.oldManagedByHcp))") in " ".join(expressions(policy).split())
    # The credential refusal comes first, so a token Secret stays refused in hcp-monitoring too.
    assert "'kubernetes.io/service-account-token'" in validations[0]
    verbs = {resource: set(rule["verbs"]) for rule in rules(documents) if rule["apiGroups"] == [""]
             for resource in rule["resources"]}
    assert verbs["configmaps"] == {"get", "list", "watch", "create", "patch", "delete"}  # watch: the dashboards'
    assert {"create", "patch", "delete"} <= verbs["secrets"]


def test_every_refusal_names_hcp_and_says_why(documents):
    for validation in one(documents, "ValidatingAdmissionPolicy")["spec"]["validations"]:
        assert validation["reason"] == "Forbidden"
        assert validation["message"].startswith("hcp: the operator ") or validation["message"].startswith(
            "hcp: outside hosted control-plane namespaces the operator ")
        assert "\n" not in validation["message"]
        assert validation["messageExpression"].startswith("'hcp: refused to let the operator ' + variables.target")


def test_rbac_has_no_wildcard_and_no_escalation(documents):
    for rule in rules(documents):
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule
        assert not set(rule["verbs"]) & ESCALATING_VERBS, rule
        assert not {"rbac.authorization.k8s.io", "admissionregistration.k8s.io",
                    "apiextensions.k8s.io", "certificates.k8s.io"} & set(rule["apiGroups"]), rule
        assert "nonResourceURLs" not in rule
        assert "resourceNames" not in rule


def test_rbac_writes_no_service_accounts_or_cluster_objects_but_namespaces(documents):
    written = {(group, resource) for rule in rules(documents) if set(rule["verbs"]) & WRITE_VERBS
               for group in rule["apiGroups"] for resource in rule["resources"]}
    core = {resource for group, resource in written if group == ""}
    assert not {r for r in core if r.split("/")[0] in ("serviceaccounts", "persistentvolumeclaims",
                                                      "nodes", "persistentvolumes")}
    # Pods: only the machines of platform Container, which the policy confines to control-plane namespaces.
    assert core == {"namespaces", "secrets", "configmaps", "services", "events", "pods"}
    assert {r for g, r in written if g == "apps"} == {"deployments", "statefulsets"}
    assert {r for g, r in written if g == "policy"} == {"poddisruptionbudgets"}
    # Jobs: only the etcd backups', which the policy confines to control-plane namespaces.
    assert {r for g, r in written if g == "batch"} == {"jobs"}
    # Revocation requests: only their status, in control-plane namespaces (the policy confines it).
    assert {r for g, r in written if g == "certificates.hypershift.openshift.io"} == \
        {"certificaterevocationrequests/status"}
    # NetworkPolicies: the control-plane namespaces' (hcp.controlplane.components.network_policy).
    assert {r for g, r in written if g == "networking.k8s.io"} == {"networkpolicies"}
    # ServiceMonitors: the control-plane namespaces' (hcp.operator.monitoring), where the Prometheus Operator runs.
    assert {r for g, r in written if g == "monitoring.coreos.com"} == {"servicemonitors"}
    assert {g for g, _ in written} == {"", "apps", "policy", "batch", "networking.k8s.io", "hypershift.openshift.io",
                                       "certificates.hypershift.openshift.io", "coordination.k8s.io",
                                       "monitoring.coreos.com"}


def test_secrets_are_never_replaced_and_nodes_only_read(documents):
    verbs = {resource: set(rule["verbs"]) for rule in rules(documents) if rule["apiGroups"] == [""]
             for resource in rule["resources"]}
    # Deleted: what a control-plane component no longer renders and copies the HostedCluster no longer
    # names; the admission policy confines deletes outside control-plane namespaces to the Opaque
    # Secrets a HostedCluster owns, so a user's own Secrets are never deleted.
    # Watched: the control planes' own (label managed-by hcp), so that an unchanged one is not applied again.
    assert verbs["secrets"] == {"get", "list", "watch", "create", "patch", "delete"}
    assert verbs["nodes"] == {"get", "list", "watch"}  # watch: the capacity gauges' Node cache
    # No update: machines are not changed. Patch: the one annotation of hcp.kube.refresh, which the admission
    # policy confines. Watched: a machine pod that goes is replaced at once.
    assert verbs["pods"] == {"get", "list", "watch", "create", "patch", "delete"}


def test_hypershift_role_holds_only_the_leader_lease(documents):
    role = one(documents, "Role")
    assert role["metadata"]["namespace"] == install.NAMESPACE
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]


def test_the_rights_are_bound_to_the_operator_only(documents):
    for binding in (d for d in documents if d["kind"] in ("ClusterRoleBinding", "RoleBinding")):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "operator",
                                        "namespace": install.NAMESPACE}]


def test_hcp_install_render_shows_the_policy(tmp_path):
    result = CliRunner().invoke(cli, ["install", "--render", "--registry", "registry.test",
                                      "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    kinds = [d["kind"] for d in yaml.load_all(result.stdout, Loader=yaml.CSafeLoader) if d]
    assert kinds.count("ValidatingAdmissionPolicy") == 1
    assert kinds.count("ValidatingAdmissionPolicyBinding") == 1


class RefusingPolicies:
    """A management cluster older than Kubernetes 1.30: it serves no ValidatingAdmissionPolicy."""

    def __init__(self) -> None:
        self.applied: list[str] = []

    def patch(self, resource, name, document, **_):
        if document["apiVersion"].startswith("admissionregistration.k8s.io/"):
            request = httpx.Request("PATCH", f"https://api.test/{name}")
            response = httpx.Response(404, request=request, json={
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                "message": "the server could not find the requested resource"})
            raise ApiError(request=request, response=response)
        self.applied.append(document["kind"])


def test_install_without_admission_policies_fails_with_one_clear_error_before_any_right(documents):
    client = RefusingPolicies()
    with pytest.raises(install.InstallError) as error:
        install.install(client, documents, log=lambda _: None)
    assert str(error.value) == (
        "the management cluster does not serve ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, "
        "Kubernetes 1.30 or newer); hcp needs it to confine its operator")
    assert "ClusterRole" not in client.applied and "Deployment" not in client.applied


def test_the_operator_serves_metrics_and_probes_on_its_metrics_port(documents):
    deployment = one(documents, "Deployment")
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["ports"] == [{"name": "metrics", "containerPort": install.METRICS_PORT, "protocol": "TCP"}]
    args = container["args"]
    assert args[args.index("--metrics-port") + 1] == str(install.METRICS_PORT)
    # Over TLS, with the certificate the operator keeps in its Secret (hcp.operator.serving).
    assert args[args.index("--serving-secret") + 1] == SERVING_SECRET
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics", "scheme": "HTTPS"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics", "scheme": "HTTPS"}
    service = one(documents, "Service")
    assert (service["metadata"]["name"], service["metadata"]["namespace"]) == (install.SERVICE, install.NAMESPACE)
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9393, "targetPort": "metrics", "protocol": "TCP"}]
    labels = pod["metadata"]["labels"]
    assert service["spec"]["selector"] and all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert deployment["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


def test_the_operator_flag_defaults_to_the_manifest_port():
    from hcp.operator.main import parse_args

    assert parse_args([]).metrics_port == install.METRICS_PORT
    assert parse_args(["--metrics-port", "0"]).metrics_port == 0


def test_the_operator_meets_the_restricted_profile(documents):
    pod = one(documents, "Deployment")["spec"]["template"]
    assert restricted_violations(pod["spec"], pod["metadata"]) == []
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["spec"]["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "runAsUser": 65532,
                                            "capabilities": {"drop": ["ALL"]}}


@pytest.mark.parametrize("monitoring_settings", [None, install.MonitoringSettings(prometheus=True)],
                         ids=["operator", "with-prometheus"])
def test_every_pod_the_install_renders_meets_the_restricted_profile(monitoring_settings):
    rendered = install.render(IMAGE, REGISTRY, *([monitoring_settings] if monitoring_settings else []))
    pods = {f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"] for d in rendered
            if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")}
    assert pods
    assert {name: restricted_violations(pod["spec"], pod["metadata"]) for name, pod in pods.items()} == \
        {name: [] for name in pods}


def test_the_policy_lets_the_operator_change_only_the_mounted_content_annotation_of_a_pod(documents):
    variables = {v["name"]: v["expression"] for v in one(documents, "ValidatingAdmissionPolicy")["spec"]["variables"]}
    refresh = variables["mountRefresh"]
    assert refresh.count(f"k == '{MOUNTED_CONTENT_ANNOTATION}'") == 2  # the one key allowed to differ, both ways
    for unchanged in ("object.spec == oldObject.spec", "object.metadata.labels", "object.metadata.ownerReferences",
                      "object.metadata.finalizers", "request.operation == 'UPDATE'", "!has(request.subResource)"):
        assert unchanged in refresh

