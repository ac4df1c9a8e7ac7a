"""A HostedCluster whose etcd the user runs (spec.etcd.managementType Unmanaged) becomes Available and serves.

The test runs its own etcd (the release's image, TLS with client certificates)
in a namespace of the management cluster, as a user would run one outside hcp,
and points the HostedCluster at it with the client Secret HyperShift's API
names (etcd-client-ca.crt, etcd-client.crt, etcd-client.key).
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
import yaml

from hcp.upstream import binaries
from hcp.pki import issue, new_ca
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest, remove_hosted_cluster, wait_for

pytestmark = pytest.mark.integration

ETCD_NAMESPACE = "ext-etcd"
NAMESPACE = "unmanaged"
NAME = "external"
ENDPOINT = f"https://etcd.{ETCD_NAMESPACE}.svc:2379"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def external_etcd(cluster: ManagementCluster) -> tuple[list[dict], dict[str, str]]:
    """The etcd's objects, and the client Secret's data."""
    ca = new_ca("external-etcd-ca")
    server = issue(ca, "etcd", dns_names=("etcd", f"etcd.{ETCD_NAMESPACE}.svc",
                                          f"etcd.{ETCD_NAMESPACE}.svc.cluster.local", "localhost"),
                   ip_addresses=("127.0.0.1",), server=True, client=True)
    client = issue(ca, "kube-apiserver-etcd-client", client=True)
    labels = {"app": "etcd"}
    command = ["/usr/local/bin/etcd", "--name=ext", "--data-dir=/var/lib/etcd/data",
               "--listen-client-urls=https://0.0.0.0:2379", f"--advertise-client-urls={ENDPOINT}",
               "--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
               "--initial-cluster=ext=http://127.0.0.1:2380", "--client-cert-auth",
               "--trusted-ca-file=/tls/ca.crt", "--cert-file=/tls/tls.crt", "--key-file=/tls/tls.key"]
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ETCD_NAMESPACE}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "etcd-tls", "namespace": ETCD_NAMESPACE},
         "data": {"ca.crt": b64(ca.cert_pem), "tls.crt": b64(server.cert_pem), "tls.key": b64(server.key_pem)}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd", "namespace": ETCD_NAMESPACE, "labels": labels},
         "spec": {"securityContext": {"runAsNonRoot": True, "fsGroup": 65532},
                  "containers": [{"name": "etcd", "image": cluster.image("hcp/etcd"), "command": command,
                                  "volumeMounts": [{"name": "tls", "mountPath": "/tls"},
                                                   {"name": "data", "mountPath": "/var/lib/etcd"}]}],
                  "volumes": [{"name": "tls", "secret": {"secretName": "etcd-tls", "defaultMode": 0o440}},
                              {"name": "data", "emptyDir": {}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "etcd", "namespace": ETCD_NAMESPACE},
         "spec": {"selector": labels, "ports": [{"name": "client", "port": 2379}]}},
    ]
    secret = {"etcd-client-ca.crt": b64(ca.cert_pem), "etcd-client.crt": b64(client.cert_pem),
              "etcd-client.key": b64(client.key_pem)}
    return objects, secret


def test_a_hosted_cluster_on_an_etcd_it_does_not_manage_becomes_available(operator_installed, tmp_path):
    cluster = operator_installed
    objects, client = external_etcd(cluster)
    documents = [d for d in yaml.safe_load_all(hosted_cluster_manifest(cluster, NAME, NAMESPACE)) if d]
    hosted = next(d for d in documents if d["kind"] == "HostedCluster")
    hosted["spec"]["etcd"] = {"managementType": "Unmanaged",
                              "unmanaged": {"endpoint": ENDPOINT, "tls": {"clientSecret": {"name": "ext-etcd"}}}}
    documents.insert(1, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ext-etcd", "namespace": NAMESPACE},
                         "data": client})
    try:
        for obj in objects:
            cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))
        cluster.kubectl("wait", "-n", ETCD_NAMESPACE, "pod/etcd", "--for=condition=Ready", "--timeout=120s",
                        timeout=180)
        cluster.kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in documents))
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{NAME}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        control_plane = f"{NAMESPACE}-{NAME}"
        assert cluster.kubectl("get", "statefulsets", "-n", control_plane, "-o", "name").stdout.strip() == "", \
            "hcp must not run an etcd of its own"
        hcp = json.loads(cluster.kubectl("get", "hostedcontrolplane", NAME, "-n", control_plane, "-o", "json").stdout)
        etcd = next(c for c in hcp["status"]["conditions"] if c["type"] == "EtcdAvailable")
        assert (etcd["status"], etcd["reason"]) == ("True", "EtcdUnmanaged")

        kubeconfig = tmp_path / "external.kubeconfig"
        kubeconfig.write_text(cluster.kubectl("get", "secret", f"{NAME}-admin-kubeconfig", "-n", NAMESPACE, "-o",
                                              "go-template={{.data.kubeconfig | base64decode}}").stdout)
        kubeconfig.chmod(0o600)
        kubectl = [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig)]
        wait_for(lambda: subprocess.run([*kubectl, "create", "configmap", "stored-outside",
                                         "--from-literal=where=external-etcd"], capture_output=True).returncode == 0,
                 60, "a write to the hosted API")
        # The hosted cluster's data is in the user's etcd.
        keys = cluster.kubectl("exec", "-n", ETCD_NAMESPACE, "etcd", "--", "etcdctl", f"--endpoints={ENDPOINT}",
                               "--cacert=/tls/ca.crt", "--cert=/tls/tls.crt", "--key=/tls/tls.key",
                               "get", "--prefix", "--keys-only", "/registry/configmaps/default/").stdout
        assert "/registry/configmaps/default/stored-outside" in keys
    finally:
        remove_hosted_cluster(cluster, NAMESPACE, NAME, ETCD_NAMESPACE)
