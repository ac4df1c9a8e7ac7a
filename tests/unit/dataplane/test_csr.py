"""Kubelet serving CSRs, made with `cryptography` as a kubelet makes them, approved only for the node's own names."""

from __future__ import annotations

import base64
import ipaddress
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from hcp.dataplane.csr import NODE_WAIT, Action, requesting_node, serving_verdict

NOW = datetime(2030, 1, 1, tzinfo=UTC)
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "worker-1"},
    "status": {"addresses": [
        {"type": "InternalIP", "address": "10.0.0.5"},
        {"type": "InternalIP", "address": "fd00::5"},
        {"type": "ExternalIP", "address": "203.0.113.5"},
        {"type": "Hostname", "address": "worker-1"},
        {"type": "InternalDNS", "address": "worker-1.lan"},
    ]},
}
_KEY = ec.generate_private_key(ec.SECP256R1())


def request_pem(common_name: str = "system:node:worker-1", organizations: tuple[str, ...] = ("system:nodes",),
                dns: tuple[str, ...] = ("worker-1",), ips: tuple[str, ...] = ("10.0.0.5",),
                others: tuple[x509.GeneralName, ...] = (), key: Any = _KEY) -> bytes:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips] + list(others)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def csr(pem: bytes | None = None, *, user: str = "system:node:worker-1",
        groups: tuple[str, ...] = ("system:nodes", "system:authenticated"),
        signer: str = "kubernetes.io/kubelet-serving",
        usages: tuple[str, ...] = ("digital signature", "server auth"),
        created: datetime = NOW, conditions: tuple[dict, ...] = ()) -> dict[str, Any]:
    """A CertificateSigningRequest as the API server returns it (the requester's fields filled in by it)."""
    body: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "csr-abcde", "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "spec": {
            "request": base64.b64encode(pem if pem is not None else request_pem()).decode(),
            "signerName": signer,
            "usages": list(usages),
            "username": user,
            "groups": list(groups),
        },
    }
    if conditions:
        body["status"] = {"conditions": list(conditions)}
    return body


def verdict(body: dict[str, Any], node: dict[str, Any] | None = NODE, now: datetime = NOW):
    return serving_verdict(body, node, now)


def test_a_node_asking_for_its_own_addresses_is_approved():
    result = verdict(csr())
    assert result.action == Action.APPROVE
    assert result.reason == "AutoApproved"
    assert "worker-1" in result.message


def test_every_address_type_of_the_node_may_be_named():
    pem = request_pem(dns=("worker-1", "WORKER-1.lan"), ips=("10.0.0.5", "fd00:0::5", "203.0.113.5"))
    assert verdict(csr(pem)).action == Action.APPROVE


def test_an_rsa_key_with_key_encipherment_is_approved():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = csr(request_pem(key=key), usages=("digital signature", "key encipherment", "server auth"))
    assert verdict(body).action == Action.APPROVE


@pytest.mark.parametrize(
    ("pem_args", "reason", "quoted"),
    [
        ({"dns": ("worker-1", "evil.example.com")}, "UnknownSAN", "evil.example.com"),
        ({"ips": ("10.0.0.5", "10.9.9.9")}, "UnknownSAN", "10.9.9.9"),
        ({"dns": ("worker-2",)}, "UnknownSAN", "worker-2"),
        ({"dns": ("10.0.0.5",), "ips": ()}, "UnknownSAN", "10.0.0.5"),  # an IP is not a DNS name
        ({"common_name": "system:node:worker-2"}, "SubjectMismatch", "system:node:worker-2"),
        ({"organizations": ("system:masters",)}, "SubjectMismatch", "system:masters"),
        ({"organizations": ("system:nodes", "system:masters")}, "SubjectMismatch", "system:masters"),
        ({"dns": (), "ips": ()}, "InvalidSANs", "at least one"),
        ({"others": (x509.RFC822Name("root@worker-1"),)}, "InvalidSANs", "root@worker-1"),
        ({"others": (x509.UniformResourceIdentifier("spiffe://cluster/ns/x"),)}, "InvalidSANs", "spiffe://"),
    ],
)
def test_a_node_asking_for_more_than_itself_is_denied_with_the_reason(pem_args, reason, quoted):
    result = verdict(csr(request_pem(**pem_args)))
    assert result.action == Action.DENY
    assert result.reason == reason
    assert quoted in result.message


@pytest.mark.parametrize(
    "usages",
    [("digital signature", "server auth", "client auth"), ("server auth",), ("digital signature", "client auth"),
     ("digital signature", "key encipherment", "server auth", "cert sign"), ()],
)
def test_other_usages_are_denied(usages):
    result = verdict(csr(usages=usages))
    assert (result.action, result.reason) == (Action.DENY, "InvalidUsages")


def test_a_request_that_is_not_a_certificate_request_is_denied():
    result = verdict(csr(b"-----BEGIN CERTIFICATE REQUEST-----\nbm9uc2Vuc2U=\n-----END CERTIFICATE REQUEST-----\n"))
    assert (result.action, result.reason) == (Action.DENY, "InvalidRequest")


def test_a_node_that_has_not_reported_addresses_yet_is_waited_for_then_denied():
    no_addresses = {**NODE, "status": {}}
    for node, reason in ((None, "NodeNotFound"), (no_addresses, "NodeHasNoAddresses")):
        waiting = verdict(csr(), node)
        assert waiting.action == Action.WAIT
        late = verdict(csr(), node, NOW + NODE_WAIT)
        assert (late.action, late.reason) == (Action.DENY, reason)


@pytest.mark.parametrize(
    "body",
    [
        csr(signer="kubernetes.io/kube-apiserver-client-kubelet", usages=("digital signature", "client auth")),
        csr(user="kubernetes-admin", groups=("system:masters",)),
        csr(user="system:node:worker-1", groups=("system:authenticated",)),
        csr(user="system:bootstrap:abcdef", groups=("system:bootstrappers",)),
        csr(conditions=({"type": "Approved", "status": "True", "reason": "ByHand"},)),
        csr(conditions=({"type": "Denied", "status": "True", "reason": "ByHand"},)),
    ],
    ids=["client-signer", "admin", "not-in-system-nodes", "bootstrap-token", "approved", "denied"],
)
def test_what_is_not_a_nodes_pending_serving_request_is_left_alone(body):
    assert requesting_node(body) is None
    assert verdict(body) is None


def test_the_requesting_node_is_the_user_name():
    assert requesting_node(csr()) == "worker-1"
