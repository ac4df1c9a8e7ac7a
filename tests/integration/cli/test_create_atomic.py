"""`hcp create cluster kwok` is all or nothing against a real API server with the operator installed.

A ValidatingAdmissionPolicy of the test's own refuses HostedClusters by name:
`refused-*` always (so the dry run refuses it before anything exists), and
`late-*` only for real requests (`request.dryRun` is false), so the dry run
passes and the last real step fails, as a quota or a racing admission change
would make it. The tests check what the user sees (the lines the command
prints) and what is left (kubectl get in the namespace).
"""

from __future__ import annotations

import subprocess
import time

import pytest
import yaml

pytestmark = pytest.mark.integration

POLICY = "hcp-test-create-atomic"
REFUSED = "HostedClusters named refused-* are refused by the test's admission policy"
LATE = "HostedClusters named late-* are refused for real (not in a dry run) by the test's admission policy"
MANIFEST = f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {POLICY}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [hypershift.openshift.io]
      apiVersions: [v1beta1]
      operations: [CREATE]
      resources: [hostedclusters]
  validations:
  - expression: "!object.metadata.name.startsWith('refused-')"
    message: "{REFUSED}"
  - expression: "request.dryRun == true || !object.metadata.name.startsWith('late-')"
    message: "{LATE}"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {POLICY}}}
spec:
  policyName: {POLICY}
  validationActions: [Deny]
"""


@pytest.fixture(scope="module")
def refusing(operator):
    """The management cluster with the operator and the refusing policy; removes the policy and namespaces after."""
    namespaces = ["atomic-new", "atomic-existing"]
    operator.kubectl("apply", "-f", "-", input=MANIFEST)
    try:
        _wait_until_the_policy_refuses(operator)
        yield operator
    finally:
        operator.kubectl("delete", "--ignore-not-found", "--wait", "namespace", *namespaces, check=False)
        operator.kubectl("delete", "--ignore-not-found", "-f", "-", input=MANIFEST, check=False)


def hcp(cluster, *args: str) -> subprocess.CompletedProcess:
    return cluster.hcp(*args, "--state-dir", str(cluster.state_dir),
                       "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig"), check=False)


def what_is_left(cluster, namespace: str) -> list[str]:
    out = cluster.kubectl("get", "secrets,nodepools,hostedclusters", "-n", namespace, "-o", "name").stdout
    return sorted(out.split())


def progress(result: subprocess.CompletedProcess) -> list[str]:
    return [line.split("] ", 1)[1] for line in result.stderr.splitlines() if line.startswith("[")]


def test_a_refusal_in_the_dry_run_leaves_nothing(refusing):
    result = hcp(refusing, "create", "cluster", "kwok", "--name", "refused-a", "--namespace", "atomic-new",
                 "--node-pool-replicas", "1", "--generate-ssh")
    assert result.returncode == 1, result.stderr
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: the API server refused HostedCluster atomic-new/refused-a (server-side dry run): "
                            ), result.stderr
    assert REFUSED in error and error.endswith("; everything this run had created was removed")
    # The namespace did not exist: it was made so the objects in it could be validated, and removed again.
    assert progress(result) == ["created Namespace atomic-new (needed before the objects in it can be validated)",
                                "removed Namespace atomic-new"]
    assert what_is_left(refusing, "atomic-new") == []
    gone = refusing.kubectl("get", "namespace", "atomic-new", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_a_failure_at_the_last_step_removes_what_the_run_made_and_keeps_the_rest(refusing):
    refusing.kubectl("create", "namespace", "atomic-existing")
    refusing.kubectl("-n", "atomic-existing", "create", "secret", "generic", "keep-me", "--from-literal=a=b")
    result = hcp(refusing, "create", "cluster", "kwok", "--name", "late-b", "--namespace", "atomic-existing",
                 "--node-pool-replicas", "1", "--generate-ssh")
    assert result.returncode == 1, result.stderr
    lines = progress(result)
    assert lines[:5] == ["validated 5 objects with a server-side dry run",
                         "created Secret atomic-existing/late-b-pull-secret",
                         "created Secret atomic-existing/late-b-ssh-key",
                         "created Secret atomic-existing/late-b-etcd-encryption-key",
                         "created NodePool atomic-existing/late-b"], result.stderr
    assert lines[5:] == ["removed NodePool atomic-existing/late-b",
                         "removed Secret atomic-existing/late-b-etcd-encryption-key",
                         "removed Secret atomic-existing/late-b-ssh-key",
                         "removed Secret atomic-existing/late-b-pull-secret"], result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: the API server refused HostedCluster atomic-existing/late-b: hostedclusters.hypershift.openshift.io "
        f'"late-b" is forbidden: ValidatingAdmissionPolicy \'{POLICY}\' with binding \'{POLICY}\' denied request: '
        f"{LATE}; everything this run had created was removed")
    assert what_is_left(refusing, "atomic-existing") == ["secret/keep-me"]
    assert refusing.kubectl("get", "namespace", "atomic-existing", "-o", "name").stdout.strip() == \
        "namespace/atomic-existing"


def _wait_until_the_policy_refuses(cluster, seconds: float = 60) -> None:
    """A new policy takes effect once the API server has compiled it: probe with a dry run until it refuses."""
    rendered = hcp(cluster, "create", "cluster", "kwok", "--name", "refused-probe", "--namespace", "default",
                   "--api-server-address", "10.0.0.1", "--render")
    assert rendered.returncode == 0, rendered.stderr
    probe = next(d for d in yaml.safe_load_all(rendered.stdout) if d["kind"] == "HostedCluster")
    deadline = time.monotonic() + seconds
    while True:
        result = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(probe), check=False)
        if result.returncode != 0 and REFUSED in result.stderr:
            return
        assert time.monotonic() < deadline, f"the admission policy did not take effect: {result.stderr}"
        time.sleep(1)
