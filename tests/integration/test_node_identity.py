"""Node identity and trust on a real hosted cluster, through kubectl only, acting as a joining kubelet would.

A HostedCluster and a NodePool of platform None (whose machines join on their
own) get a bootstrap token, whether or not hcp can make the pool's machines
yet (today the pool reports ValidPlatformConfig=False). With it, a "kubelet"
(keys and CSRs made here with `cryptography`) obtains a node client
certificate that the hosted kube-controller-manager approves and signs. As
that node it may touch its own Node and nothing else (Node authorizer,
NodeRestriction), its serving certificate is approved for its own addresses
and denied for another's, and a wrong or expired token is refused with 401.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hcp.upstream import binaries
from tests.integration.conftest import ManagementCluster, hosted_cluster_manifest
from tests.integration.nodepool.conftest import wait_for

pytestmark = pytest.mark.integration

NAMESPACE = "node-identity"
CLUSTER = "ident"
CONTROL_PLANE = f"{NAMESPACE}-{CLUSTER}"
POOL = "joiners"
NODE = "joiner"
NODE_IP = "10.200.0.5"
CSR_TIMEOUT = 90
"""Seconds within which a CSR must be decided and, if approved, issued."""


@dataclass(frozen=True)
class Hosted:
    management: ManagementCluster
    kubeconfig: Path
    tmp: Path

    @property
    def ca_pem(self) -> bytes:
        config = yaml.safe_load(self.kubeconfig.read_text())
        return base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])

    def kubeconfig_for(self, name: str, user: dict[str, str]) -> Path:
        """A kubeconfig for the hosted API server (its published endpoint and CA) as another user."""
        config = yaml.safe_load(self.kubeconfig.read_text())
        config["users"] = [{"name": name, "user": user}]
        config["contexts"] = [{"name": name, "context": {"cluster": config["clusters"][0]["name"], "user": name}}]
        config["current-context"] = name
        path = self.tmp / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    def kubectl(self, *args: str, kubeconfig: Path | None = None, check: bool = True,
                input: str | None = None) -> subprocess.CompletedProcess:
        """kubectl against the hosted cluster, as admin unless another kubeconfig is given."""
        command = [str(binaries.binary("kubernetes", "kubectl")), "--kubeconfig", str(kubeconfig or self.kubeconfig),
                   *args]
        result = subprocess.run(command, capture_output=True, text=True, input=input, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"hosted kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def request_pem(key: ec.EllipticCurvePrivateKey, node: str, *, dns: tuple[str, ...] = (),
                ips: tuple[str, ...] = ()) -> bytes:
    """A certificate request for system:node:<node> in system:nodes, as a kubelet makes it."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}"),
    ]))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def submit_csr(hosted: Hosted, kubeconfig: Path, request: bytes, signer: str, usages: list[str]) -> str:
    name = f"node-csr-{secrets.token_hex(4)}"
    manifest = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {"request": base64.b64encode(request).decode(), "signerName": signer, "usages": usages},
    }
    hosted.kubectl("create", "-f", "-", kubeconfig=kubeconfig, input=json.dumps(manifest))
    return name


def decided(hosted: Hosted, name: str) -> dict[str, Any]:
    """The CSR once denied, or approved and issued (within CSR_TIMEOUT)."""

    def check() -> dict[str, Any] | None:
        csr = hosted.json("get", "csr", name)
        status = csr.get("status") or {}
        types = {c["type"] for c in status.get("conditions") or ()}
        return csr if "Denied" in types or ("Approved" in types and status.get("certificate")) else None

    return wait_for(check, CSR_TIMEOUT, f"CSR {name} to be decided")


def condition(csr: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in csr["status"].get("conditions") or () if c["type"] == type_), {})


def issued_certificate(csr: dict[str, Any]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(csr["status"]["certificate"]))


def refused(result: subprocess.CompletedProcess, word: str) -> bool:
    return result.returncode != 0 and word.lower() in result.stderr.lower()


# The hosted cluster, its pool and the joining node.


@pytest.fixture(scope="module")
def hosted(operator_installed: ManagementCluster, tmp_path_factory) -> Iterator[Hosted]:
    """HostedCluster node-identity/ident of platform None, Available, with NodePool joiners (None, 1 replica)."""
    cluster = operator_installed
    manifest = hosted_cluster_manifest(cluster, CLUSTER, NAMESPACE).replace("platform: {type: KWOK}",
                                                                            "platform: {type: None}")
    assert "platform: {type: None}" in manifest
    pool = {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "NodePool",
        "metadata": {"name": POOL, "namespace": NAMESPACE},
        "spec": {"clusterName": CLUSTER, "replicas": 1, "management": {"upgradeType": "Replace"},
                 "release": {"image": _release(manifest)},
                 "platform": {"type": "None"}},
    }
    try:
        cluster.kubectl("apply", "-f", "-", input=manifest)
        cluster.kubectl("apply", "-f", "-", input=json.dumps(pool))
        cluster.kubectl("wait", "-n", NAMESPACE, f"hostedcluster/{CLUSTER}", "--for=condition=Available",
                        "--timeout=420s", timeout=500)
        encoded = cluster.kubectl("get", "secret", "-n", NAMESPACE, f"{CLUSTER}-admin-kubeconfig",
                                  "-o", "jsonpath={.data.kubeconfig}").stdout
        tmp = tmp_path_factory.mktemp("node-identity")
        kubeconfig = tmp / "admin.kubeconfig"
        kubeconfig.write_bytes(base64.b64decode(encoded))
        kubeconfig.chmod(0o600)
        yield Hosted(cluster, kubeconfig, tmp)
    finally:
        cluster.kubectl("delete", "-n", NAMESPACE, f"nodepool/{POOL}", "--ignore-not-found", "--timeout=180s",
                        check=False, timeout=240)
        cluster.kubectl("delete", "-n", NAMESPACE, f"hostedcluster/{CLUSTER}", "--ignore-not-found",
                        "--wait=true", "--timeout=300s", check=False, timeout=400)
        cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--timeout=180s",
                        check=False, timeout=240)


def _release(manifest: str) -> str:
    cluster = next(d for d in yaml.safe_load_all(manifest) if d and d["kind"] == "HostedCluster")
    return cluster["spec"]["release"]["image"]


def published_tokens(management: ManagementCluster) -> dict[str, str]:
    """Secret bootstrap-tokens of the control-plane namespace, decoded (empty while absent)."""
    result = management.kubectl("get", "secret", "-n", CONTROL_PLANE, "bootstrap-tokens", "-o", "json", check=False)
    if result.returncode != 0:
        return {}
    return {k: base64.b64decode(v).decode() for k, v in (json.loads(result.stdout).get("data") or {}).items()}


@pytest.fixture(scope="module")
def token(hosted: Hosted) -> str:
    """The pool's current bootstrap token, as a join command would read it from the management cluster."""
    return wait_for(lambda: published_tokens(hosted.management).get(POOL), 120, "the pool's bootstrap token")


@pytest.fixture(scope="module")
def joiner(hosted: Hosted, token: str) -> Path:
    """A kubeconfig of node `joiner`, whose client certificate was obtained with the bootstrap token."""
    bootstrap = hosted.kubeconfig_for("bootstrap", {"token": token})
    key = new_key()
    name = submit_csr(hosted, bootstrap, request_pem(key, NODE), "kubernetes.io/kube-apiserver-client-kubelet",
                      ["digital signature", "client auth"])
    csr = decided(hosted, name)
    assert condition(csr, "Approved").get("status") == "True", f"the node client CSR was not approved: {csr}"
    certificate = base64.b64decode(csr["status"]["certificate"])
    return hosted.kubeconfig_for(f"system:node:{NODE}", {
        "client-certificate-data": base64.b64encode(certificate).decode(),
        "client-key-data": base64.b64encode(key_pem(key)).decode(),
    })


@pytest.fixture(scope="module")
def joined(hosted: Hosted, joiner: Path) -> Path:
    """Node `joiner` registered by itself, with its addresses; Node `other` registered by the admin."""
    # As a kubelet registers: the Node with its addresses in one create (a Node's status may be set then).
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
            "status": {"addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": NODE}]}}
    hosted.kubectl("create", "-f", "-", kubeconfig=joiner, input=json.dumps(node))
    registered = hosted.json("get", "node", NODE)["status"].get("addresses")
    assert {"type": "InternalIP", "address": NODE_IP} in registered, registered
    other = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "other"}}
    hosted.kubectl("create", "-f", "-", input=json.dumps(other))
    return joiner


# What the control plane runs with.


def test_the_control_plane_runs_with_node_identity_flags(hosted: Hosted):
    def args(deployment: str) -> list[str]:
        return json.loads(hosted.management.kubectl(
            "get", "deployment", deployment, "-n", CONTROL_PLANE, "-o",
            f"jsonpath={{.spec.template.spec.containers[?(@.name==\"{deployment}\")].args}}").stdout)

    apiserver = args("kube-apiserver")
    for flag in ("--enable-bootstrap-token-auth=true", "--authorization-mode=Node,RBAC",
                 "--enable-admission-plugins=NodeRestriction"):
        assert flag in apiserver
    assert any(a.startswith("--kubelet-certificate-authority=") for a in apiserver)
    assert not any(a.startswith("--kubelet-insecure-tls") for a in apiserver)
    assert "--controllers=*,bootstrapsigner,tokencleaner" in args("kube-controller-manager")


def test_the_node_bootstrap_rbac_is_in_the_hosted_cluster(hosted: Hosted):
    def binding(name: str) -> tuple[str, list[tuple[str, str]]]:
        def get() -> dict[str, Any] | None:
            result = hosted.kubectl("get", "clusterrolebinding", name, "-o", "json", check=False)
            return json.loads(result.stdout) if result.returncode == 0 else None

        found = wait_for(get, 60, f"ClusterRoleBinding {name}", interval=2)
        return found["roleRef"]["name"], [(s["kind"], s["name"]) for s in found["subjects"]]

    assert binding("hcp:node-bootstrapper") == ("system:node-bootstrapper", [("Group", "system:bootstrappers")])
    assert binding("hcp:node-autoapprove-bootstrap") == (
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient", [("Group", "system:bootstrappers")])
    assert binding("hcp:node-autoapprove-certificate-rotation") == (
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [("Group", "system:nodes")])
    assert binding("hcp:kube-apiserver-kubelet-client") == (
        "system:kubelet-api-admin", [("User", "kube-apiserver-kubelet-client")])


def test_the_pool_gets_a_bootstrap_token_in_the_hosted_cluster(hosted: Hosted, token: str):
    token_id, token_secret = token.split(".")
    assert len(token_id) == 6 and len(token_secret) == 16

    secrets_ = hosted.json("get", "secrets", "-n", "kube-system", "-l", f"hypershift.openshift.io/nodePool={POOL}")
    assert [s["metadata"]["name"] for s in secrets_["items"]] == [f"bootstrap-token-{token_id}"]
    secret = secrets_["items"][0]
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["token-id"] == token_id and data["token-secret"] == token_secret
    assert data["usage-bootstrap-authentication"] == "true"
    assert data["auth-extra-groups"] == f"system:bootstrappers:hcp:nodepool-{POOL}"
    expires = datetime.fromisoformat(data["expiration"].replace("Z", "+00:00"))
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24, minutes=5)

    owner = json.loads(hosted.management.kubectl("get", "secret", "bootstrap-tokens", "-n", CONTROL_PLANE,
                                                 "-o", "json").stdout)["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"]) for o in owner] == [("HostedControlPlane", CLUSTER)]


def test_the_bootstrap_token_authenticates_as_a_bootstrapper_of_the_pool(hosted: Hosted, token: str):
    bootstrap = hosted.kubeconfig_for("whoami-bootstrap", {"token": token})
    who = json.loads(hosted.kubectl("auth", "whoami", "-o", "json", kubeconfig=bootstrap).stdout)["status"]["userInfo"]
    assert who["username"] == f"system:bootstrap:{token.split('.')[0]}"
    assert {"system:bootstrappers", f"system:bootstrappers:hcp:nodepool-{POOL}"} <= set(who["groups"])


def test_a_wrong_or_expired_bootstrap_token_is_refused_with_401(hosted: Hosted, token: str):
    token_id = token.split(".")[0]
    expired_id = secrets.token_hex(3)
    expired_secret = "0123456789abcdef"
    hosted.kubectl("create", "secret", "generic", f"bootstrap-token-{expired_id}", "-n", "kube-system",
                   "--type=bootstrap.kubernetes.io/token", f"--from-literal=token-id={expired_id}",
                   f"--from-literal=token-secret={expired_secret}", "--from-literal=usage-bootstrap-authentication=true",
                   f"--from-literal=expiration={(datetime.now(UTC) - timedelta(minutes=1)):%Y-%m-%dT%H:%M:%SZ}")
    try:
        for label, value in (("unknown", f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"),
                             ("wrong-secret", f"{token_id}.{secrets.token_hex(8)}"),
                             ("expired", f"{expired_id}.{expired_secret}")):
            result = hosted.kubectl("get", "--raw", "/api", kubeconfig=hosted.kubeconfig_for(label, {"token": value}),
                                    check=False)
            assert refused(result, "Unauthorized"), f"{label} token: {result.returncode} {result.stderr}"
        ok = hosted.kubectl("get", "--raw", "/api", kubeconfig=hosted.kubeconfig_for("valid", {"token": token}),
                            check=False)
        assert ok.returncode == 0, ok.stderr
    finally:
        hosted.kubectl("delete", "secret", f"bootstrap-token-{expired_id}", "-n", "kube-system",
                       "--ignore-not-found", check=False)


# The node's client certificate and what it may do.


def test_the_bootstrap_token_obtains_an_approved_node_client_certificate(hosted: Hosted, joiner: Path):
    who = json.loads(hosted.kubectl("auth", "whoami", "-o", "json", kubeconfig=joiner).stdout)["status"]["userInfo"]
    assert who["username"] == f"system:node:{NODE}"
    assert "system:nodes" in who["groups"]
    config = yaml.safe_load(joiner.read_text())
    certificate = x509.load_pem_x509_certificate(base64.b64decode(config["users"][0]["user"]["client-certificate-data"]))
    certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(hosted.ca_pem))


def test_a_node_may_change_its_own_node_only(hosted: Hosted, joined: Path):
    own = hosted.kubectl("label", "node", NODE, "example.com/rack=r1", "--overwrite", kubeconfig=joined, check=False)
    assert own.returncode == 0, own.stderr
    other = hosted.kubectl("label", "node", "other", "example.com/rack=r1", "--overwrite", kubeconfig=joined,
                           check=False)
    assert refused(other, "forbidden"), other.stderr
    delete = hosted.kubectl("delete", "node", "other", "--wait=false", kubeconfig=joined, check=False)
    assert refused(delete, "forbidden"), delete.stderr
    assert hosted.json("get", "node", "other")["metadata"].get("labels", {}).get("example.com/rack") is None


def test_a_node_may_not_read_a_secret_no_pod_of_it_uses(hosted: Hosted, joined: Path):
    hosted.kubectl("create", "secret", "generic", "not-for-nodes", "-n", "default", "--from-literal=k=v")
    try:
        result = hosted.kubectl("get", "secret", "not-for-nodes", "-n", "default", kubeconfig=joined, check=False)
        assert refused(result, "forbidden"), result.stderr
        listing = hosted.kubectl("get", "secrets", "-A", kubeconfig=joined, check=False)
        assert refused(listing, "forbidden"), listing.stderr
    finally:
        hosted.kubectl("delete", "secret", "not-for-nodes", "-n", "default", "--ignore-not-found", check=False)


# Its serving certificate.


def test_a_serving_certificate_for_the_nodes_own_addresses_is_approved_and_issued(hosted: Hosted, joined: Path):
    key = new_key()
    name = submit_csr(hosted, joined, request_pem(key, NODE, dns=(NODE,), ips=(NODE_IP,)),
                      "kubernetes.io/kubelet-serving", ["digital signature", "server auth"])
    csr = decided(hosted, name)
    approved = condition(csr, "Approved")
    assert approved.get("status") == "True", f"not approved: {csr['status']}"
    assert approved["reason"] == "AutoApproved"
    certificate = issued_certificate(csr)
    certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(hosted.ca_pem))
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [NODE]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [NODE_IP]


def test_a_serving_certificate_naming_a_foreign_address_is_denied_with_the_reason(hosted: Hosted, joined: Path):
    name = submit_csr(hosted, joined, request_pem(new_key(), NODE, dns=(NODE,), ips=(NODE_IP, "10.200.0.99")),
                      "kubernetes.io/kubelet-serving", ["digital signature", "server auth"])
    csr = decided(hosted, name)
    denied = condition(csr, "Denied")
    assert denied.get("status") == "True", f"not denied: {csr['status']}"
    assert denied["reason"] == "UnknownSAN"
    assert "10.200.0.99" in denied["message"]
    assert not csr["status"].get("certificate")
    events = json.loads(hosted.management.kubectl(
        "get", "events", "-n", CONTROL_PLANE, "--field-selector", "reason=KubeletServingCertificateDenied",
        "-o", "json").stdout)["items"]
    assert any(name in e["message"] for e in events), "the denial is reported on the HostedControlPlane"


# A deleted pool's tokens.


def test_a_deleted_pools_tokens_are_deleted(hosted: Hosted, token: str):
    hosted.management.kubectl("delete", "nodepool", POOL, "-n", NAMESPACE, "--timeout=180s", timeout=240)
    wait_for(lambda: not hosted.json("get", "secrets", "-n", "kube-system", "-l",
                                     f"hypershift.openshift.io/nodePool={POOL}")["items"],
             60, "the pool's bootstrap token Secrets to be deleted", interval=2)
    wait_for(lambda: POOL not in published_tokens(hosted.management), 60,
             "the pool's token to leave the control-plane namespace", interval=2)
    # The API server caches a successful token authentication for 10 seconds.
    revoked = hosted.kubeconfig_for("revoked", {"token": token})
    wait_for(lambda: refused(hosted.kubectl("get", "--raw", "/api", kubeconfig=revoked, check=False), "Unauthorized"),
             30, "the deleted pool's token to be refused with 401", interval=2)
