"""Break-glass credentials can be revoked, and nothing else breaks.

A KWOK hosted cluster; its admin kubeconfig and a `hcp create kubeconfig --ttl 10m`
one both work. A CertificateRevocationRequest (HyperShift's, signerClass
customer-break-glass) then goes through its conditions; afterwards both old
kubeconfigs get 401 Unauthorized, the re-published <name>-admin-kubeconfig works,
the cluster stays Available and kube-controller-manager (a root-CA client, not
break-glass) still turns a Deployment into a ReplicaSet.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for

pytestmark = pytest.mark.integration

NAMESPACE = "revocation"
NAME = "glass"
CONTROL_PLANE = f"{NAMESPACE}-{NAME}"
CONDITIONS = ("SignerClassValid", "RootCertificatesRegenerated", "NewCertificatesTrusted",
              "LeafCertificatesRegenerated", "PreviousCertificatesRevoked")


def hosted(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess:
    kubectl = str(binaries.binary("kubernetes", "kubectl"))
    return subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "--request-timeout=20s", *args],
                          capture_output=True, text=True, timeout=60)


def works(kubeconfig: Path) -> bool:
    answer = hosted(kubeconfig, "get", "namespaces", "-o", "name")
    return answer.returncode == 0 and "namespace/default" in answer.stdout


def unauthorized(kubeconfig: Path) -> bool:
    answer = hosted(kubeconfig, "get", "namespaces", "-o", "name")
    return answer.returncode != 0 and "Unauthorized" in answer.stderr


def published(cluster: ManagementCluster) -> bytes:
    encoded = cluster.kubectl("get", "secret", f"{NAME}-admin-kubeconfig", "-n", NAMESPACE,
                              "-o", "jsonpath={.data.kubeconfig}").stdout
    return base64.b64decode(encoded)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def replica_set_appears(kubeconfig: Path, deployment: str) -> bool:
    """kube-controller-manager works: it made the Deployment's ReplicaSet."""
    answer = hosted(kubeconfig, "get", "replicasets", "-n", "default", "-l", f"app={deployment}", "-o", "name")
    return answer.returncode == 0 and "replicaset.apps/" in answer.stdout


def create_deployment(kubeconfig: Path, name: str) -> None:
    answer = hosted(kubeconfig, "create", "deployment", name, "-n", "default", "--image=registry.invalid/none:1")
    assert answer.returncode == 0, answer.stderr


def conditions(cluster: ManagementCluster) -> dict[str, str]:
    crr = json.loads(cluster.kubectl("get", "certificaterevocationrequests.certificates.hypershift.openshift.io",
                                     "revoke-admin", "-n", CONTROL_PLANE, "-o", "json").stdout)
    return {c["type"]: c["status"] for c in (crr.get("status") or {}).get("conditions") or []}


def test_revoking_the_break_glass_signer_revokes_admin_kubeconfigs_and_nothing_else(operator_installed, tmp_path):
    cluster = operator_installed
    cluster.kubectl("apply", "-f", "-", input=hosted_cluster_manifest(cluster, NAME, NAMESPACE))
    try:
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        old_admin = write(tmp_path / "old-admin.kubeconfig", published(cluster))
        short = cluster.hcp("create", "kubeconfig", "--name", NAME, "--namespace", NAMESPACE, "--ttl", "10m",
                            "--state-dir", str(cluster.state_dir)).stdout
        short_lived = write(tmp_path / "ttl.kubeconfig", short.encode())
        assert wait_for(lambda: works(old_admin), 120, "the admin kubeconfig to work")
        assert works(short_lived), hosted(short_lived, "get", "namespaces").stderr
        bad = cluster.hcp("create", "kubeconfig", "--name", NAME, "--namespace", NAMESPACE, "--ttl", "0",
                          "--state-dir", str(cluster.state_dir), check=False)
        assert bad.returncode == 1 and "--ttl" in bad.stderr
        create_deployment(old_admin, "before")
        assert wait_for(lambda: replica_set_appears(old_admin, "before"), 120, "kcm to make a ReplicaSet")

        cluster.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "certificates.hypershift.openshift.io/v1alpha1", "kind": "CertificateRevocationRequest",
            "metadata": {"name": "revoke-admin", "namespace": CONTROL_PLANE},
            "spec": {"signerClass": "customer-break-glass"}}))
        seen: list[dict[str, str]] = []

        def revoked() -> bool:
            now = conditions(cluster)
            if not seen or seen[-1] != now:
                seen.append(now)
            return now.get("PreviousCertificatesRevoked") == "True"

        wait_for(revoked, 420, "PreviousCertificatesRevoked=True", interval=2)
        final = seen[-1]
        assert all(final.get(type_) == "True" for type_ in CONDITIONS), final
        print("conditions seen:", seen)

        assert wait_for(lambda: unauthorized(old_admin), 60, "the old admin kubeconfig to be refused")
        assert unauthorized(short_lived), hosted(short_lived, "get", "namespaces").stderr
        new_admin = write(tmp_path / "new-admin.kubeconfig", b"")
        wait_for(lambda: write(new_admin, published(cluster)) and works(new_admin), 120,
                 "the re-published admin kubeconfig to work")

        # Nothing else broke: the cluster is Available and kube-controller-manager (a root-CA client) works.
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=120s", timeout=180)
        create_deployment(new_admin, "after")
        assert wait_for(lambda: replica_set_appears(new_admin, "after"), 120, "kcm to make a ReplicaSet after")
        # A new short-lived kubeconfig comes from the new signer.
        again = write(tmp_path / "ttl-again.kubeconfig", cluster.hcp(
            "create", "kubeconfig", "--name", NAME, "--namespace", NAMESPACE, "--ttl", "10m",
            "--state-dir", str(cluster.state_dir)).stdout.encode())
        assert works(again), hosted(again, "get", "namespaces").stderr
    finally:
        remove_hosted_cluster(cluster, NAMESPACE, NAME)
