"""`hcp create cluster kwok`: rendering (golden files), creating, re-running, waiting, and its error lines."""

from __future__ import annotations

import base64
import stat

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hcp.cli import create
from hcp.hostedcluster import objects
from tests.unit.cli import world
from tests.unit.cli.conftest import FIXED_ENCRYPTION_KEY, assert_golden

ADDRESS = ["--api-server-address", "10.0.0.2"]


@pytest.fixture
def fixed_ssh_key(monkeypatch):
    """A fixed key pair: OpenSSH private keys carry a random check number even for a fixed key."""
    public = objects.generate_ssh_key(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))[0]
    private = b"-----BEGIN OPENSSH PRIVATE KEY-----\nFIXED\n-----END OPENSSH PRIVATE KEY-----\n"
    monkeypatch.setattr(create, "generate_ssh_key", lambda: (public, private))


def test_generated_ssh_keys_are_a_pair():
    public, private = objects.generate_ssh_key()
    key = serialization.load_ssh_private_key(private, password=None)
    assert key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH) + b"\n" == public
    assert public.startswith(b"ssh-ed25519 ")


def test_render_defaults(hcp):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render", *ADDRESS)
    assert result.code == 0, result.err
    assert_golden("create-cluster-render.yaml", result.out)
    assert "Secret" not in [d["kind"] for d in yaml.safe_load_all(result.out)]


def test_render_sensitive_includes_the_secrets(hcp, fixed_ssh_key):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render", "--render-sensitive", "--generate-ssh",
                 *ADDRESS)
    assert result.code == 0, result.err
    assert_golden("create-cluster-render-sensitive.yaml", result.out)
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(result.out) if d["kind"] == "Secret"}
    assert set(secrets["demo-ssh-key"]["data"]) == {"id_rsa", "id_rsa.pub"}
    assert secrets["demo-pull-secret"]["data"] == {".dockerconfigjson": world.b64('{"auths":{}}')}


def test_render_every_flag(hcp, tmp_path):
    pull_secret = tmp_path / "pull.json"
    pull_secret.write_text('{"auths":{"r.example":{"auth":"eDp5"}}}')
    public_key = tmp_path / "id.pub"
    public_key.write_text(objects.generate_ssh_key(Ed25519PrivateKey.from_private_bytes(bytes(32)))[0].decode())
    result = hcp(
        "create", "cluster", "kwok", "--name", "ha", "--namespace", "team-a", *ADDRESS,
        "--release-image", "registry.hcp.internal:5000/hcp/release:v1.36.4", "--node-pool-replicas", "5",
        "--pull-secret", str(pull_secret), "--ssh-key", str(public_key), "--base-domain", "example.com",
        "--control-plane-availability-policy", "HighlyAvailable", "--etcd-storage-class", "fast",
        "--etcd-storage-size", "4Gi", "--service-cidr", "172.31.0.0/16", "--service-cidr", "fd02::/112",
        "--cluster-cidr", "10.132.0.0/14", "--cluster-cidr", "fd01::/48",
        "--node-selector", "role=cp,disk=ssd", "--node-selector", "zone=a",
        "--toleration", "dedicated=cp:NoSchedule", "--toleration", "maintenance:NoExecute",
        "--annotations", "team=a,b", "--labels", "env=dev", "--pausedUntil", "2030-01-01T00:00:00Z",
        "--auto-repair", "--node-drain-timeout", "5m", "--cpu", "4", "--memory", "16Gi", "--max-pods", "110",
        "--render", "--render-sensitive",
    )
    assert result.code == 0, result.err
    assert_golden("create-cluster-render-every-flag.yaml", result.out)


def test_render_into_a_file_keeps_secrets_private(hcp, tmp_path, fixed_ssh_key):
    target = tmp_path / "demo.yaml"
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--generate-ssh", "--render-into", str(target),
                 "--render-sensitive", *ADDRESS)
    assert result.code == 0, result.err
    assert result.out == ""
    assert [d["kind"] for d in yaml.safe_load_all(target.read_text())] == \
        ["Namespace", "Secret", "Secret", "Secret", "HostedCluster", "NodePool"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_render_asks_the_management_cluster_for_the_node_address(hcp, api):
    api.add(world.node("mgmt-1", "192.168.1.10"))
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render")
    assert result.code == 0, result.err
    cluster = next(d for d in yaml.safe_load_all(result.out) if d["kind"] == "HostedCluster")
    addresses = {s["servicePublishingStrategy"]["nodePort"]["address"] for s in cluster["spec"]["services"]}
    assert addresses == {"192.168.1.10"}


def test_create_applies_every_object_the_hosted_cluster_last(hcp, api, fixed_ssh_key):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--generate-ssh", *ADDRESS)
    assert result.code == 0, result.err
    assert_golden("create-cluster.txt", result.out)
    assert api.names("Secret") == ["clusters/demo-etcd-encryption-key", "clusters/demo-pull-secret",
                                   "clusters/demo-ssh-key"]
    assert api.names("NodePool") == ["clusters/demo"]
    assert api.get("HostedCluster", "demo", "clusters")["spec"]["sshKey"] == {"name": "demo-ssh-key"}
    assert list(api.objects)[-1] == ("hostedclusters", "clusters", "demo")


def test_create_again_says_the_cluster_exists(hcp, api):
    api.add(world.hosted_cluster())
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 1
    assert result.err.splitlines() == [
        "error: HostedCluster clusters/demo already exists; get its kubeconfig with `hcp create kubeconfig "
        "--namespace clusters --name demo` or remove it with `hcp destroy cluster kwok --namespace clusters "
        "--name demo`"]


def test_create_converges_after_an_interruption_before_the_hosted_cluster(hcp, api):
    api.add(world.secret("demo-pull-secret", "clusters", {".dockerconfigjson": "{}"},
                         {objects.AUTO_CREATED_LABEL: "demo"}))
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 0, result.err
    assert api.get("Secret", "demo-pull-secret", "clusters")["data"] == {".dockerconfigjson": world.b64('{"auths":{}}')}
    assert api.get("HostedCluster", "demo", "clusters") is not None


def test_wait_reports_each_phase_and_how_to_use_the_cluster(hcp, api, clock):
    def control_plane_namespace():
        api.add(world.namespace("clusters-demo"))

    def etcd():
        api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
                 "metadata": {"name": "demo", "namespace": "clusters-demo"}, "spec": {},
                 "status": {"conditions": [world.condition("EtcdAvailable", "True", "etcd cluster is available")]}})

    def api_server():
        cluster = api.get("HostedCluster", "demo", "clusters")
        api.add({**cluster, "status": world.hosted_cluster(available=True)["status"]})

    def nodes():
        pool = api.get("NodePool", "demo", "clusters")
        api.add({**pool, "status": {"replicas": 2}})

    clock.steps = [control_plane_namespace, etcd, api_server, nodes]
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--wait", *ADDRESS)
    assert result.code == 0, result.err
    assert_golden("create-cluster-wait.txt", result.out)
    assert result.progress == ["created Namespace clusters (needed before the objects in it can be validated)",
                               "validated 4 objects with a server-side dry run",
                               "created Secret clusters/demo-pull-secret",
                               "created Secret clusters/demo-etcd-encryption-key",
                               "created NodePool clusters/demo", "created HostedCluster clusters/demo",
                               "control-plane namespace clusters-demo: namespace clusters-demo does not exist yet",
                               "control-plane namespace clusters-demo created",
                               "etcd: HostedControlPlane clusters-demo/demo reports no EtcdAvailable yet",
                               "etcd cluster is available",
                               "API server: the HostedCluster reports no Available condition yet",
                               "API server available at https://10.0.0.2:30443",
                               "2 nodes: NodePool clusters/demo has 0 of 2 nodes", "2 of 2 nodes ready"]


def test_wait_says_why_the_control_plane_cannot_be_scheduled_once_each_time_it_changes(hcp, api, clock):
    unschedulable = ("Waiting for kube-scheduler to roll out: kube-scheduler: pod kube-scheduler-5d8f-x2 cannot be "
                     "scheduled: 0/1 nodes are available: 1 Insufficient cpu.")

    def control_plane(message: str):
        def step():
            api.add(world.namespace("clusters-demo"))
            api.add({"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
                     "metadata": {"name": "demo", "namespace": "clusters-demo"}, "spec": {},
                     "status": {"conditions": [world.condition("EtcdAvailable", "True", "etcd cluster is available")]}})
            cluster = api.get("HostedCluster", "demo", "clusters")
            api.add({**cluster, "status": {"conditions": [world.condition("Available", "False", message)]}})
        return step

    clock.steps = [control_plane(unschedulable), lambda: None, lambda: None]
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--wait", "--timeout", "1m", *ADDRESS)
    assert result.code == 1
    assert result.progress[-3:] == ["control-plane namespace clusters-demo created", "etcd cluster is available",
                                    f"API server: {unschedulable}"]  # once, though polled until the timeout
    assert "Insufficient cpu" in result.error


def test_wait_gives_up_after_the_timeout_naming_the_phase(hcp, api, clock):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--wait", "--timeout", "1m", *ADDRESS)
    assert result.code == 1
    assert result.error.startswith("error: timed out after 60s waiting for control-plane namespace clusters-demo of "
                                 "hosted cluster clusters/demo: namespace clusters-demo does not exist yet; see ")


def test_wait_stops_at_a_rejected_release(hcp, api, clock):
    def reject():
        cluster = api.get("HostedCluster", "demo", "clusters")
        message = "release image r/x:v9.9.9 not found in the registry"
        api.add({**cluster, "status": {"conditions": [world.condition("ValidReleaseImage", "False", message)]}})
    clock.steps = [reject]
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--wait", *ADDRESS)
    assert result.code == 1
    assert result.error == "error: HostedCluster clusters/demo: release image r/x:v9.9.9 not found in the registry"


@pytest.mark.parametrize(("args", "message"), [
    (["--render-sensitive"], "Error: --render-sensitive only applies with --render or --render-into"),
    (["--render", "--wait"], "Error: --wait cannot be combined with --render"),
    (["--generate-ssh", "--ssh-key", "{pub}"], "Error: --ssh-key and --generate-ssh cannot be combined"),
    (["--toleration", "a=b:Sometimes"], "Error: Invalid value for --toleration: 'a=b:Sometimes' is not "
                                        "key=value:effect with effect one of NoSchedule, PreferNoSchedule, NoExecute"),
    (["--node-selector", "role"], "Error: Invalid value for --node-selector: 'role' is not key=value"),
    (["--service-cidr", "10.0.0.1/8"], "Error: Invalid value for '--service-cidr'"),
    (["--pausedUntil", "tomorrow"], "Error: Invalid value for --pausedUntil: 'tomorrow' is neither"),
    (["--timeout", "soon"], "Error: Invalid value for '--timeout': 'soon' is not a duration"),
    (["--node-pool-replicas", "-1", "--cpu", "2"], "Error: --auto-repair, --node-drain-timeout, --cpu"),
    (["--control-plane-availability-policy", "Triple"], "Error: Invalid value for "
                                                        "'--control-plane-availability-policy'"),
    (["--cores", "2"], "Error: No such option '--cores'"),
])
def test_usage_errors(hcp, tmp_path, args, message):
    public_key = tmp_path / "id.pub"
    public_key.write_text("ssh-ed25519 AAAA")
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS,
                 *[a.format(pub=public_key) for a in args])
    assert result.code == 2
    assert result.err.splitlines()[-1].startswith(message), result.err


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "Demo"], "error: --name 'Demo' is not a DNS label: use lowercase letters, digits and '-'"),
    (["--name", "n" * 40, "--namespace", "m" * 30],
     f"error: the control-plane namespace {'m' * 30}-{'n' * 40} would be longer than 63 characters; "
     "use a shorter --name or --namespace"),
    (["--name", "demo", "--pull-secret", "{private}"],
     "error: --pull-secret {private} is not a docker config JSON like {{\"auths\":{{}}}}"),
    (["--name", "demo", "--ssh-key", "{private}"],
     "error: --ssh-key {private} is not an SSH public key (e.g. ~/.ssh/id_ed25519.pub)"),
])
def test_input_errors(hcp, tmp_path, args, message):
    private = tmp_path / "id"
    private.write_bytes(objects.generate_ssh_key()[1])
    result = hcp("create", "cluster", "kwok", "--render", *ADDRESS, *[a.format(private=private) for a in args])
    assert result.code == 1
    assert result.err == message.format(private=private) + "\n"


def test_without_a_management_cluster(hcp, monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG")
    result = hcp("create", "cluster", "kwok", "--name", "demo")
    assert result.code == 1
    assert result.err == (f"error: no kubeconfig at {tmp_path / 'state' / 'admin.kubeconfig'}; "
                          f"run `hcp management-cluster up` or pass --kubeconfig\n")


def test_without_the_operator_installed(hcp, api):
    api.served = frozenset({"namespaces", "secrets", "nodes"})
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 1
    assert result.err == ("error: the management cluster does not serve HostedCluster "
                          "(hypershift.openshift.io/v1beta1); install the operator and its CRDs with `hcp install`\n")


def test_what_the_models_refuse_is_one_error_line(hcp):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--render", *ADDRESS,
                 "--service-cidr", "10.132.0.0/16")
    assert result.code == 1
    assert result.err.splitlines() == [
        "error: CIDR ranges in machineNetwork, clusterNetwork, and serviceNetwork must be unique and "
        "non-overlapping: clusterNetwork 10.132.0.0/14 overlaps serviceNetwork 10.132.0.0/16"]


ENCRYPTION = {"type": "aescbc", "aescbc": {"activeKey": {"name": "demo-etcd-encryption-key"}}}


def test_generated_encryption_keys_are_32_random_bytes():
    first, second = objects.generate_encryption_key(), objects.generate_encryption_key()
    assert len(first) == len(second) == 32
    assert first != second


def test_secrets_are_encrypted_at_rest_by_default_with_a_key_that_is_never_printed(hcp, api):
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 0, result.err
    secret = api.get("Secret", "demo-etcd-encryption-key", "clusters")
    assert secret["type"] == "Opaque"
    # The data key the kube-apiserver adapter reads (AESCBC_SECRET_KEY), as in HyperShift.
    assert secret["data"] == {"key": base64.b64encode(FIXED_ENCRYPTION_KEY).decode()}
    assert secret["metadata"]["labels"] == {objects.AUTO_CREATED_LABEL: "demo", objects.SAFE_TO_DELETE_LABEL: "true"}
    assert api.get("HostedCluster", "demo", "clusters")["spec"]["secretEncryption"] == ENCRYPTION
    for text in (result.out, result.err):
        assert secret["data"]["key"] not in text and FIXED_ENCRYPTION_KEY.hex() not in text


def test_no_secret_encryption_creates_no_key_and_no_encryption(hcp, api):
    result = hcp("create", "cluster", "kwok", "--name", "demo", "--no-secret-encryption", *ADDRESS)
    assert result.code == 0, result.err
    assert api.names("Secret") == ["clusters/demo-pull-secret"]
    assert "secretEncryption" not in api.get("HostedCluster", "demo", "clusters")["spec"]


def test_render_names_the_key_and_render_sensitive_holds_it(hcp):
    plain = list(yaml.safe_load_all(hcp("create", "cluster", "kwok", "--name", "demo", "--render", *ADDRESS).out))
    cluster = next(d for d in plain if d["kind"] == "HostedCluster")
    assert cluster["spec"]["secretEncryption"] == ENCRYPTION
    sensitive = hcp("create", "cluster", "kwok", "--name", "demo", "--render", "--render-sensitive", *ADDRESS).out
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(sensitive) if d["kind"] == "Secret"}
    assert base64.b64decode(secrets["demo-etcd-encryption-key"]["data"]["key"]) == FIXED_ENCRYPTION_KEY
    opted_out = hcp("create", "cluster", "kwok", "--name", "demo", "--render", "--render-sensitive",
                    "--no-secret-encryption", *ADDRESS).out
    assert "encryption" not in opted_out


def test_an_existing_key_is_kept_not_replaced(hcp, api):
    """A key left by an interrupted run, or made beforehand for a restore, keeps encrypting (and decrypting)."""
    own = bytes(range(16))
    api.add(world.namespace("clusters"))
    api.add({**world.secret("demo-etcd-encryption-key", "clusters", {}), "data": {"key": base64.b64encode(own).decode()}})
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 0, result.err
    assert "updated existing Secret clusters/demo-etcd-encryption-key" in result.progress
    assert base64.b64decode(api.get("Secret", "demo-etcd-encryption-key", "clusters")["data"]["key"]) == own
    assert api.get("HostedCluster", "demo", "clusters")["spec"]["secretEncryption"] == ENCRYPTION


@pytest.mark.parametrize(("data", "message"), [
    ({"other": "x"}, "error: Secret clusters/demo-etcd-encryption-key exists without the data key 'key' of an aescbc "
                     "key; add it, remove the Secret, or pass --no-secret-encryption"),
    ({"key": "too short"}, "error: Secret clusters/demo-etcd-encryption-key holds 9 bytes under 'key'; an aescbc key "
                           "has 16, 24, 32 bytes"),
])
def test_an_existing_secret_that_is_no_key_is_refused_and_nothing_is_created(hcp, api, data, message):
    api.add(world.namespace("clusters"))
    api.add(world.secret("demo-etcd-encryption-key", "clusters", data))
    result = hcp("create", "cluster", "kwok", "--name", "demo", *ADDRESS)
    assert result.code == 1
    assert result.error == message
    assert api.names("HostedCluster") == []
    assert api.names("Secret") == ["clusters/demo-etcd-encryption-key"]
