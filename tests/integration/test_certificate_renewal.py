"""Certificates are renewed before they expire, and the hosted API keeps answering while pods pick them up.

A HostedCluster with `hcp.io/certificate-validity: 4m` has leaves that are due
at two thirds of their life (about 2m40s): the operator re-issues them, rolls
the pods that read them only at start, and refreshes the admin kubeconfig the
user holds. A client calls the hosted API every half second throughout.
"""

from __future__ import annotations

import base64
import subprocess
import time

import pytest
import yaml
from cryptography import x509

from hcp.upstream import binaries
from tests.integration.caller import Caller
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for

pytestmark = pytest.mark.integration

NAMESPACE = "renewal"
NAME = "short"
CONTROL_PLANE = f"{NAMESPACE}-{NAME}"


def secret_field(cluster: ManagementCluster, namespace: str, name: str, key: str) -> bytes:
    escaped = key.replace(".", "\\.")
    encoded = cluster.kubectl("get", "secret", name, "-n", namespace, "-o", f"jsonpath={{.data.{escaped}}}").stdout
    return base64.b64decode(encoded)


def serial(pem: bytes) -> int:
    return x509.load_pem_x509_certificate(pem).serial_number


def kubeconfig_serial(kubeconfig: bytes) -> int:
    user = yaml.safe_load(kubeconfig)["users"][0]["user"]
    return serial(base64.b64decode(user["client-certificate-data"]))


def test_leaf_certificates_and_the_admin_kubeconfig_are_renewed_while_the_api_answers(operator_installed, tmp_path):
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, NAME, NAMESPACE)
    manifest = manifest.replace(f"metadata: {{name: {NAME}, namespace: {NAMESPACE}}}",
                                f"metadata: {{name: {NAME}, namespace: {NAMESPACE}, "
                                f"annotations: {{hcp.io/certificate-validity: 4m}}}}")
    cluster.kubectl("apply", "-f", "-", input=manifest)
    caller = None
    try:
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        server = secret_field(cluster, CONTROL_PLANE, "kas-server-crt", "tls.crt")
        certificate = x509.load_pem_x509_certificate(server)
        life = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        # 4 minutes from issue, plus the backdating for clock skew (a tenth of the validity at most).
        assert life.total_seconds() <= 4 * 60 * 1.1, f"the serving certificate is valid for {life}, not 4m"
        admin = secret_field(cluster, NAMESPACE, f"{NAME}-admin-kubeconfig", "kubeconfig")
        path = tmp_path / "admin.kubeconfig"
        path.write_bytes(admin)
        path.chmod(0o600)
        caller = Caller(str(path))
        caller.start()

        wait_for(lambda: serial(secret_field(cluster, CONTROL_PLANE, "kas-server-crt", "tls.crt"))
                 != certificate.serial_number, 240, "kas-server-crt to be renewed")
        wait_for(lambda: kubeconfig_serial(secret_field(cluster, NAMESPACE, f"{NAME}-admin-kubeconfig",
                                                        "kubeconfig")) != kubeconfig_serial(admin), 120,
                 "the admin kubeconfig Secret to be refreshed")
        wait_for(lambda: cluster.kubectl("rollout", "status", "deployment/kube-apiserver", "-n", CONTROL_PLANE,
                                         "--timeout=5s", check=False).returncode == 0, 180,
                 "kube-apiserver to roll out with the renewed certificates")
        renewed = tmp_path / "renewed.kubeconfig"
        renewed.write_bytes(secret_field(cluster, NAMESPACE, f"{NAME}-admin-kubeconfig", "kubeconfig"))
        renewed.chmod(0o600)
        kubectl = str(binaries.binary("kubernetes", "kubectl"))
        answer = subprocess.run([kubectl, "--kubeconfig", str(renewed), "get", "namespaces", "-o", "name"],
                                capture_output=True, text=True, timeout=60)
        if answer.returncode != 0:
            state = cluster.kubectl("get", "pods,endpointslices,replicasets", "-n", CONTROL_PLANE, "-o", "wide",
                                    check=False).stdout
            events = cluster.kubectl("get", "events", "-n", CONTROL_PLANE, "--sort-by=.lastTimestamp",
                                     check=False).stdout
            print(f"{time.strftime('%H:%M:%S')} {answer.stderr}\n{state}\n{events[-6000:]}\n{caller.failures}")
        assert answer.returncode == 0 and "namespace/default" in answer.stdout, answer.stderr
        caller.stop.set()
        caller.join(10)
        print(f"hosted API calls during renewal: {caller.calls}, failed: {len(caller.failures)}")
        assert caller.calls > 100
        assert not caller.failures, f"{len(caller.failures)} of {caller.calls} calls failed: {caller.failures[:3]}"
    finally:
        if caller is not None:
            caller.stop.set()
        remove_hosted_cluster(cluster, NAMESPACE, NAME)
