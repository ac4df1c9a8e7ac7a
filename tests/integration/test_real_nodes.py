"""Real nodes, end to end through hcp and kubectl: machines as pods and a machine that joins from outside.

One hosted cluster of platform Container (two machines are pods of the
management cluster) with a second NodePool of platform None, which a machine
made of a network namespace on this host joins with the command hcp prints.
What a user sees is checked: Nodes Ready, a workload spread over the nodes
answering through its Service by DNS name from another node, logs / exec /
port-forward through konnectivity, `kubectl top`, an in-cluster client, a
refused join, and nothing left after destroy.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hcp.management import machine
from hcp.upstream import binaries
from hcp.pki import certs
from tests.integration.conftest import ManagementCluster, wait_for
from tests.integration.ports import free_port
from tests.integration.nodepool.conftest import HostedCluster

NAMESPACE = "real-nodes"
CLUSTER = "real"
JOIN_POOL = "outside"
JOIN_LABELS = {"tier": "outside", "node-role.kubernetes.io/edge": ""}
"""One label the kubelet registers with, one only the API may set (the NodePool controller does)."""
JOIN_TAINT = {"key": "example.com/outside", "value": "yes", "effect": "PreferNoSchedule"}
CONTAINER_LABELS = {"node-role.kubernetes.io/worker": ""}
"""Added to the Container pool after its machines exist: the controller labels them through the API."""


def _hcp_flags(cluster: ManagementCluster) -> list[str]:
    return ["--state-dir", str(cluster.state_dir)]


@pytest.fixture(scope="module")
def real(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[tuple[HostedCluster, Path, str]]:
    """The hosted cluster with 2 Container machines and 1 joined netns machine; destroyed afterwards."""
    cluster = operator_installed
    machines_dir = tmp_path_factory.mktemp("machines")
    name = f"j{uuid.uuid4().hex[:6]}"
    kubeconfig = tmp_path_factory.mktemp("real") / "real.kubeconfig"
    try:
        cluster.hcp("create", "cluster", "container", "--name", CLUSTER, "--namespace", NAMESPACE,
                    "--node-pool-replicas", "2", "--wait", "--timeout", "10m", *_hcp_flags(cluster))
        kubeconfig.write_text(cluster.hcp("create", "kubeconfig", "--name", CLUSTER, "--namespace", NAMESPACE,
                                          *_hcp_flags(cluster)).stdout)
        # Rendered, given labels and a taint, and applied: a NodePool as a user edits one before creating it.
        rendered = yaml.safe_load(cluster.hcp("create", "nodepool", "none", "--cluster-name", CLUSTER,
                                              "--name", JOIN_POOL, "--namespace", NAMESPACE, "--node-count", "1",
                                              "--render", *_hcp_flags(cluster)).stdout)
        rendered["spec"]["nodeLabels"] = JOIN_LABELS
        rendered["spec"]["taints"] = [JOIN_TAINT]
        cluster.kubectl("apply", "-f", "-", input=json.dumps(rendered))
        cluster.kubectl("patch", "nodepool", CLUSTER, "-n", NAMESPACE, "--type=merge",
                        "-p", json.dumps({"spec": {"nodeLabels": CONTAINER_LABELS}}))
        command = cluster.hcp("create", "join-command", "--cluster-name", CLUSTER, "--nodepool", JOIN_POOL,
                              "--namespace", NAMESPACE, *_hcp_flags(cluster)).stdout.strip()
        assert command.startswith("curl ") and command.endswith("/join | sh")
        machine.create(machines_dir, name, command)
        yield HostedCluster(cluster, NAMESPACE, CLUSTER, kubeconfig), machines_dir, name
    finally:
        machine.delete(machines_dir, name)
        cluster.hcp("destroy", "cluster", "container", "--name", CLUSTER, "--namespace", NAMESPACE,
                    *_hcp_flags(cluster), check=False)
        assert f"{NAMESPACE}-{CLUSTER}" not in cluster.kubectl("get", "ns", "-o", "name").stdout
        assert not Path(f"/run/netns/hcp-{machine.PREFIX}{name}").exists(), "the machine's netns is left"
        assert not any((c / f"hcp-{machine.PREFIX}{name}").exists() for c in Path("/sys/fs/cgroup").iterdir()), \
            "the machine's cgroups are left"
        kubelets = _machine_kubelets(cluster, name)
        assert not kubelets, f"machines' kubelets are still running: {kubelets}"


def _machine_kubelets(cluster: ManagementCluster, joined: str) -> list[str]:
    """The command lines of this test's machines' kubelets still running: the Container machines' (in the
    management cluster's cgroups) and the joined machine's (which has its name in its environment).

    Not every machine kubelet on the host: a test worker beside this one may have machines of its own.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "bootstrap-kubelet.conf" not in args:
                continue
            cgroup = (proc / "cgroup").read_text()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        if f"/hcp-{cluster.name}/" in cgroup or f"HCP_NODE_NAME={joined}".encode() in environ:
            found.append(args[:160])
    return found


def _ready(hosted: HostedCluster) -> list[str]:
    nodes = hosted.hosted_json("get", "nodes")["items"]
    return sorted(n["metadata"]["name"] for n in nodes
                  if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))


def _busybox(cluster: ManagementCluster) -> str:
    return cluster.image("hcp/busybox")


def test_machines_of_both_platforms_become_ready_nodes(real):
    hosted, _, name = real
    log = real[1] / "machines" / name / "join.log"
    try:
        ready = wait_for(lambda: len(_ready(hosted)) == 3 and _ready(hosted), 300, "3 Ready nodes")
    except AssertionError as error:
        raise AssertionError(f"{error}; nodes: {_ready(hosted)}; the machine's join log:\n"
                             f"{log.read_text() if log.exists() else '(none)'}") from None
    assert name in ready
    nodes = {n["metadata"]["name"]: n for n in hosted.hosted_json("get", "nodes")["items"]}
    pools = {n: node["metadata"]["labels"]["hypershift.openshift.io/nodePool"] for n, node in nodes.items()}
    assert sorted(pools.values()) == sorted([CLUSTER, CLUSTER, JOIN_POOL])
    # spec.nodeLabels and spec.taints of real pools reach their Nodes (taints at registration).
    assert JOIN_TAINT in nodes[name]["spec"].get("taints", [])
    wait_for(lambda: JOIN_LABELS.items() <= hosted.nodes(JOIN_POOL)[0]["metadata"]["labels"].items(), 60,
             "the joined Node labelled")
    wait_for(lambda: all(CONTAINER_LABELS.items() <= n["metadata"]["labels"].items() for n in hosted.nodes(CLUSTER)),
             60, "the Container pool's Nodes labelled")
    for node in nodes.values():
        assert node["status"]["nodeInfo"]["kubeletVersion"] == binaries.TOOLSETS["kubernetes"].version
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    # The joined machine's address is its own network namespace's, as an outside machine's would be.
    address = next(a["address"] for a in nodes[name]["status"]["addresses"] if a["type"] == "InternalIP")
    assert address == machine.load(real[1], name).ip
    for pool, wanted in ((CLUSTER, 2), (JOIN_POOL, 1)):
        wait_for(lambda: hosted.condition(pool, "Ready").get("status") == "True", 120, f"NodePool {pool} Ready")
        assert hosted.nodepool(pool)["status"]["replicas"] == wanted
    # Kubelets serve with certificates of the hosted cluster: logs below go through konnectivity to them.
    csrs = hosted.hosted_json("get", "csr")["items"]
    assert any(c["spec"]["signerName"] == "kubernetes.io/kubelet-serving" for c in csrs)


WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      # Spread over the nodes a pod may go to (nodeTaintsPolicy Honor): a cordoned node being drained, or a
      # NotReady one, otherwise counts as a domain with no pod, and maxSkew 1 then kept a third pod Pending on 2 nodes.
      topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor,
          labelSelector: {{matchLabels: {{app: web}}}}}}
      containers:
      - name: web
        image: {image}
        command: [sh, -c, 'echo "hello from $(hostname)" > /www/index.html; echo started; exec httpd -f -vv -p 8080 -h /www']
        ports: [{{containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /, port: 8080}}}}
        volumeMounts: [{{name: www, mountPath: /www}}]
      volumes: [{{name: www, emptyDir: {{}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


@pytest.fixture(scope="module")
def web(real):
    hosted, _, _ = real
    wait_for(lambda: len(_ready(hosted)) == 3, 300, "3 Ready nodes")
    hosted.hosted("apply", "-f", "-", input=WEB.format(image=_busybox(hosted.management)))
    hosted.hosted("rollout", "status", "deployment/web", "--timeout=180s")
    return hosted


def _pods(hosted: HostedCluster) -> list[dict]:
    return [p for p in hosted.hosted_json("get", "pods", "-l", "app=web")["items"]
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]


def _run(hosted: HostedCluster, name: str, node: str, image: str, *command: str) -> str:
    """A pod on `node` running `command` to completion; its log."""
    overrides = json.dumps({"spec": {"nodeName": node}})
    hosted.hosted("run", name, "--restart=Never", "--command", f"--image={image}", f"--overrides={overrides}", "--", *command)
    try:
        wait_for(lambda: hosted.hosted("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout
                 in ("Succeeded", "Failed"), 120, f"pod {name} to finish")
        return hosted.hosted("logs", name).stdout
    finally:
        hosted.hosted("delete", "pod", name, "--ignore-not-found", "--wait=false")


def test_a_deployment_spreads_over_the_nodes_and_its_service_answers_by_name_from_another_node(web):
    pods = _pods(web)
    assert len({p["spec"]["nodeName"] for p in pods}) == 3, "one pod per node"
    client_node = next(n["metadata"]["name"] for n in web.nodes(CLUSTER))
    others = {p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] != client_node}
    # Up to 3 rounds of 12 requests, each from a new client pod. Seen once on a saturated machine, right after
    # the rollout: 5 requests hung 3 s and the other 7 were all answered by the client node's own pod (not
    # diagnosed; the session note has it). A round with an answer from another node passes.
    rounds = []
    for attempt in range(3):
        answers = _run(web, f"client-{attempt}", client_node, _busybox(web.management), "sh", "-c",
                       # Not `wget -T`: Debian's busybox 1.35 segfaults on that option before it sends anything.
                       "for i in $(seq 12); do timeout 3 wget -qO- http://web.default.svc.cluster.local; done")
        rounds.append(answers)
        if {line.removeprefix("hello from ") for line in answers.splitlines()
                if line.startswith("hello from ")} & others:
            break
    else:
        raise AssertionError(f"no answer from a pod on another node in 3 rounds: {rounds}")


def test_logs_exec_and_port_forward_reach_pods_on_every_node(web):
    for pod in _pods(web):
        name = pod["metadata"]["name"]
        assert "started" in web.hosted("logs", name).stdout
        assert web.hosted("exec", name, "--", "cat", "/www/index.html").stdout.strip() == f"hello from {name}"
    name = _pods(web)[0]["metadata"]["name"]
    port = free_port()
    forward = subprocess.Popen(
        [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(web.kubeconfig), "port-forward",
         f"pod/{name}", f"{port}:8080"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def fetch() -> str:
            result = subprocess.run(["curl", "-fsS", "--max-time", "5", f"http://127.0.0.1:{port}/"],
                                    capture_output=True, text=True)
            return result.stdout.strip()
        assert wait_for(fetch, 60, "an answer through port-forward") == f"hello from {name}"
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_kubectl_top_is_served_by_metrics_server_through_the_aggregation_layer(web):
    wait_for(lambda: web.hosted("top", "nodes", check=False).returncode == 0, 180, "kubectl top nodes")
    lines = web.hosted("top", "nodes").stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"] and len(lines) == 4
    pods = {p["metadata"]["name"] for p in _pods(web)}
    wait_for(lambda: pods <= {line.split()[0] for line in
                              web.hosted("top", "pods", "-l", "app=web", check=False).stdout.splitlines()[1:]},
             180, "kubectl top pods to list every web pod")


def test_a_pod_lists_nodes_through_the_kubernetes_service_with_its_service_account(web):
    web.hosted("create", "clusterrolebinding", "node-lister", "--clusterrole=node-reader",
               "--serviceaccount=default:default", check=False)
    web.hosted("create", "clusterrole", "node-reader", "--verb=list", "--resource=nodes", check=False)
    script = ("from lightkube import Client; from lightkube.resources.core_v1 import Node; "
              "print(' '.join(sorted(n.metadata.name for n in Client().list(Node))))")
    # hcp's operator image has Python and lightkube: a real client that finds the API by the Service env.
    out = _run(web, "in-cluster", _pods(web)[1]["spec"]["nodeName"], _operator_image(web.management),
               "/usr/bin/python3.11", "-c", script)
    assert out.split() == _ready(web), out


def _operator_image(cluster: ManagementCluster) -> str:
    deployment = json.loads(cluster.kubectl("get", "deployment", "operator", "-n", "hypershift", "-o", "json").stdout)
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_a_join_with_a_wrong_token_is_refused_with_a_clear_error(real):
    hosted, _, _ = real
    command = hosted.management.hcp("create", "join-command", "--cluster-name", CLUSTER, "--nodepool", JOIN_POOL,
                                    "--namespace", NAMESPACE, *_hcp_flags(hosted.management)).stdout.strip()
    token = shlex.split(command)[shlex.split(command).index("-H") + 1].removeprefix("Authorization: Bearer ")
    wrong = command.replace(token, "abcdef.0000000000000000")
    result = subprocess.run(["sh", "-c", wrong], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "hcp-join: error: the bootstrap token is not the current token of any NodePool" in result.stderr


def test_join_command_refuses_a_pool_whose_machines_hcp_makes(real):
    hosted, _, _ = real
    result = hosted.management.hcp("create", "join-command", "--cluster-name", CLUSTER, "--nodepool", CLUSTER,
                                   "--namespace", NAMESPACE, *_hcp_flags(hosted.management), check=False)
    assert result.returncode != 0
    assert "platform Container, whose machines hcp makes itself" in result.stderr


WEBHOOK_SERVER = r'''
import json, ssl
from http.server import BaseHTTPRequestHandler, HTTPServer

class Review(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = review["request"]["object"]["metadata"]["name"]
        print("reviewed", name, flush=True)
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
            "uid": review["request"]["uid"], "allowed": False,
            "status": {"code": 403, "message": f"{name} denied by the hosted webhook"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/tls/tls.crt", "/tls/tls.key")
server = HTTPServer(("", 8443), Review)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("serving", flush=True)
server.serve_forever()
'''


def test_an_admission_webhook_served_by_a_hosted_pod_is_called(real):
    """The API server calls a webhook Service in the hosted cluster: that traffic goes through konnectivity."""
    hosted, _, _ = real
    ca = certs.new_ca("webhook-ca")
    serving = certs.issue(ca, "webhook.default.svc", dns_names=("webhook.default.svc",), server=True)
    image = _operator_image(hosted.management)
    manifests = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-tls"}, "type": "kubernetes.io/tls",
         "stringData": {"tls.crt": serving.cert_pem.decode(), "tls.key": serving.key_pem.decode()}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "webhook"},
         "data": {"server.py": WEBHOOK_SERVER}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "webhook", "labels": {"app": "webhook"}},
         "spec": {"containers": [{"name": "server", "image": image, "command": ["/usr/bin/python3.11", "/app/server.py"],
                                  "ports": [{"containerPort": 8443}],
                                  "readinessProbe": {"tcpSocket": {"port": 8443}},
                                  "volumeMounts": [{"name": "tls", "mountPath": "/tls"},
                                                   {"name": "app", "mountPath": "/app"}]}],
                  "volumes": [{"name": "tls", "secret": {"secretName": "webhook-tls"}},
                              {"name": "app", "configMap": {"name": "webhook"}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "webhook"},
         "spec": {"selector": {"app": "webhook"}, "ports": [{"port": 443, "targetPort": 8443}]}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": "hcp-e2e-deny"},
         "webhooks": [{"name": "deny.hcp-e2e.example.com", "admissionReviewVersions": ["v1"],
                       "sideEffects": "None", "failurePolicy": "Fail", "timeoutSeconds": 10,
                       "objectSelector": {"matchLabels": {"hcp-e2e/deny": "yes"}},
                       "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                  "resources": ["configmaps"]}],
                       "clientConfig": {"caBundle": base64.b64encode(ca.cert_pem).decode(),
                                        "service": {"namespace": "default", "name": "webhook", "port": 443}}}]},
    ]
    try:
        hosted.hosted("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
        hosted.hosted("wait", "pod/webhook", "--for=condition=Ready", "--timeout=180s")
        refused = {"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "refused", "labels": {"hcp-e2e/deny": "yes"}}}
        result = wait_for(lambda: (r := hosted.hosted("create", "-f", "-", input=json.dumps(refused), check=False))
                          and "denied by the hosted webhook" in r.stderr and r, 60, "the webhook's answer")
        assert result.returncode != 0
        assert 'admission webhook "deny.hcp-e2e.example.com" denied the request: refused denied by the hosted webhook' \
            in result.stderr
        assert "reviewed refused" in hosted.hosted("logs", "webhook").stdout
        # Objects the webhook does not select are untouched by it.
        hosted.hosted("create", "configmap", "allowed")
    finally:
        hosted.hosted("delete", "validatingwebhookconfiguration", "hcp-e2e-deny", "--ignore-not-found", check=False)
        hosted.hosted("delete", "pod/webhook", "service/webhook", "configmap/webhook", "configmap/allowed",
                      "secret/webhook-tls", "--ignore-not-found", "--wait=false", check=False)


def _machine_pods(hosted: HostedCluster) -> list[str]:
    control_plane = f"{hosted.namespace}-{hosted.name}"
    pods = json.loads(hosted.kubectl("get", "pods", "-n", control_plane, "-l",
                                     f"hypershift.openshift.io/nodePool={CLUSTER}", "-o", "json").stdout)["items"]
    return sorted(p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp"))


def _web_spread(hosted: HostedCluster) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"]["nodeName"] for p in _pods(hosted)
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}


def test_a_killed_kubelet_comes_back_and_the_containers_it_ran_keep_running(web):
    """A machine's container state survives a kubelet restart inside it: containerd keeps the containers."""
    control_plane = f"{web.namespace}-{web.name}"
    machine_pods = _machine_pods(web)
    pod = next(p for p in _pods(web) if p["spec"]["nodeName"] in machine_pods)
    node, name = pod["spec"]["nodeName"], pod["metadata"]["name"]
    container_id = pod["status"]["containerStatuses"][0]["containerID"]
    pids = lambda: web.kubectl("exec", "-n", control_plane, node, "--", "cat", "/run/hcp-node/pids").stdout.split()
    old = pids()[1]
    web.kubectl("exec", "-n", control_plane, node, "--", "kill", "-KILL", old)
    wait_for(lambda: pids()[1] != old, 60, "the machine to restart its kubelet")
    wait_for(lambda: node in web.ready_nodes(CLUSTER), 120, f"node {node} Ready after the kubelet restart")
    after = web.hosted_json("get", "pod", name)
    assert after["status"]["containerStatuses"][0]["containerID"] == container_id
    assert after["status"]["containerStatuses"][0]["restartCount"] == 0
    # A kubelet that has just come back knows its pods once it has read them from containerd again.
    wait_for(lambda: web.hosted("exec", name, "--", "cat", "/www/index.html", check=False).stdout.strip()
             == f"hello from {name}", 60, f"exec into {name} after the kubelet restart")


def test_a_machine_whose_kubelet_stopped_is_replaced(web):
    """Auto-repair on a real machine: a frozen kubelet makes the Node NotReady, and the machine is replaced."""
    control_plane = f"{web.namespace}-{web.name}"
    web.kubectl("annotate", "nodepool", CLUSTER, "-n", web.namespace, "--overwrite",
                "hypershift.openshift.io/machine-health-check-timeout=20s")
    web.kubectl("patch", "nodepool", CLUSTER, "-n", web.namespace, "--type=merge",
                "-p", '{"spec": {"management": {"autoRepair": true}}}')
    before = _machine_pods(web)
    assert len(before) == 2
    victim = before[0]
    # The machine's join script restarts a kubelet that exits; a stopped (frozen) one is a failed machine.
    web.kubectl("exec", "-n", control_plane, victim, "--", "sh", "-c",
                "kill -STOP $(cut -d' ' -f2 /run/hcp-node/pids)")
    wait_for(lambda: victim not in _machine_pods(web) and len(_machine_pods(web)) == 2, 420,
             f"machine {victim} replaced")
    wait_for(lambda: len(web.ready_nodes(CLUSTER)) == 2 and victim not in web.ready_nodes(CLUSTER), 300,
             "the replacement's Node Ready")
    # Its Node goes once the machine pod is gone (its kubelet stopped), so the name is never registered again.
    wait_for(lambda: victim not in [n["metadata"]["name"] for n in web.nodes(CLUSTER)], 180, f"Node {victim} deleted")
    web.hosted("rollout", "status", "deployment/web", "--timeout=300s")


def test_scaling_real_machines_up_and_down_moves_the_pods(web):
    """2 → 3 machines gives a new Ready node; 3 → 1 drains the removed nodes and the pods run elsewhere."""
    web.kubectl("scale", "nodepool", CLUSTER, "-n", web.namespace, "--replicas=3")
    wait_for(lambda: len(web.ready_nodes(CLUSTER)) == 3, 300, "3 Ready nodes in the Container pool")
    wait_for(lambda: web.nodepool(CLUSTER)["status"].get("replicas") == 3, 120, "status.replicas 3")
    # Place the pods anew, one per node: the machine replaced by the test before may have left two pods on one
    # node and its replacement empty, and a scale-down removes empty machines first, so nothing would have had
    # to move. Scheduled from none, 3 pods under the Deployment's maxSkew 1 land on 3 of the 4 nodes, so at
    # least one machine the scale-down removes runs a pod.
    web.hosted("scale", "deployment/web", "--replicas=0")
    wait_for(lambda: not web.hosted_json("get", "pods", "-l", "app=web")["items"], 180, "no web pods left")
    web.hosted("scale", "deployment/web", "--replicas=3")
    web.hosted("rollout", "status", "deployment/web", "--timeout=180s")
    wait_for(lambda: len(set((spread := _web_spread(web)).values())) == 3 == len(spread), 180,
             "3 web pods Ready on 3 nodes")
    before = _web_spread(web)
    # Real pods leave through the Eviction API, one at a time as the budget allows, and start elsewhere.
    web.hosted("create", "poddisruptionbudget", "web", "--selector=app=web", "--max-unavailable=1")
    try:
        web.kubectl("scale", "nodepool", CLUSTER, "-n", web.namespace, "--replicas=1")
        wait_for(lambda: len(_machine_pods(web)) == 1 and len(web.nodes(CLUSTER)) == 1, 300,
                 "the Container pool down to 1 machine")
        kept = web.nodes(CLUSTER)[0]["metadata"]["name"]
        assert _machine_pods(web) == [kept]
        wait_for(lambda: len(_web_spread(web)) == 3, 300, "3 web pods Ready again")
    finally:
        web.hosted("delete", "poddisruptionbudget", "web", "--ignore-not-found")
    after = _web_spread(web)
    assert set(after.values()) <= {kept, real_machine_node(web)}
    moved = [pod for pod, node in before.items() if node not in (kept, real_machine_node(web))]
    assert moved and not set(moved) & set(after), f"pods of removed nodes were not replaced: {before} -> {after}"


def real_machine_node(hosted: HostedCluster) -> str:
    return hosted.nodes(JOIN_POOL)[0]["metadata"]["name"]


NODE_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 42
---
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfig
metadata: {name: 50-motd}
spec:
  config:
    storage:
      files:
      - {path: /etc/hcp-e2e-motd, mode: 420, contents: {source: "data:,configured%20by%20hcp%0A"}}
"""


def test_node_configuration_reaches_real_nodes_through_a_rollout(web):
    """spec.config (docs 9.1): kubelet fields and files are applied on the new machines a change rolls in."""
    before = set(_machine_pods(web))
    web.kubectl("create", "configmap", "node-config", "-n", web.namespace, f"--from-literal=config={NODE_CONFIG}")
    try:
        web.kubectl("patch", "nodepool", CLUSTER, "-n", web.namespace, "--type=merge",
                    "-p", json.dumps({"spec": {"config": [{"name": "node-config"}]}}))

        def configured() -> bool:
            nodes = web.nodes(CLUSTER)
            return (bool(nodes) and not before & set(_machine_pods(web))
                    and all(n["status"]["capacity"].get("pods") == "42" for n in nodes)
                    and len(web.ready_nodes(CLUSTER)) == len(before)
                    and web.condition(CLUSTER, "UpdatingConfig").get("status") == "False")

        wait_for(configured, 600, "the Container pool rolled to machines with maxPods 42")
        valid = web.condition(CLUSTER, "ValidMachineConfig")
        assert valid["status"] == "True" and "applied when machines join" in valid["message"]
        machine_pod = _machine_pods(web)[0]
        motd = web.kubectl("exec", "-n", f"{web.namespace}-{CLUSTER}", machine_pod, "-c", "node", "--",
                           "cat", "/etc/hcp-e2e-motd").stdout
        assert motd == "configured by hcp\n"
    finally:
        web.kubectl("patch", "nodepool", CLUSTER, "-n", web.namespace, "--type=json",
                    "-p", json.dumps([{"op": "remove", "path": "/spec/config"}]), check=False)
        web.kubectl("delete", "configmap", "node-config", "-n", web.namespace, "--ignore-not-found")


def test_an_in_place_update_keeps_a_real_machines_name_and_applies_the_new_configuration(real):
    """InPlace on real nodes: the machine is drained, made again under its name, and joins with the new config."""
    hosted, _, _ = real
    pool = "inplace"
    spec = hosted.nodepool(CLUSTER)["spec"]
    manifest = {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
                "metadata": {"name": pool, "namespace": hosted.namespace},
                "spec": {"clusterName": CLUSTER, "replicas": 1, "release": spec["release"],
                         "platform": spec["platform"],
                         "management": {"upgradeType": "InPlace", "inPlace": {"maxUnavailable": 1}}}}
    hosted.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    config = NODE_CONFIG.replace("maxPods: 42", "maxPods: 33")
    try:
        wait_for(lambda: len(hosted.ready_nodes(pool)) == 1, 300, "the InPlace pool's machine Ready")
        [before] = [n["metadata"] for n in hosted.nodes(pool)]
        hosted.kubectl("create", "configmap", "inplace-config", "-n", hosted.namespace,
                       f"--from-literal=config={config}")
        hosted.kubectl("patch", "nodepool", pool, "-n", hosted.namespace, "--type=merge",
                       "-p", json.dumps({"spec": {"config": [{"name": "inplace-config"}]}}))

        def updated() -> bool:
            nodes = hosted.nodes(pool)
            return (len(nodes) == 1 and nodes[0]["status"]["capacity"].get("pods") == "33"
                    and hosted.ready_nodes(pool) == [before["name"]]
                    and hosted.condition(pool, "UpdatingConfig").get("status") == "False")

        wait_for(updated, 600, "the machine updated in place with maxPods 33")
        assert [n["metadata"]["name"] for n in hosted.nodes(pool)] == [before["name"]], "InPlace keeps the machine"
        control_plane = f"{hosted.namespace}-{CLUSTER}"
        motd = hosted.kubectl("exec", "-n", control_plane, before["name"], "-c", "node", "--",
                              "cat", "/etc/hcp-e2e-motd").stdout
        assert motd == "configured by hcp\n"
    finally:
        hosted.delete_nodepool(pool)
        hosted.kubectl("delete", "configmap", "inplace-config", "-n", hosted.namespace, "--ignore-not-found")
