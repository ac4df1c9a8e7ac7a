"""Which kubelet serving certificates to approve: a node may have a certificate for its own addresses only.

A kubelet with serverTLSBootstrap asks for its serving certificate with a CSR
of signer kubernetes.io/kubelet-serving; kube-controller-manager signs it with
the cluster signer once approved, and the API server verifies it with
--kubelet-certificate-authority. Nothing upstream approves these (a node could
otherwise claim any name), so hcp does, as OpenShift's machine approver does:
approved when the requester is the node the certificate names and every DNS
and IP name in it is one of that Node's addresses; denied, with a reason, when
a node asks for something else. Requests from anyone but a node are left to a
human. While the Node has not reported its addresses yet the request waits,
for NODE_WAIT at most.

`serving_verdict` is pure: it reads a CSR and its Node as the API returns them.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
SERVING_USAGES = (
    frozenset({"digital signature", "key encipherment", "server auth"}),
    frozenset({"digital signature", "server auth"}),
)
"""The usage sets upstream's kubelet-serving signer accepts (key encipherment only matters for RSA keys)."""
NODE_WAIT = timedelta(minutes=10)
"""How long a request waits for its Node to exist and report addresses before it is denied."""
DNS_ADDRESS_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")
IP_ADDRESS_TYPES = ("InternalIP", "ExternalIP")
APPROVED_REASON = "AutoApproved"


class Action(StrEnum):
    APPROVE = "Approve"
    DENY = "Deny"
    WAIT = "Wait"


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str
    """CamelCase, for the CSR's Approved/Denied condition."""
    message: str


def decided(csr: Mapping[str, Any]) -> bool:
    """Whether the CSR has been approved or denied already (by anyone)."""
    conditions = (csr.get("status") or {}).get("conditions") or ()
    return any(c.get("type") in ("Approved", "Denied") for c in conditions)


def requesting_node(csr: Mapping[str, Any]) -> str | None:
    """The node name, if this is an undecided kubelet-serving request made by a node; else None (not ours)."""
    spec = csr.get("spec") or {}
    if spec.get("signerName") != KUBELET_SERVING_SIGNER or decided(csr):
        return None
    username = spec.get("username") or ""
    if not username.startswith(NODE_USER_PREFIX) or NODES_GROUP not in (spec.get("groups") or ()):
        return None
    return username.removeprefix(NODE_USER_PREFIX) or None


def serving_verdict(csr: Mapping[str, Any], node: Mapping[str, Any] | None, now: datetime) -> Verdict | None:
    """Approve, deny or wait on a kubelet-serving request made by a node; None if the CSR is not one.

    `node` is the Node the requester is (None if it does not exist).
    """
    node_name = requesting_node(csr)
    if node_name is None:
        return None
    spec = csr["spec"]
    user = spec["username"]

    def deny(reason: str, message: str) -> Verdict:
        return Verdict(Action.DENY, reason, f"hcp: {message}")

    try:
        request = x509.load_pem_x509_csr(base64.b64decode(spec.get("request") or ""))
    except ValueError as error:
        return deny("InvalidRequest", f"spec.request is not a PEM certificate request: {error}")
    common_names = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    organizations = [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if common_names != [user] or organizations != [NODES_GROUP]:
        return deny("SubjectMismatch",
                    f"a node may ask only for its own name: the subject must be CN={user}, O={NODES_GROUP}, "
                    f"not CN={','.join(common_names)}, O={','.join(organizations)}")
    usages = spec.get("usages") or []
    if frozenset(usages) not in SERVING_USAGES:
        return deny("InvalidUsages", f"usages must be digital signature and server auth (and key encipherment, "
                                     f"optionally), not {', '.join(usages) or 'none'}")
    try:
        names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])
    except ValueError as error:
        return deny("InvalidRequest", f"its subject alternative names cannot be read: {error}")
    dns_names = names.get_values_for_type(x509.DNSName)
    ips = names.get_values_for_type(x509.IPAddress)
    others = [n for n in names if not isinstance(n, x509.DNSName | x509.IPAddress)]
    if others:
        return deny("InvalidSANs", "a serving certificate may name DNS names and IP addresses only, "
                                   f"not {', '.join(str(n.value) for n in others)}")
    if not dns_names and not ips:
        return deny("InvalidSANs", "a serving certificate must name at least one DNS name or IP address")

    addresses = ((node or {}).get("status") or {}).get("addresses") or []
    if not addresses:
        created = _created(csr)
        what = f"Node {node_name} does not exist" if node is None else f"Node {node_name} has no addresses"
        if created is not None and now - created >= NODE_WAIT:
            return deny("NodeNotFound" if node is None else "NodeHasNoAddresses",
                        f"{what} after {int(NODE_WAIT.total_seconds() // 60)} minutes")
        return Verdict(Action.WAIT, "WaitingForNode", f"{what} yet")
    known_dns = {a["address"].lower() for a in addresses if a.get("type") in DNS_ADDRESS_TYPES and a.get("address")}
    known_ips = {ip for a in addresses if a.get("type") in IP_ADDRESS_TYPES and (ip := _ip(a.get("address")))}
    foreign = [d for d in dns_names if d.lower() not in known_dns] + [str(ip) for ip in ips if ip not in known_ips]
    if foreign:
        return deny("UnknownSAN", f"{', '.join(foreign)} {'is' if len(foreign) == 1 else 'are'} not among the "
                                  f"addresses of Node {node_name}")
    return Verdict(Action.APPROVE, APPROVED_REASON,
                   f"hcp: every name in the certificate is an address of Node {node_name}")


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value or "")
    except ValueError:
        return None


def _created(csr: Mapping[str, Any]) -> datetime | None:
    value = (csr.get("metadata") or {}).get("creationTimestamp")
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
