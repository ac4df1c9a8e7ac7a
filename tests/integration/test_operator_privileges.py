"""The API server holds hcp's operator to least privilege, shown by asking it as the operator would.

Every request here impersonates the operator's ServiceAccount with the
management cluster's admin kubeconfig (`kubectl --as`), and writes only with
`--dry-run=server`: the request goes through authorization and every admission
step, including the ValidatingAdmissionPolicy `hcp install` puts in force, but
nothing is stored. RBAC refusals are shown with `kubectl auth can-i`; refusals
of the policy by its message. What the operator needs (writes in a labelled
control-plane namespace, Secrets it owns through a HostedCluster) stays allowed.
No Secret content used here is secret.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from hcp import monitoring
from hcp.api import API_VERSION
from hcp.api.names import HOSTED_CONTROL_PLANE_LABEL
from hcp.api.v1beta1.nodepool import NodePoolPlatform
from hcp.kube.refresh import MOUNTED_CONTENT_ANNOTATION
from hcp.operator.etcdbackup.job import render_job
from hcp.monitoring.dashboard import MANAGED_BY as DASHBOARD_MANAGED_BY
from hcp.operator.install import NAMESPACE, POLICY
from hcp.operator.serving import SERVING_SECRET
from hcp.platforms import MachineTemplate
from hcp.platforms.container import machine_pod
from tests.integration.conftest import ManagementCluster

pytestmark = pytest.mark.integration

OPERATOR = f"system:serviceaccount:{NAMESPACE}:operator"
DENIED_BY_POLICY = f"ValidatingAdmissionPolicy '{POLICY}' with binding '{POLICY}' denied request"
KUBE_SYSTEM_CONTROLLERS = ("clusterrole-aggregation-controller", "generic-garbage-collector", "namespace-controller")
"""kube-system accounts of kube-controller-manager's controllers: a token for one is a path to cluster-admin."""


class Namespaces:
    def __init__(self, suffix: str) -> None:
        self.user = f"hcp-priv-user-{suffix}"
        """A user's namespace (no control-plane label) with a Secret of the user's."""
        self.control_plane = f"hcp-priv-cp-{suffix}"
        """A namespace labelled as a hosted control plane's."""
        self.new = f"hcp-priv-new-{suffix}"
        """A name no namespace has: the operator asks to create it."""


@pytest.fixture(scope="module")
def cluster(operator_installed: ManagementCluster) -> ManagementCluster:
    return operator_installed


@pytest.fixture(scope="module")
def namespaces(cluster: ManagementCluster):
    names = Namespaces(uuid.uuid4().hex[:6])
    cluster.kubectl("create", "namespace", names.user)
    cluster.kubectl("create", "namespace", names.control_plane)
    cluster.kubectl("label", "namespace", names.control_plane, f"{HOSTED_CONTROL_PLANE_LABEL}=true")
    cluster.kubectl("create", "-f", "-", input=json.dumps(secret("user-secret", names.user)))
    yield names
    cluster.kubectl("delete", "namespace", names.user, names.control_plane, "--ignore-not-found",
                    "--wait=true", "--timeout=180s", timeout=240)


def as_operator(cluster: ManagementCluster, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return cluster.kubectl("--as", OPERATOR, *args, check=False, input=input)


def dry_run_create(cluster: ManagementCluster, obj: dict) -> subprocess.CompletedProcess:
    return as_operator(cluster, "create", "--dry-run=server", "-f", "-", input=json.dumps(obj))


def dry_run_apply(cluster: ManagementCluster, obj: dict) -> subprocess.CompletedProcess:
    """A server-side apply under the operator's field manager, as the operator writes everything."""
    return as_operator(cluster, "apply", "--server-side", "--field-manager", "hcp", "--force-conflicts",
                       "--dry-run=server", "-f", "-", input=json.dumps(obj))


def refused_by_policy(result: subprocess.CompletedProcess, *reasons: str) -> None:
    assert result.returncode != 0, f"the API server accepted it: {result.stdout}"
    assert "(Forbidden)" in result.stderr and DENIED_BY_POLICY in result.stderr, result.stderr
    assert "hcp: refused to let the operator " in result.stderr, result.stderr
    for reason in reasons:
        assert reason in result.stderr, result.stderr


def allowed(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "(server dry run)" in result.stdout, result.stdout


def can_i(cluster: ManagementCluster, verb: str, resource: str, namespace: str | None,
          subresource: str | None = None) -> bool:
    args = ["auth", "can-i", verb, resource] + (["-n", namespace] if namespace else [])
    args += [f"--subresource={subresource}"] if subresource else []
    result = as_operator(cluster, *args)
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def secret(name: str, namespace: str, *, type_: str = "Opaque", owner: str | None = None,
           annotations: dict[str, str] | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    if owner:
        metadata["ownerReferences"] = [{"apiVersion": API_VERSION, "kind": "HostedCluster", "name": owner,
                                        "uid": str(uuid.uuid4()), "controller": True}]
    return {"apiVersion": "v1", "kind": "Secret", "type": type_, "metadata": metadata,
            "stringData": {} if type_ == "kubernetes.io/service-account-token" else {"note": "not a secret"}}


def token_secret(account: str, namespace: str) -> dict:
    return secret(f"{account}-minted", namespace, type_="kubernetes.io/service-account-token",
                  annotations={"kubernetes.io/service-account.name": account})


def deployment(name: str, namespace: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "registry.test/none:1"}]}}}}


def namespace(name: str, *, labelled: bool) -> dict:
    labels = {HOSTED_CONTROL_PLANE_LABEL: "true"} if labelled else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_the_policy_is_in_force_with_deny(cluster):
    binding = json.loads(cluster.kubectl("get", "validatingadmissionpolicybinding", POLICY, "-o", "json").stdout)
    assert binding["spec"]["validationActions"] == ["Deny"]
    policy = json.loads(cluster.kubectl("get", "validatingadmissionpolicy", POLICY, "-o", "json").stdout)
    assert OPERATOR in policy["spec"]["matchConditions"][0]["expression"]


def test_rbac_grants_no_tokens_pods_rbac_or_impersonation(cluster, namespaces):
    assert not can_i(cluster, "create", "serviceaccounts", "kube-system", subresource="token")
    assert not can_i(cluster, "create", "serviceaccounts", namespaces.control_plane)
    assert not can_i(cluster, "create", "pods", "kube-system", subresource="eviction")
    assert not can_i(cluster, "delete", "persistentvolumeclaims", namespaces.control_plane)
    # Secrets: RBAC lets it delete (copies it made in control-plane namespaces, which only a ClusterRole
    # can name); the admission policy refuses any other Secret (test_a_user_secret_is_never_written_or_taken_over).
    assert not can_i(cluster, "update", "secrets", "kube-system")
    assert not can_i(cluster, "create", "rolebindings", "kube-system")
    assert not can_i(cluster, "create", "clusterrolebindings", None)
    assert not can_i(cluster, "escalate", "clusterroles", None)
    assert not can_i(cluster, "impersonate", "serviceaccounts", "kube-system")
    assert not can_i(cluster, "delete", "validatingadmissionpolicies", None)
    assert not can_i(cluster, "create", "certificatesigningrequests", None)
    assert not can_i(cluster, "*", "*", "kube-system")


def test_rbac_grants_what_the_controllers_use(cluster, namespaces):
    assert can_i(cluster, "watch", "hostedclusters.hypershift.openshift.io", None)
    assert can_i(cluster, "patch", "hostedclusters.hypershift.openshift.io", "clusters", subresource="status")
    assert can_i(cluster, "delete", "nodepools.hypershift.openshift.io", "clusters")
    assert can_i(cluster, "create", "hostedcontrolplanes.hypershift.openshift.io", namespaces.control_plane)
    assert can_i(cluster, "patch", "deployments.apps", namespaces.control_plane)
    assert can_i(cluster, "update", "leases.coordination.k8s.io", NAMESPACE)
    # Machines of platform Container; the policy confines which pods (test_only_container_machines_as_pods).
    assert can_i(cluster, "create", "pods", namespaces.control_plane)
    # One annotation of control-plane pods (hcp.kube.refresh); the policy confines it
    # (test_of_a_pod_only_the_mounted_content_annotation_changes).
    assert can_i(cluster, "patch", "pods", namespaces.control_plane)


@pytest.mark.parametrize("account", KUBE_SYSTEM_CONTROLLERS)
def test_no_token_secret_for_a_kube_system_controller(cluster, account):
    assert cluster.kubectl("get", "serviceaccount", account, "-n", "kube-system").returncode == 0
    refused_by_policy(dry_run_create(cluster, token_secret(account, "kube-system")),
                      "create secrets", "kubernetes.io/service-account-token mints an API credential")


def test_no_token_secret_even_in_a_control_plane_namespace(cluster, namespaces):
    refused_by_policy(dry_run_create(cluster, token_secret("default", namespaces.control_plane)),
                      "kubernetes.io/service-account-token mints an API credential")
    refused_by_policy(dry_run_create(cluster, secret("bootstrap-token-abcdef", namespaces.control_plane,
                                                     type_="bootstrap.kubernetes.io/token")),
                      "bootstrap.kubernetes.io/token mints an API credential")


@pytest.mark.parametrize("where", ["kube-system", "default"])
def test_no_secret_or_deployment_outside_control_plane_namespaces(cluster, where):
    refused_by_policy(dry_run_create(cluster, secret("planted", where)),
                      f"create secrets planted in namespace {where}",
                      "only Opaque Secrets owned by a HostedCluster")
    refused_by_policy(dry_run_create(cluster, deployment("planted", where)),
                      f"create deployments planted in namespace {where}, which is not a hosted control-plane")


def test_no_namespace_without_the_control_plane_label(cluster, namespaces):
    refused_by_policy(dry_run_create(cluster, namespace(namespaces.new, labelled=False)),
                      f"create namespaces {namespaces.new}", "only hosted control-plane namespaces")
    refused_by_policy(as_operator(cluster, "delete", "namespace", namespaces.user, "--dry-run=server"),
                      f"delete namespaces {namespaces.user}")
    taking_over = as_operator(cluster, "label", "namespace", namespaces.user, f"{HOSTED_CONTROL_PLANE_LABEL}=true",
                              "--dry-run=server")
    refused_by_policy(taking_over, f"update namespaces {namespaces.user}")
    letting_go = as_operator(cluster, "label", "namespace", namespaces.control_plane, "--overwrite",
                             f"{HOSTED_CONTROL_PLANE_LABEL}=false", "--dry-run=server")
    refused_by_policy(letting_go, f"update namespaces {namespaces.control_plane}", "before and after the change")
    assert cluster.kubectl("get", "namespace", namespaces.user).returncode == 0


def test_control_plane_namespaces_are_the_operators(cluster, namespaces):
    allowed(dry_run_create(cluster, namespace(namespaces.new, labelled=True)))
    allowed(as_operator(cluster, "delete", "namespace", namespaces.control_plane, "--dry-run=server"))


def test_a_user_secret_is_never_written_or_taken_over(cluster, namespaces):
    refused_by_policy(dry_run_create(cluster, secret("unowned", namespaces.user)),
                      f"create secrets unowned in namespace {namespaces.user}", "owned by a HostedCluster")
    takeover = dry_run_apply(cluster, secret("user-secret", namespaces.user, owner="demo"))
    refused_by_policy(takeover, f"update secrets user-secret in namespace {namespaces.user}",
                      "may change or delete only Secrets that already were")
    deleting = as_operator(cluster, "delete", "secret", "user-secret", "-n", namespaces.user, "--dry-run=server")
    refused_by_policy(deleting, f"delete secrets user-secret in namespace {namespaces.user}",
                      "may change or delete only Secrets that already were")
    owned_token = secret("owned-token", namespaces.user, type_="kubernetes.io/service-account-token", owner="demo",
                         annotations={"kubernetes.io/service-account.name": "default"})
    refused_by_policy(dry_run_create(cluster, owned_token),
                      "kubernetes.io/service-account-token mints an API credential")
    stored = json.loads(cluster.kubectl("get", "secret", "user-secret", "-n", namespaces.user, "-o", "json").stdout)
    assert "ownerReferences" not in stored["metadata"]


def test_a_secret_owned_by_a_hosted_cluster_is_the_operators(cluster, namespaces):
    allowed(dry_run_create(cluster, secret("demo-admin-kubeconfig", namespaces.user, owner="demo")))


def configmap(name: str, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": {monitoring.DASHBOARD_KEY: "{}"}}


def test_the_monitoring_namespace_takes_prometheus_config_and_dashboards_only(cluster):
    """Prometheus's configuration Secret (by name) and the dashboard ConfigMaps it labelled in hcp-monitoring, which
    `hcp install` made (Prometheus is on by default on the embedded cluster), and its serving certificate in its
    own namespace; nothing else there or elsewhere."""
    where = monitoring.NAMESPACE
    assert cluster.kubectl("get", "namespace", where).returncode == 0, "hcp install deployed no Prometheus"
    allowed(dry_run_apply(cluster, secret(monitoring.CONFIG_SECRET, where)))  # the operator wrote it already
    refused_by_policy(dry_run_create(cluster, secret("planted", where)),
                      f"create secrets planted in namespace {where}", "hcp-monitoring/prometheus-config")
    allowed(dry_run_apply(cluster, secret(SERVING_SECRET, NAMESPACE)))
    refused_by_policy(dry_run_create(cluster, secret("planted", NAMESPACE)),
                      f"create secrets planted in namespace {NAMESPACE}", "hypershift/operator-serving-cert")
    dashboard = configmap("cp-clusters-demo", where)
    dashboard["metadata"]["labels"] = dict(DASHBOARD_MANAGED_BY)
    allowed(dry_run_create(cluster, dashboard))
    allowed(dry_run_apply(cluster, dashboard))
    refused_by_policy(dry_run_create(cluster, configmap("unlabelled", where)),
                      f"create configmaps unlabelled in namespace {where}, which is not a hosted control-plane")
    refused_by_policy(dry_run_create(cluster, secret("planted", "default")),
                      "create secrets planted in namespace default", "only Opaque Secrets owned by a HostedCluster")
    refused_by_policy(dry_run_create(cluster, configmap("planted", "default")),
                      "create configmaps planted in namespace default, which is not a hosted control-plane")
    # No credential, no pull secret, no workloads there.
    refused_by_policy(dry_run_create(cluster, token_secret(monitoring.PROMETHEUS, where)),
                      "kubernetes.io/service-account-token mints an API credential")
    pull = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "planted-pull", "namespace": where},
            "stringData": {".dockerconfigjson": '{"auths": {}}'}}
    refused_by_policy(dry_run_create(cluster, pull), f"create secrets planted-pull in namespace {where}",
                      "hcp-monitoring/prometheus-config")
    refused_by_policy(dry_run_create(cluster, deployment("planted", where)),
                      f"create deployments planted in namespace {where}, which is not a hosted control-plane")


def machine(namespace: str) -> dict:
    """A machine pod of platform Container, as hcp.platforms.container renders it."""
    template = MachineTemplate(pool="workers", kubernetes_version="1.37.1", arch="amd64", labels={}, taints=(),
                               platform=NodePoolPlatform.model_validate({"type": "Container"}))
    return machine_pod("workers-abcde", namespace, template, "https://192.0.2.1:30443", "sha256//AAAA",
                       "registry.test/hcp/node:v1")


def test_only_container_machines_as_pods(cluster, namespaces):
    allowed(dry_run_create(cluster, machine(namespaces.control_plane)))
    planted = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "planted", "namespace": namespaces.control_plane},
               "spec": {"containers": [{"name": "c", "image": "registry.test/none:1"}]}}
    refused_by_policy(dry_run_create(cluster, planted), "it creates no Pods on the management cluster but the machines")
    with_token = machine(namespaces.control_plane)
    with_token["spec"]["automountServiceAccountToken"] = True
    refused_by_policy(dry_run_create(cluster, with_token), "automountServiceAccountToken false")
    refused_by_policy(dry_run_create(cluster, machine(namespaces.user)),
                      "it creates no Pods on the management cluster but the machines")


def test_of_a_pod_only_the_mounted_content_annotation_changes(cluster, namespaces):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "component", "labels": {"app": "component"}},
           "spec": {"containers": [{"name": "c", "image": "registry.test/none:1"}]}}
    for where in (namespaces.control_plane, namespaces.user):
        cluster.kubectl("create", "-n", where, "-f", "-", input=json.dumps(pod))
    annotate = ("annotate", "--dry-run=server", "pod/component")
    allowed(as_operator(cluster, "-n", namespaces.control_plane, *annotate, f"{MOUNTED_CONTENT_ANNOTATION}=0123"))
    only_that = "it changes nothing of a Pod but its annotation hcp.io/mounted-content"
    refused_by_policy(as_operator(cluster, "-n", namespaces.control_plane, *annotate, "other=1"), only_that)
    refused_by_policy(as_operator(cluster, "-n", namespaces.control_plane, "label", "--dry-run=server",
                                  "pod/component", "app=hijacked", "--overwrite"), only_that)
    refused_by_policy(as_operator(cluster, "-n", namespaces.user, *annotate, f"{MOUNTED_CONTENT_ANNOTATION}=0123"),
                      "which is not a hosted control-plane namespace")


def backup_job(namespace: str) -> dict:
    """An HCPEtcdBackup's Job, as hcp.operator.etcdbackup.job renders it."""
    from hcp.api import HCPEtcdBackup, HostedControlPlane
    from tests.unit.operator.etcdbackup.objects import backup_body, control_plane_body

    body, plane = backup_body(), control_plane_body()
    body["metadata"]["namespace"] = plane["metadata"]["namespace"] = namespace
    return render_job(HCPEtcdBackup.model_validate(body), HostedControlPlane.model_validate(plane),
                      backup_uid=str(uuid.uuid4()), etcd_image="registry.test/hcp/etcd:v3.6.16",
                      operator_image="registry.test/hcp/operator:1")


def test_only_backup_jobs_and_only_in_control_plane_namespaces(cluster, namespaces):
    job = backup_job(namespaces.control_plane)
    job["metadata"].pop("ownerReferences")  # its HCPEtcdBackup does not exist here
    allowed(dry_run_create(cluster, job))
    refused = "it creates no Jobs but the etcd backups"
    elsewhere = backup_job(namespaces.user)
    elsewhere["metadata"].pop("ownerReferences")
    refused_by_policy(dry_run_create(cluster, elsewhere), refused)
    privileged = json.loads(json.dumps(job))
    # (allowPrivilegeEscalation false and privileged true would be refused by validation, before the policy)
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    refused_by_policy(dry_run_create(cluster, privileged), refused)
    host = json.loads(json.dumps(job))
    host["spec"]["template"]["spec"]["volumes"].append({"name": "root", "hostPath": {"path": "/"}})
    refused_by_policy(dry_run_create(cluster, host), refused)
    unlabelled = json.loads(json.dumps(job))
    del unlabelled["metadata"]["labels"]["hcp.io/etcd-backup"]
    refused_by_policy(dry_run_create(cluster, unlabelled), refused)
    assert can_i(cluster, "delete", "jobs", namespaces.control_plane)
    assert not can_i(cluster, "patch", "jobs", namespaces.control_plane)


def test_a_control_plane_namespace_takes_the_operators_workloads(cluster, namespaces):
    where = namespaces.control_plane
    allowed(dry_run_create(cluster, deployment("kube-apiserver", where)))
    allowed(dry_run_apply(cluster, deployment("kube-apiserver", where)))
    allowed(dry_run_create(cluster, secret("root-ca", where)))
    allowed(dry_run_apply(cluster, secret("root-ca", where)))


def test_the_policy_leaves_other_users_alone(cluster):
    result = cluster.kubectl("create", "--dry-run=server", "-f", "-",
                             input=json.dumps(secret("admin-may", "default")))
    assert "(server dry run)" in result.stdout
