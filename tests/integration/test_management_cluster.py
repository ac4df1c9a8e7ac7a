"""A real single-node management cluster: node, images, DNS, storage, logs/exec, restart with data."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

def _busybox_image(cluster) -> str:
    return cluster.image("hcp/busybox")


def wait_for(cluster, *args: str, timeout: str = "180s") -> None:
    cluster.kubectl("wait", *args, f"--timeout={timeout}", timeout=400)


def apply(cluster, manifest: str) -> None:
    cluster.kubectl("apply", "-f", "-", input=manifest)


@pytest.fixture
def namespace(management_cluster, request):
    name = request.node.name.removeprefix("test_").replace("_", "-").lower()[:40].strip("-")
    management_cluster.kubectl("create", "namespace", name)
    yield name
    management_cluster.kubectl("delete", "namespace", name, "--wait=true", "--timeout=120s", check=False)


def test_status_reports_every_component_healthy(management_cluster):
    output = management_cluster.mc("status").stdout
    for component in ("containerd", "etcd", "registry", "object-store", "kube-apiserver", "kube-controller-manager",
                      "kube-scheduler", "kubelet", "kube-proxy", "kube-router"):
        line = next(l for l in output.splitlines() if l.startswith(component + " "))
        assert line.split()[1:3] == ["yes", "yes"], line


def test_the_object_store_serves_its_bucket_with_the_credentials_of_its_secret(management_cluster, tmp_path):
    from hcp.backup.credentials import decode_secret_data, parse_credentials
    from hcp.backup.storage import S3Storage
    from hcp.management import object_store

    secret = json.loads(management_cluster.kubectl(
        "get", "secret", "-n", object_store.NAMESPACE, object_store.SECRET_NAME, "-o", "json").stdout)
    credentials = parse_credentials(decode_secret_data(secret["data"]))
    (tmp_path / "ca.crt").write_bytes(credentials.ca_pem)
    storage = S3Storage(credentials.s3_config(object_store.REGION, tmp_path / "ca.crt"), object_store.BUCKET, "test")
    (tmp_path / "object").write_bytes(b"hello from the object store")
    stored = storage.put("object", tmp_path / "object")
    assert stored.url == "s3://hcp-backups/test/object"
    assert storage.get("object", tmp_path / "back").sha256 == stored.sha256
    storage.delete("object")


def test_supervisor_restarts_a_crashed_component(management_cluster):
    status = json.loads(Path(f"/run/hcp/{management_cluster.name}/status.json").read_text())
    victim = status["components"]["kube-scheduler"]
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        line = next(l for l in management_cluster.mc("status", check=False).stdout.splitlines()
                    if l.startswith("kube-scheduler "))
        running, healthy, restarts = line.split()[1:4]
        if (running, healthy) == ("yes", "yes") and int(restarts) >= 1:
            break
        assert time.monotonic() < deadline, f"kube-scheduler not restarted: {line}"
        time.sleep(1)


def test_node_is_ready(management_cluster):
    node = json.loads(management_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert len(node) == 1
    ready = next(c for c in node[0]["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert node[0]["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.")
    assert node[0]["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_pod_from_a_locally_built_image_runs_and_logs_and_exec_work(management_cluster, namespace):
    image = _busybox_image(management_cluster)
    apply(management_cluster, f"""
apiVersion: v1
kind: Pod
metadata: {{name: hello, namespace: {namespace}}}
spec:
  terminationGracePeriodSeconds: 1  # sleep ignores SIGTERM; the teardown need not wait 30 s
  containers:
    - name: hello
      image: {image}
      command: [sh, -c, "echo hello from hcp; sleep 3600"]
""")
    wait_for(management_cluster, "-n", namespace, "--for=condition=Ready", "pod/hello")
    logs = management_cluster.kubectl("logs", "-n", namespace, "hello").stdout
    assert "hello from hcp" in logs
    exec_out = management_cluster.kubectl("exec", "-n", namespace, "hello", "--", "cat", "/etc/hostname").stdout
    assert exec_out.strip() == "hello"


def test_service_is_reachable_by_dns_name_from_another_pod(management_cluster, namespace):
    image = _busybox_image(management_cluster)
    apply(management_cluster, f"""
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {namespace}, labels: {{app: web}}}}
spec:
  terminationGracePeriodSeconds: 1  # sleep ignores SIGTERM; the teardown need not wait 30 s
  containers:
    - name: web
      image: {image}
      command: [sh, -c, "mkdir -p /www && echo served-by-web > /www/index.html && httpd -f -p 8080 -h /www"]
      ports: [{{containerPort: 8080}}]
      readinessProbe:
        tcpSocket: {{port: 8080}}
        periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {namespace}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: {namespace}}}
spec:
  terminationGracePeriodSeconds: 1  # sleep ignores SIGTERM; the teardown need not wait 30 s
  containers:
    - name: client
      image: {image}
      command: [sleep, "3600"]
""")
    wait_for(management_cluster, "-n", namespace, "--for=condition=Ready", "pod/web", "pod/client")
    # Debian's static busybox crashes in glibc's resolver (no NSS modules), so the name is resolved
    # with busybox's own nslookup (a real query to the cluster DNS) and fetched from that address with nc
    name = f"web.{namespace}.svc.cluster.local"
    fetch = (f"ip=$(nslookup {name} | awk '/^Address/ {{a=$2}} END {{print a}}'); echo resolved $ip >&2; "
             "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $ip 80 | tail -n 1")
    deadline = time.monotonic() + 60
    while True:
        result = management_cluster.kubectl("exec", "-n", namespace, "client", "--", "sh", "-c", fetch, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert result.stdout.strip() == "served-by-web", result.stderr


def test_volume_from_the_default_storage_class_outlives_its_pod(management_cluster, namespace):
    image = _busybox_image(management_cluster)

    def pod(name: str, command: str) -> str:
        return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  terminationGracePeriodSeconds: 1  # sleep ignores SIGTERM; the teardown need not wait 30 s
  containers:
    - name: main
      image: {image}
      command: [sh, -c, "{command}"]
      volumeMounts: [{{name: data, mountPath: /data}}]
  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: data}}
"""

    apply(management_cluster, f"""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: {namespace}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 64Mi}}}}
""" + "---" + pod("writer", "echo kept > /data/file; sleep 3600"))
    wait_for(management_cluster, "-n", namespace, "--for=condition=Ready", "pod/writer")
    wait_for(management_cluster, "-n", namespace, "--for=jsonpath={.status.phase}=Bound", "pvc/data")
    management_cluster.kubectl("delete", "-n", namespace, "pod", "writer", "--wait=true")
    apply(management_cluster, pod("reader", "cat /data/file; sleep 3600"))
    wait_for(management_cluster, "-n", namespace, "--for=condition=Ready", "pod/reader")
    assert management_cluster.kubectl("exec", "-n", namespace, "reader", "--", "cat", "/data/file").stdout == "kept\n"


def test_down_then_up_keeps_the_cluster_data(management_cluster):
    management_cluster.kubectl("create", "configmap", "survivor", "-n", "default", "--from-literal=key=value")
    management_cluster.mc("down")
    assert management_cluster.mc("status", check=False).returncode == 1
    management_cluster.mc("up", "--name", management_cluster.name)
    value = management_cluster.kubectl("get", "configmap", "survivor", "-n", "default",
                                       "-o", "jsonpath={.data.key}").stdout
    assert value == "value"
    management_cluster.kubectl("delete", "configmap", "survivor", "-n", "default")


def test_up_is_idempotent(management_cluster):
    result = management_cluster.mc("up", "--name", management_cluster.name)
    assert "is running" in result.stderr
