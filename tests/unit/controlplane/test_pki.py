"""The hosted cluster's PKI Secrets: minted once, kept, re-issued only when they no longer fit, and valid TLS."""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hcp.controlplane import pki_secrets, secret_data
from hcp.controlplane.pki import certificate_validity, client_ca_bundle, earliest_renewal, fingerprints, issued_by
from hcp.pki.kubeconfig import render as render_kubeconfig
from hcp.controlplane.labels import HOSTED_CONTROL_PLANE_LABEL, MANAGED_BY_LABEL
from hcp.pki import KeyPair, issue, new_ca
from tests.unit.controlplane.conftest import HIGHLY_AVAILABLE, NAMESPACE, SINGLE_REPLICA, make_hcp

NAMES = [
    "root-ca",
    "etcd-signer",
    "kas-aggregator-client-signer",
    "konnectivity-signer",
    "customer-system-admin-signer",
    "etcd-server-tls",
    "etcd-peer-tls",
    "etcd-client-tls",
    "kas-server-crt",
    "kas-kubelet-client-crt",
    "kas-aggregator-crt",
    "konnectivity-cluster",
    "konnectivity-agent",
    "ignition-server-tls",
    "metrics-client",
    "etcd-metrics-client-tls",
    "kcm-server",
    "kube-scheduler-server",
    "metrics-server-crt",
    "sa-signing-key",
    "kube-controller-manager-kubeconfig",
    "kube-scheduler-kubeconfig",
    "admin-kubeconfig",
    "kwok-kubeconfig",
]
KEYS = {
    "root-ca": {"ca.crt", "ca.key"},
    "etcd-signer": {"ca.crt", "ca.key"},
    "kas-aggregator-client-signer": {"ca.crt", "ca.key"},
    "konnectivity-signer": {"ca.crt", "ca.key"},
    "customer-system-admin-signer": {"ca.crt", "ca.key"},
    "etcd-server-tls": {"server.crt", "server.key", "server-ca.crt"},
    "etcd-peer-tls": {"peer.crt", "peer.key", "peer-ca.crt"},
    "etcd-client-tls": {"etcd-client.crt", "etcd-client.key", "etcd-client-ca.crt"},
    "kas-server-crt": {"tls.crt", "tls.key", "ca.crt"},
    "kas-kubelet-client-crt": {"tls.crt", "tls.key", "ca.crt"},
    "kas-aggregator-crt": {"tls.crt", "tls.key", "ca.crt"},
    "konnectivity-cluster": {"tls.crt", "tls.key", "ca.crt"},
    "konnectivity-agent": {"tls.crt", "tls.key", "ca.crt"},
    "ignition-server-tls": {"tls.crt", "tls.key", "ca.crt"},
    "metrics-server-crt": {"tls.crt", "tls.key", "ca.crt"},
    "metrics-client": {"tls.crt", "tls.key", "ca.crt"},
    "etcd-metrics-client-tls": {"etcd-client.crt", "etcd-client.key", "etcd-client-ca.crt"},
    "kcm-server": {"tls.crt", "tls.key", "ca.crt"},
    "kube-scheduler-server": {"tls.crt", "tls.key", "ca.crt"},
    "sa-signing-key": {"service-account.key", "service-account.pub"},
    "kube-controller-manager-kubeconfig": {"kubeconfig"},
    "kube-scheduler-kubeconfig": {"kubeconfig"},
    "admin-kubeconfig": {"kubeconfig"},
    "kwok-kubeconfig": {"kubeconfig"},
}
HOST, PORT = "192.168.126.10", 30443
KONNECTIVITY_HOST = "192.168.126.11"


def as_existing(secrets: list[dict[str, Any]]) -> dict[str, dict[str, bytes]]:
    return {secret["metadata"]["name"]: secret_data(secret) for secret in secrets}


def changed(before: dict[str, dict[str, bytes]], after: dict[str, dict[str, bytes]]) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture(scope="module")
def hcp():
    return make_hcp(SINGLE_REPLICA)


@pytest.fixture(scope="module")
def first(hcp) -> list[dict[str, Any]]:
    return pki_secrets(NAMESPACE, hcp, HOST, {}, endpoint_port=PORT)


@pytest.fixture(scope="module")
def data(first) -> dict[str, dict[str, bytes]]:
    return as_existing(first)


def cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def kubeconfig(document: bytes) -> dict[str, Any]:
    config = yaml.safe_load(document)
    user = config["users"][0]["user"]
    return {
        "server": config["clusters"][0]["cluster"]["server"],
        "ca": base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]),
        "cert": base64.b64decode(user["client-certificate-data"]),
        "key": base64.b64decode(user["client-key-data"]),
    }


def sans(certificate: x509.Certificate) -> tuple[set[str], set[str]]:
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(names.get_values_for_type(x509.DNSName)), {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}


def subject(certificate: x509.Certificate) -> tuple[str, list[str]]:
    cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return cn, [o.value for o in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def usages(certificate: x509.Certificate) -> set:
    return set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


# Shape.


def test_every_secret_with_its_keys(first):
    assert [secret["metadata"]["name"] for secret in first] == NAMES
    for secret in first:
        assert secret["apiVersion"] == "v1"
        assert secret["kind"] == "Secret"
        assert secret["type"] == "Opaque"
        assert secret["metadata"]["namespace"] == NAMESPACE
        assert secret["metadata"]["labels"][MANAGED_BY_LABEL] == "hcp"
        assert secret["metadata"]["labels"][HOSTED_CONTROL_PLANE_LABEL] == NAMESPACE
        assert set(secret["data"]) == KEYS[secret["metadata"]["name"]]


def test_the_admin_kubeconfig_secret_follows_spec_kubeconfig():
    hcp = make_hcp(SINGLE_REPLICA, kubeconfig={"name": "my-admin", "key": "value"})
    secrets = as_existing(pki_secrets(NAMESPACE, hcp, HOST, {}, endpoint_port=PORT))
    assert "admin-kubeconfig" not in secrets
    assert set(secrets["my-admin"]) == {"value"}
    assert kubeconfig(secrets["my-admin"]["value"])["server"] == f"https://{HOST}:{PORT}"


# Minted once.


def test_a_second_pass_keeps_everything(hcp, first, data):
    again = pki_secrets(NAMESPACE, hcp, HOST, data, endpoint_port=PORT)
    assert again == first


def test_keeping_does_not_depend_on_the_availability_policy(first, data):
    hcp = make_hcp(SINGLE_REPLICA, controllerAvailabilityPolicy="HighlyAvailable")
    again = pki_secrets(NAMESPACE, hcp, HOST, data, endpoint_port=PORT)
    assert again == first


def test_a_missing_secret_is_minted_alone(hcp, data):
    for name in ("kas-kubelet-client-crt", "sa-signing-key", "kube-scheduler-kubeconfig", "etcd-peer-tls"):
        existing = {key: value for key, value in data.items() if key != name}
        after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
        assert changed(data, after) == {name}


def test_a_missing_key_or_a_key_that_does_not_match_its_certificate_is_reissued(hcp, data):
    existing = {**data, "etcd-client-tls": {k: v for k, v in data["etcd-client-tls"].items() if k != "etcd-client.key"}}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(data, after) == {"etcd-client-tls"}
    wrong_key = data["etcd-client-tls"]["etcd-client.key"]
    existing = {**data, "kas-server-crt": {**data["kas-server-crt"], "tls.key": wrong_key}}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(data, after) == {"kas-server-crt"}


def test_a_new_ca_reissues_what_it_signs_and_nothing_else(hcp, data):
    existing = {key: value for key, value in data.items() if key != "etcd-signer"}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(data, after) == {"etcd-signer", "etcd-server-tls", "etcd-peer-tls", "etcd-client-tls",
                                    "etcd-metrics-client-tls"}
    for name, key in (("etcd-server-tls", "server.crt"), ("etcd-peer-tls", "peer.crt"),
                      ("etcd-client-tls", "etcd-client.crt")):
        cert(after[name][key]).verify_directly_issued_by(cert(after["etcd-signer"]["ca.crt"]))


def test_a_new_root_ca_reissues_the_api_servers_certificates_and_kubeconfigs(hcp, data):
    existing = {key: value for key, value in data.items() if key != "root-ca"}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(data, after) == {
        "root-ca", "kas-server-crt", "kas-kubelet-client-crt", "ignition-server-tls", "metrics-server-crt",
        "metrics-client", "kcm-server", "kube-scheduler-server", "kube-controller-manager-kubeconfig", "kube-scheduler-kubeconfig", "admin-kubeconfig",
        "kwok-kubeconfig",
    }


# The published endpoint.


def test_a_new_endpoint_host_reissues_only_the_server_certificate_and_the_admin_kubeconfig(hcp, data):
    after = as_existing(pki_secrets(NAMESPACE, hcp, "api.example.com", data, endpoint_port=PORT))
    assert changed(data, after) == {"kas-server-crt", "admin-kubeconfig"}
    dns_names, ips = sans(cert(after["kas-server-crt"]["tls.crt"]))
    assert "api.example.com" in dns_names
    assert HOST not in ips
    assert kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["server"] == f"https://api.example.com:{PORT}"
    # And it then stays.
    again = as_existing(pki_secrets(NAMESPACE, hcp, "api.example.com", after, endpoint_port=PORT))
    assert again == after


def test_a_new_endpoint_port_rewrites_only_the_admin_kubeconfig(hcp, data):
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, data, endpoint_port=31000))
    assert changed(data, after) == {"admin-kubeconfig"}
    assert kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["server"] == f"https://{HOST}:31000"


def test_another_service_network_reissues_only_the_api_server_certificate(hcp, data):
    changed_network = make_hcp(SINGLE_REPLICA, networking={"serviceNetwork": [{"cidr": "172.29.0.0/16"}]})
    after = as_existing(pki_secrets(NAMESPACE, changed_network, HOST, data, endpoint_port=PORT))
    assert changed(data, after) == {"kas-server-crt"}
    assert "172.29.0.1" in sans(cert(after["kas-server-crt"]["tls.crt"]))[1]


def test_the_konnectivity_host_reissues_only_the_konnectivity_server_certificate(hcp, data):
    """Unknown at first (a pending load balancer), then published: the agents' server certificate gains it."""
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, data, endpoint_port=PORT,
                                    konnectivity_host=KONNECTIVITY_HOST))
    assert changed(data, after) == {"konnectivity-cluster"}
    assert KONNECTIVITY_HOST in sans(cert(after["konnectivity-cluster"]["tls.crt"]))[1]
    again = as_existing(pki_secrets(NAMESPACE, hcp, HOST, after, endpoint_port=PORT,
                                    konnectivity_host=KONNECTIVITY_HOST))
    assert again == after
    renamed = as_existing(pki_secrets(NAMESPACE, hcp, HOST, after, endpoint_port=PORT,
                                      konnectivity_host="konnectivity.example.com"))
    assert changed(after, renamed) == {"konnectivity-cluster"}
    assert "konnectivity.example.com" in sans(cert(renamed["konnectivity-cluster"]["tls.crt"]))[0]


def test_an_ipv6_endpoint_is_an_ip_san_and_a_bracketed_url(hcp):
    after = as_existing(pki_secrets(NAMESPACE, hcp, "fd00::10", {}, endpoint_port=PORT))
    _, ips = sans(cert(after["kas-server-crt"]["tls.crt"]))
    assert "fd00::10" in ips
    assert kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["server"] == f"https://[fd00::10]:{PORT}"


# What the certificates say.


def test_certificate_chains_verify(data):
    root = cert(data["root-ca"]["ca.crt"])
    etcd = cert(data["etcd-signer"]["ca.crt"])
    assert root.subject != etcd.subject
    for ca in (root, etcd):
        ca.verify_directly_issued_by(ca)
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name, key, signer in (
        ("etcd-server-tls", "server.crt", etcd),
        ("etcd-peer-tls", "peer.crt", etcd),
        ("etcd-client-tls", "etcd-client.crt", etcd),
        ("kas-server-crt", "tls.crt", root),
        ("kas-kubelet-client-crt", "tls.crt", root),
    ):
        cert(data[name][key]).verify_directly_issued_by(signer)
    assert data["etcd-server-tls"]["server-ca.crt"] == data["etcd-signer"]["ca.crt"]
    assert data["etcd-peer-tls"]["peer-ca.crt"] == data["etcd-signer"]["ca.crt"]
    assert data["etcd-client-tls"]["etcd-client-ca.crt"] == data["etcd-signer"]["ca.crt"]
    assert data["kas-server-crt"]["ca.crt"] == data["root-ca"]["ca.crt"]
    for name in ("kube-controller-manager-kubeconfig", "kube-scheduler-kubeconfig", "admin-kubeconfig"):
        config = kubeconfig(data[name]["kubeconfig"])
        assert config["ca"] == data["root-ca"]["ca.crt"]  # the server's CA
        signer = cert(data["customer-system-admin-signer" if name == "admin-kubeconfig" else "root-ca"]["ca.crt"])
        cert(config["cert"]).verify_directly_issued_by(signer)


def test_api_server_certificate_names(data):
    dns_names, ips = sans(cert(data["kas-server-crt"]["tls.crt"]))
    assert {
        "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
        "kube-apiserver", f"kube-apiserver.{NAMESPACE}.svc", "localhost",
    } <= dns_names
    assert {"127.0.0.1", "172.31.0.1", HOST} <= ips
    assert usages(cert(data["kas-server-crt"]["tls.crt"])) == {ExtendedKeyUsageOID.SERVER_AUTH}


def test_konnectivity_certificates(hcp, data):
    signer = cert(data["konnectivity-signer"]["ca.crt"])
    assert signer.subject not in {cert(data[ca]["ca.crt"]).subject for ca in ("root-ca", "etcd-signer")}
    for name in ("konnectivity-cluster", "konnectivity-agent"):
        cert(data[name]["tls.crt"]).verify_directly_issued_by(signer)
        assert data[name]["ca.crt"] == data["konnectivity-signer"]["ca.crt"]
    dns_names, ips = sans(cert(data["konnectivity-cluster"]["tls.crt"]))
    assert dns_names == {"konnectivity-server", f"konnectivity-server.{NAMESPACE}.svc",
                         f"konnectivity-server.{NAMESPACE}.svc.cluster.local"}
    assert ips == set()
    assert usages(cert(data["konnectivity-cluster"]["tls.crt"])) == {ExtendedKeyUsageOID.SERVER_AUTH}
    agent = cert(data["konnectivity-agent"]["tls.crt"])
    assert subject(agent) == ("konnectivity-agent", [])
    assert usages(agent) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    published = as_existing(pki_secrets(NAMESPACE, hcp, HOST, {}, endpoint_port=PORT,
                                        konnectivity_host="konnectivity.example.com"))
    assert "konnectivity.example.com" in sans(cert(published["konnectivity-cluster"]["tls.crt"]))[0]


def test_aggregator_front_proxy_certificate(data):
    signer = cert(data["kas-aggregator-client-signer"]["ca.crt"])
    assert signer.subject != cert(data["root-ca"]["ca.crt"]).subject
    proxy = cert(data["kas-aggregator-crt"]["tls.crt"])
    proxy.verify_directly_issued_by(signer)
    assert subject(proxy) == ("front-proxy-client", [])
    assert usages(proxy) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    assert data["kas-aggregator-crt"]["ca.crt"] == data["kas-aggregator-client-signer"]["ca.crt"]


def test_the_first_service_ip_of_the_spec_network_is_in_the_api_server_certificate():
    secrets = as_existing(pki_secrets(NAMESPACE, make_hcp(HIGHLY_AVAILABLE), HOST, {}, endpoint_port=PORT))
    _, ips = sans(cert(secrets["kas-server-crt"]["tls.crt"]))
    assert "172.30.0.1" in ips


def test_etcd_certificate_names(data):
    server_dns, server_ips = sans(cert(data["etcd-server-tls"]["server.crt"]))
    assert {"etcd-client", f"etcd-client.{NAMESPACE}.svc", f"*.etcd-discovery.{NAMESPACE}.svc", "localhost"} <= (
        server_dns
    )
    assert "127.0.0.1" in server_ips
    peer_dns, _ = sans(cert(data["etcd-peer-tls"]["peer.crt"]))
    assert f"*.etcd-discovery.{NAMESPACE}.svc" in peer_dns
    both = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert usages(cert(data["etcd-server-tls"]["server.crt"])) == both
    assert usages(cert(data["etcd-peer-tls"]["peer.crt"])) == both
    assert usages(cert(data["etcd-client-tls"]["etcd-client.crt"])) == {ExtendedKeyUsageOID.CLIENT_AUTH}


def test_kubeconfig_users_and_servers(data):
    internal = f"https://kube-apiserver.{NAMESPACE}.svc:6443"
    expected = {
        "kube-controller-manager-kubeconfig": (internal, ("system:kube-controller-manager", [])),
        "kube-scheduler-kubeconfig": (internal, ("system:kube-scheduler", [])),
        "admin-kubeconfig": (f"https://{HOST}:{PORT}", ("system:admin", ["system:masters"])),
    }
    for name, (server, user) in expected.items():
        config = kubeconfig(data[name]["kubeconfig"])
        assert config["server"] == server
        assert subject(cert(config["cert"])) == user
    # Prometheus's: upstream's monitoring group, which may read /metrics and nothing else.
    assert subject(cert(data["metrics-client"]["tls.crt"])) == ("system:hcp:metrics", ["system:monitoring"])
    # Its own user, in no group: the hosted cluster's RBAC grants it the kubelet API and nothing more.
    assert subject(cert(data["kas-kubelet-client-crt"]["tls.crt"])) == ("kube-apiserver-kubelet-client", [])


def test_a_certificate_issued_for_other_groups_is_reissued(hcp, data):
    """A kubelet client certificate minted before the identity was narrowed (in system:masters) is replaced."""
    root = KeyPair(data["root-ca"]["ca.crt"], data["root-ca"]["ca.key"])
    old = issue(root, "kube-apiserver-kubelet-client", organizations=("system:masters",), client=True)
    existing = {**data, "kas-kubelet-client-crt": {**data["kas-kubelet-client-crt"], "tls.crt": old.cert_pem,
                                                   "tls.key": old.key_pem}}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(existing, after) == {"kas-kubelet-client-crt"}
    assert subject(cert(after["kas-kubelet-client-crt"]["tls.crt"])) == ("kube-apiserver-kubelet-client", [])


def test_service_account_key_pair_matches(data):
    private = serialization.load_pem_private_key(data["sa-signing-key"]["service-account.key"], password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public == data["sa-signing-key"]["service-account.pub"]


# Real TLS handshakes (in memory) with the minted material.


def handshake(
    tmp_path: Path,
    server: tuple[bytes, bytes],
    trusted_ca: bytes,
    hostname: str,
    client: tuple[bytes, bytes] | None = None,
    client_ca: bytes | None = None,
) -> None:
    """Complete a TLS handshake between a server and a client context, or raise ssl.SSLError."""

    def write(name: str, pem: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(pem)
        return str(path)

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(write("server.crt", server[0]), write("server.key", server[1]))
    if client_ca:
        server_context.verify_mode = ssl.CERT_REQUIRED
        server_context.load_verify_locations(cadata=client_ca.decode())
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(cadata=trusted_ca.decode())
    if client:
        client_context.load_cert_chain(write("client.crt", client[0]), write("client.key", client[1]))

    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_end = client_context.wrap_bio(to_client, to_server, server_hostname=hostname)
    server_end = server_context.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, end in (("client", client_end), ("server", server_end)):
            if done[name]:
                continue
            try:
                end.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
        server_in.write(to_server.read())
        to_client.write(server_out.read())
        if all(done.values()):
            # TLS 1.3: the server judges the client certificate after the client is done.
            server_in.write(to_server.read())
            return
    raise AssertionError(f"the handshake did not finish: {done}")


def test_api_server_tls_for_every_name_clients_use(tmp_path, data):
    root = data["root-ca"]["ca.crt"]
    server = (data["kas-server-crt"]["tls.crt"], data["kas-server-crt"]["tls.key"])
    admin = kubeconfig(data["admin-kubeconfig"]["kubeconfig"])
    bundle = client_ca_bundle(root, [data["customer-system-admin-signer"]["ca.crt"]]).encode()
    for hostname in (HOST, f"kube-apiserver.{NAMESPACE}.svc", "kubernetes.default.svc", "172.31.0.1", "localhost"):
        handshake(tmp_path, server, root, hostname, client=(admin["cert"], admin["key"]), client_ca=bundle)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path, server, root, "elsewhere.example.com")


def test_etcd_tls_for_clients_and_peers(tmp_path, data):
    ca = data["etcd-signer"]["ca.crt"]
    client = (data["etcd-client-tls"]["etcd-client.crt"], data["etcd-client-tls"]["etcd-client.key"])
    server = (data["etcd-server-tls"]["server.crt"], data["etcd-server-tls"]["server.key"])
    for hostname in (f"etcd-client.{NAMESPACE}.svc", "etcd-client", "localhost", "127.0.0.1",
                     f"etcd-1.etcd-discovery.{NAMESPACE}.svc"):
        handshake(tmp_path, server, ca, hostname, client=client, client_ca=ca)
    peer = (data["etcd-peer-tls"]["peer.crt"], data["etcd-peer-tls"]["peer.key"])
    handshake(tmp_path, peer, ca, f"etcd-2.etcd-discovery.{NAMESPACE}.svc", client=peer, client_ca=ca)


def test_a_client_of_another_ca_is_refused(tmp_path, data):
    server = (data["etcd-server-tls"]["server.crt"], data["etcd-server-tls"]["server.key"])
    stranger = kubeconfig(data["admin-kubeconfig"]["kubeconfig"])  # signed by the root CA, not etcd's
    with pytest.raises(ssl.SSLError):
        handshake(tmp_path, server, data["etcd-signer"]["ca.crt"], "localhost",
                  client=(stranger["cert"], stranger["key"]), client_ca=data["etcd-signer"]["ca.crt"])


def test_konnectivity_agent_and_server_tls(tmp_path, hcp, data):
    """What the agent checks (the server's name, the published host) and what the server checks (the agent's CA)."""
    published = as_existing(pki_secrets(NAMESPACE, hcp, HOST, data, endpoint_port=PORT,
                                        konnectivity_host=KONNECTIVITY_HOST))
    ca = published["konnectivity-signer"]["ca.crt"]
    server = (published["konnectivity-cluster"]["tls.crt"], published["konnectivity-cluster"]["tls.key"])
    agent = (published["konnectivity-agent"]["tls.crt"], published["konnectivity-agent"]["tls.key"])
    for hostname in (KONNECTIVITY_HOST, f"konnectivity-server.{NAMESPACE}.svc"):
        handshake(tmp_path, server, ca, hostname, client=agent, client_ca=ca)
    stranger = kubeconfig(data["admin-kubeconfig"]["kubeconfig"])  # a hosted-cluster admin is no agent
    with pytest.raises(ssl.SSLError):
        handshake(tmp_path, server, ca, KONNECTIVITY_HOST, client=(stranger["cert"], stranger["key"]), client_ca=ca)


def test_ips_in_sans_are_real_addresses(data):
    _, ips = sans(cert(data["kas-server-crt"]["tls.crt"]))
    for ip in ips:
        ipaddress.ip_address(ip)


# Renewal at two thirds of a leaf's life, and the validity annotation.

T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
MINUTES_3 = datetime.timedelta(minutes=3)
CAS = {"root-ca", "etcd-signer", "kas-aggregator-client-signer", "konnectivity-signer", "customer-system-admin-signer"}
LEAVES_AND_KUBECONFIGS = set(NAMES) - CAS - {"sa-signing-key"}


@pytest.fixture(scope="module")
def short_lived(hcp) -> dict[str, dict[str, bytes]]:
    """Everything issued at T0, leaves valid for 3 minutes (renewal due at T0 + 114 s)."""
    return as_existing(pki_secrets(NAMESPACE, hcp, HOST, {}, endpoint_port=PORT, validity=MINUTES_3, now=T0))


def test_leaves_are_issued_for_the_validity_asked_and_cas_for_ten_years(short_lived):
    leaf = cert(short_lived["kas-server-crt"]["tls.crt"])
    assert leaf.not_valid_after_utc == T0 + MINUTES_3
    client = cert(kubeconfig(short_lived["admin-kubeconfig"]["kubeconfig"])["cert"])
    assert client.not_valid_after_utc == T0 + MINUTES_3
    root = cert(short_lived["root-ca"]["ca.crt"])
    assert root.not_valid_after_utc - root.not_valid_before_utc > datetime.timedelta(days=3649)


def test_young_leaves_are_kept(hcp, short_lived):
    later = T0 + datetime.timedelta(seconds=113)
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, short_lived, endpoint_port=PORT,
                                    validity=MINUTES_3, now=later))
    assert after == short_lived


def test_leaves_past_two_thirds_of_their_life_are_renewed_under_the_same_cas(hcp, short_lived):
    later = T0 + datetime.timedelta(seconds=114)
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, short_lived, endpoint_port=PORT,
                                    validity=MINUTES_3, now=later))
    assert changed(short_lived, after) == LEAVES_AND_KUBECONFIGS
    assert cert(after["etcd-server-tls"]["server.crt"]).not_valid_after_utc == later + MINUTES_3
    cert(after["kas-server-crt"]["tls.crt"]).verify_directly_issued_by(cert(short_lived["root-ca"]["ca.crt"]))
    assert kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["ca"] == short_lived["root-ca"]["ca.crt"]


def test_only_the_leaf_that_is_due_is_renewed(hcp, short_lived):
    later = T0 + datetime.timedelta(minutes=2)
    renewed = as_existing(pki_secrets(NAMESPACE, hcp, HOST, short_lived, endpoint_port=PORT,
                                      validity=MINUTES_3, now=later))
    existing = {**renewed, "etcd-client-tls": short_lived["etcd-client-tls"],
                "kube-scheduler-kubeconfig": short_lived["kube-scheduler-kubeconfig"]}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT,
                                    validity=MINUTES_3, now=later + datetime.timedelta(seconds=30)))
    assert changed(existing, after) == {"etcd-client-tls", "kube-scheduler-kubeconfig"}


def test_the_ignition_server_certificate_is_renewed_for_the_key_join_commands_pin(hcp, short_lived):
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, short_lived, endpoint_port=PORT,
                                    validity=MINUTES_3, now=T0 + datetime.timedelta(minutes=2)))
    assert after["ignition-server-tls"]["tls.crt"] != short_lived["ignition-server-tls"]["tls.crt"]
    assert after["ignition-server-tls"]["tls.key"] == short_lived["ignition-server-tls"]["tls.key"]
    assert after["kas-server-crt"]["tls.key"] != short_lived["kas-server-crt"]["tls.key"]


def test_a_shorter_validity_reissues_longer_lived_leaves_at_once(hcp):
    year = as_existing(pki_secrets(NAMESPACE, hcp, HOST, {}, endpoint_port=PORT, now=T0))
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, year, endpoint_port=PORT,
                                    validity=datetime.timedelta(minutes=10), now=T0))
    assert changed(year, after) == LEAVES_AND_KUBECONFIGS
    # A longer one waits for the renewal.
    assert pki_secrets(NAMESPACE, hcp, HOST, after, endpoint_port=PORT,
                       validity=datetime.timedelta(days=730), now=T0) == \
        pki_secrets(NAMESPACE, hcp, HOST, after, endpoint_port=PORT, validity=datetime.timedelta(minutes=10), now=T0)


def test_earliest_renewal_is_that_of_the_first_leaf_due_and_ignores_cas(hcp, short_lived):
    secrets = pki_secrets(NAMESPACE, hcp, HOST, short_lived, endpoint_port=PORT, validity=MINUTES_3, now=T0)
    assert earliest_renewal(secrets) == T0 + datetime.timedelta(seconds=114)
    only_kubeconfig = [s for s in secrets if s["metadata"]["name"] in ("root-ca", "admin-kubeconfig")]
    assert earliest_renewal(only_kubeconfig) == T0 + datetime.timedelta(seconds=114)
    assert earliest_renewal([s for s in secrets if s["metadata"]["name"] in CAS | {"sa-signing-key"}]) is None


def test_fingerprints_are_a_digest_per_key(first):
    digests = fingerprints(first)
    assert set(digests) == set(NAMES)
    assert set(digests["kas-server-crt"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert digests["kas-server-crt"]["tls.crt"] == hashlib.sha256(secret_data(first[NAMES.index("kas-server-crt")])["tls.crt"]).hexdigest()


def annotated(value: str | None):
    document = copy.deepcopy(SINGLE_REPLICA)
    if value is not None:
        document["metadata"]["annotations"] = {"hcp.io/certificate-validity": value}
    return make_hcp(document)


@pytest.mark.parametrize(("value", "validity"), [
    (None, datetime.timedelta(days=365)),
    ("10m", datetime.timedelta(minutes=10)),
    ("8760h", datetime.timedelta(days=365)),
    ("1h30m", datetime.timedelta(minutes=90)),
    ("2m", datetime.timedelta(minutes=2)),
])
def test_the_validity_annotation(value, validity):
    assert certificate_validity(annotated(value)) == (validity, "")


@pytest.mark.parametrize(("value", "problem"), [
    ("ten minutes", "is not a duration"),
    ("", "is not a duration"),
    ("90s", "outside 0h2m0s..87600h0m0s"),
    ("-10m", "outside"),
    ("100000h", "outside"),
])
def test_an_invalid_validity_annotation_is_ignored_and_said_why(value, problem):
    validity, message = certificate_validity(annotated(value))
    assert validity == datetime.timedelta(days=365)
    assert "annotation hcp.io/certificate-validity ignored" in message
    assert problem in message
    assert message.endswith("certificates are valid for the default 8760h0m0s")


# The break-glass signer (hcp.controlplane.revocation replaces it; pki re-issues what it signed).


def test_the_admin_kubeconfig_is_signed_by_the_break_glass_signer_and_nothing_else_is(data):
    signer = data["customer-system-admin-signer"]["ca.crt"]
    admin = kubeconfig(data["admin-kubeconfig"]["kubeconfig"])
    assert issued_by(admin["cert"], signer)
    assert not issued_by(admin["cert"], data["root-ca"]["ca.crt"])
    for name in ("kube-controller-manager-kubeconfig", "kube-scheduler-kubeconfig", "kwok-kubeconfig"):
        assert not issued_by(kubeconfig(data[name]["kubeconfig"])["cert"], signer)


def test_an_admin_kubeconfig_of_the_root_ca_is_reissued_by_the_break_glass_signer(hcp, data):
    """Clusters made before the break-glass signer migrate: only their admin kubeconfig is re-issued."""
    root = KeyPair(data["root-ca"]["ca.crt"], data["root-ca"]["ca.key"])
    old = issue(root, "system:admin", organizations=("system:masters",), client=True)
    document = render_kubeconfig(cluster="c", server=f"https://{HOST}:{PORT}", ca_pem=root.cert_pem,
                                 user="system:admin", credentials=old)
    existing = {name: value for name, value in data.items() if name != "customer-system-admin-signer"}
    existing["admin-kubeconfig"] = {"kubeconfig": document.encode()}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(existing, after) == {"customer-system-admin-signer", "admin-kubeconfig"}
    assert issued_by(kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["cert"],
                     after["customer-system-admin-signer"]["ca.crt"])


def test_a_new_break_glass_signer_reissues_only_the_admin_kubeconfig(hcp, data):
    fresh = new_ca("customer-system-admin-signer")
    existing = {**data, "customer-system-admin-signer": {"ca.crt": fresh.cert_pem, "ca.key": fresh.key_pem}}
    after = as_existing(pki_secrets(NAMESPACE, hcp, HOST, existing, endpoint_port=PORT))
    assert changed(existing, after) == {"admin-kubeconfig"}
    assert issued_by(kubeconfig(after["admin-kubeconfig"]["kubeconfig"])["cert"], fresh.cert_pem)


def test_the_client_ca_bundle_is_the_root_ca_then_each_break_glass_signer_once():
    root, one, two = (new_ca(name).cert_pem for name in ("root-ca", "a", "b"))
    bundle = client_ca_bundle(root, [one, two, one])
    assert bundle.encode() == root + one + two
    assert client_ca_bundle(root, []).encode() == root
    assert client_ca_bundle(root, [root.rstrip()]).encode() == root
