"""A control plane that cannot be scheduled says why, on the HostedCluster and in `hcp create cluster --wait`
(issue 13, requirement 3), and HyperShift's resource-request override annotation sizes its containers.

The HostedCluster asks, with `resource-request-override.hypershift.openshift.io/kube-scheduler.kube-scheduler`,
for more CPU than the management node has: the scheduler pod stays Pending, and the user must read the
scheduler's reason ("Insufficient cpu") where they look — the CLI's wait, Available, Progressing — not only
"waiting". Removing the annotation lets the control plane become available: the override is what held it.

Run: `pytest tests/integration/test_unschedulable.py -m integration` (root; brings up a management cluster).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import ManagementCluster, remove_hosted_cluster, wait_for

pytestmark = pytest.mark.integration

NAMESPACE = "sched"
NAME = "toobig"
OVERRIDE = "resource-request-override.hypershift.openshift.io/kube-scheduler.kube-scheduler"
AVAILABLE = 420.0


def conditions(cluster: ManagementCluster) -> dict[str, dict]:
    hc = json.loads(cluster.kubectl("get", "hostedcluster", NAME, "-n", NAMESPACE, "-o", "json").stdout)
    return {c["type"]: c for c in (hc.get("status") or {}).get("conditions") or []}


def test_a_control_plane_that_cannot_be_scheduled_says_why(operator_installed):
    cluster = operator_installed
    state = ["--state-dir", str(cluster.state_dir), "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig")]
    try:
        created = cluster.hcp("create", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE,
                              "--node-pool-replicas", "0", "--etcd-storage-size", "1Gi", "--generate-ssh",
                              "--annotations", f"{OVERRIDE}=cpu=64,memory=50Mi",
                              "--wait", "--timeout", "45s", *state, check=False)
        # The wait names the pod and the scheduler's reason while it waits, and in its timeout.
        assert created.returncode == 1, created.stderr
        assert "cannot be scheduled" in created.stderr and "Insufficient cpu" in created.stderr, created.stderr
        waits = [line for line in created.stderr.splitlines() if "API server: Waiting for" in line]
        assert any("kube-scheduler: pod kube-scheduler-" in line for line in waits), created.stderr

        # The rendered Deployment carries the override; the pod is Pending for it.
        deployment = json.loads(cluster.kubectl("get", "deployment", "kube-scheduler", "-n",
                                                f"{NAMESPACE}-{NAME}", "-o", "json").stdout)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"] == {"cpu": "64", "memory": "50Mi"}

        found = conditions(cluster)
        available, progressing = found["Available"], found["Progressing"]
        assert available["status"] == "False" and available["reason"] == "Unschedulable", available
        assert "Insufficient cpu" in available["message"], available
        assert "kube-scheduler: pod kube-scheduler-" in available["message"], available
        assert "cannot be scheduled" in available["message"], available
        assert progressing["status"] == "True" and "cannot go on" in progressing["message"], progressing
        assert "Insufficient cpu" in progressing["message"], progressing

        # Without the override the control plane fits, and becomes available.
        cluster.kubectl("annotate", "hostedcluster", NAME, "-n", NAMESPACE, f"{OVERRIDE}-")
        wait_for(lambda: conditions(cluster)["Available"]["status"] == "True", AVAILABLE,
                 "the control plane to become available once the override is removed")
    finally:
        remove_hosted_cluster(cluster, NAMESPACE, NAME)


def test_an_override_that_cannot_be_read_is_invalid_configuration(operator_installed):
    cluster = operator_installed
    state = ["--state-dir", str(cluster.state_dir), "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig")]
    try:
        created = cluster.hcp("create", "cluster", "kwok", "--name", NAME, "--namespace", NAMESPACE,
                              "--node-pool-replicas", "0", "--generate-ssh", "--annotations", f"{OVERRIDE}=cpu",
                              "--wait", "--timeout", "3m", *state, check=False)
        assert created.returncode == 1, created.stderr
        assert f"annotation {OVERRIDE}: 'cpu' is not a list of resource=quantity" in created.stderr, created.stderr
        assert conditions(cluster)["ValidConfiguration"]["status"] == "False"
    finally:
        remove_hosted_cluster(cluster, NAMESPACE, NAME)
