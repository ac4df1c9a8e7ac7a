"""The hosted kube-apiserver's audit log, on a real management cluster, read as a user reads it.

One hosted cluster for the module, created without any audit configuration (so
with the Default profile). The log is read with `kubectl logs -c audit-logs` from
every running kube-apiserver pod; Secret values must never be in it, whatever
the profile. Switching the profile to WriteRequestBodies rolls the API servers
and brings request bodies of writes into the log; `hcp dump cluster` holds it.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for
from tests.integration.test_hosted_control_plane import hosted_kubeconfig, hosted_kubectl, wait_available

pytestmark = pytest.mark.integration

NAME = "audit"
NAMESPACE = "clusters-au"
"""A namespace of this module's own, removed with the cluster."""
CONTROL_PLANE = f"{NAMESPACE}-{NAME}"
WORKSPACE = "audited"
"""The namespace in the hosted cluster the tests write to."""
HASH = "component.hypershift.openshift.io/config-hash"


@pytest.fixture(scope="module")
def audited(operator_installed: ManagementCluster, tmp_path_factory):
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, NAME, NAMESPACE))
    wait_available(cluster, NAME, NAMESPACE)
    kubeconfig = hosted_kubeconfig(cluster, NAME, tmp_path_factory.mktemp("audit"), NAMESPACE)
    hosted_kubectl(kubeconfig, "create", "namespace", WORKSPACE)
    yield cluster, kubeconfig
    remove_hosted_cluster(cluster, NAMESPACE, NAME)


def api_server_pods(cluster: ManagementCluster) -> list[str]:
    pods = json.loads(cluster.kubectl("get", "pods", "-n", CONTROL_PLANE, "-l", "app=kube-apiserver",
                                      "-o", "json").stdout)["items"]
    return [p["metadata"]["name"] for p in pods
            if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") == "Running"]


def only_new_api_servers(cluster: ManagementCluster) -> bool:
    """No kube-apiserver pod is terminating: one that is still serves requests for a few seconds
    (--shutdown-delay-duration) and would log them under the old policy, in a log no longer read here."""
    pods = json.loads(cluster.kubectl("get", "pods", "-n", CONTROL_PLANE, "-l", "app=kube-apiserver",
                                      "-o", "json").stdout)["items"]
    return bool(pods) and not any(p["metadata"].get("deletionTimestamp") for p in pods)


def audit_log(cluster: ManagementCluster) -> str:
    """The audit log of every running kube-apiserver pod, as its audit-logs container prints it."""
    return "".join(cluster.kubectl("logs", "-n", CONTROL_PLANE, pod, "-c", "audit-logs").stdout
                   for pod in api_server_pods(cluster))


def events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def event_for(cluster: ManagementCluster, resource: str, name: str, verb: str) -> tuple[dict, str] | None:
    """The ResponseComplete event of one request, and the whole log it was found in; None until it is logged."""
    text = audit_log(cluster)
    for event in events(text):
        ref = event.get("objectRef") or {}
        if (event.get("stage") == "ResponseComplete" and event.get("verb") == verb and ref.get("resource") == resource
                and ref.get("namespace") == WORKSPACE and ref.get("name") == name):
            return event, text
    return None


def assert_not_in_log(text: str, value: str) -> None:
    for form in (value, base64.b64encode(value.encode()).decode()):
        assert form not in text, "a Secret value is in the audit log"


def test_the_default_profile_logs_secrets_and_configmaps_at_metadata_without_their_values(audited):
    cluster, kubeconfig = audited
    assert "audit-logs" in cluster.kubectl(
        "get", "deployment/kube-apiserver", "-n", CONTROL_PLANE,
        "-o", "jsonpath={.spec.template.spec.containers[*].name}").stdout.split()
    password, color = f"pw-{uuid.uuid4().hex}", f"color-{uuid.uuid4().hex}"
    hosted_kubectl(kubeconfig, "create", "secret", "generic", "db", "-n", WORKSPACE,
                   f"--from-literal=password={password}")
    hosted_kubectl(kubeconfig, "create", "configmap", "settings", "-n", WORKSPACE, f"--from-literal=color={color}")
    hosted_kubectl(kubeconfig, "get", "secret", "db", "-n", WORKSPACE, "-o", "yaml")

    secret, _ = wait_for(lambda: event_for(cluster, "secrets", "db", "create"), 60, "the Secret's create event")
    configmap, text = wait_for(lambda: event_for(cluster, "configmaps", "settings", "create"), 60,
                               "the ConfigMap's create event")
    read, text = wait_for(lambda: event_for(cluster, "secrets", "db", "get"), 60, "the Secret's get event")
    for event in (secret, configmap, read):
        assert event["level"] == "Metadata"
        assert "requestObject" not in event and "responseObject" not in event
    assert secret["user"]["username"]  # who did it is what Metadata is for
    assert_not_in_log(text, password)
    assert color not in text  # Default logs no bodies at all


def test_write_request_bodies_logs_a_configmap_write_with_its_body_and_still_no_secret_value(audited):
    cluster, kubeconfig = audited
    before = cluster.kubectl("get", "deployment/kube-apiserver", "-n", CONTROL_PLANE,
                             "-o", "jsonpath={.spec.template.metadata.annotations}").stdout
    cluster.kubectl("patch", f"hostedcluster/{NAME}", "-n", NAMESPACE, "--type=merge", "-p", json.dumps(
        {"spec": {"configuration": {"apiServer": {"audit": {"profile": "WriteRequestBodies"}}}}}))
    # The new policy changes the pod template's config hash: the API servers roll, the cluster stays.
    wait_for(lambda: "RequestResponse" in cluster.kubectl(
        "get", "configmap/kas-audit-config", "-n", CONTROL_PLANE, "-o", "jsonpath={.data.policy\\.yaml}").stdout,
             120, "the WriteRequestBodies policy in kas-audit-config")
    wait_for(lambda: cluster.kubectl("get", "deployment/kube-apiserver", "-n", CONTROL_PLANE,
                                     "-o", "jsonpath={.spec.template.metadata.annotations}").stdout != before,
             120, "a new config hash on kube-apiserver's pod template")
    cluster.kubectl("rollout", "status", "deployment/kube-apiserver", "-n", CONTROL_PLANE, "--timeout=300s",
                    timeout=400)
    wait_available(cluster, NAME, NAMESPACE)
    wait_for(lambda: only_new_api_servers(cluster), 120, "the old kube-apiserver pods to be gone")
    wait_for(lambda: hosted_kubectl(kubeconfig, "get", "namespace", WORKSPACE, check=False).returncode == 0, 120,
             "the hosted API after the roll")

    token, size = f"token-{uuid.uuid4().hex}", f"size-{uuid.uuid4().hex}"
    hosted_kubectl(kubeconfig, "create", "secret", "generic", "api-token", "-n", WORKSPACE,
                   f"--from-literal=token={token}")
    hosted_kubectl(kubeconfig, "create", "configmap", "limits", "-n", WORKSPACE, f"--from-literal=size={size}")
    configmap, _ = wait_for(lambda: event_for(cluster, "configmaps", "limits", "create"), 60,
                            "the ConfigMap's create event")
    assert configmap["level"] == "RequestResponse"
    assert configmap["requestObject"]["data"] == {"size": size}
    secret, text = wait_for(lambda: event_for(cluster, "secrets", "api-token", "create"), 60,
                            "the Secret's create event")
    assert secret["level"] == "Metadata"
    assert "requestObject" not in secret and "responseObject" not in secret
    assert_not_in_log(text, token)


def test_the_dump_holds_the_audit_log_and_no_secret_value(audited, tmp_path):
    cluster, kubeconfig = audited
    value = f"dumped-{uuid.uuid4().hex}"
    hosted_kubectl(kubeconfig, "create", "secret", "generic", "dumped", "-n", WORKSPACE, f"--from-literal=v={value}")
    wait_for(lambda: event_for(cluster, "secrets", "dumped", "create"), 60, "the Secret's create event")
    out = tmp_path / "dump"
    cluster.hcp("dump", "cluster", "--name", NAME, "--namespace", NAMESPACE, "--artifact-dir", str(out),
                "--state-dir", str(cluster.state_dir))
    logs = sorted((out / "namespaces" / CONTROL_PLANE / "pods").glob("kube-apiserver-*/audit-logs/current.log"))
    assert logs, "no audit log in the dump"
    dumped = "".join(path.read_text() for path in logs)
    assert any((e.get("objectRef") or {}).get("name") == "dumped" and e.get("verb") == "create"
               for e in events(dumped))
    corpus = "".join(path.read_text(errors="replace") for path in out.rglob("*") if path.is_file())
    assert_not_in_log(corpus, value)
