"""The hosted cluster's PKI, kept as Secrets in the control-plane namespace.

`pki_secrets` is given what already exists and mints only what is missing or no
longer fits, so certificates are issued once and kept across passes and
operator restarts. Secret names and keys are HyperShift's:

    root-ca                 ca.crt ca.key       signs the API server's certificates and every client
                                                of the hosted API but the break-glass ones; also
                                                kube-controller-manager's CSR signer
    customer-system-admin-signer  ca.crt ca.key the customer-break-glass signer (HyperShift's name): signs
                                                the admin kubeconfig and `hcp create kubeconfig --ttl`
                                                only, so that a CertificateRevocationRequest can replace
                                                it, and revoke all it signed, without touching any other
                                                credential (hcp.controlplane.revocation)
    etcd-signer             ca.crt ca.key       signs etcd's certificates
    etcd-server-tls         server.crt server.key server-ca.crt
    etcd-peer-tls           peer.crt peer.key peer-ca.crt
    etcd-client-tls         etcd-client.crt etcd-client.key etcd-client-ca.crt
    kas-server-crt          tls.crt tls.key     the API server's serving certificate
    metrics-client          tls.crt tls.key ca.crt  Prometheus's client certificate (group system:monitoring)
                                                for the API server's and the controllers' /metrics
    etcd-metrics-client-tls etcd-client.crt etcd-client.key etcd-client-ca.crt  Prometheus's towards etcd
    kcm-server, kube-scheduler-server  tls.crt tls.key ca.crt  the controllers' serving certificates (their
                                                Services' names), so that scrapes verify them
    kas-kubelet-client-crt  tls.crt tls.key     the API server's client certificate for kubelets (user
                                                kube-apiserver-kubelet-client, in no group: hcp.dataplane
                                                binds it to system:kubelet-api-admin in the hosted cluster)
    kas-aggregator-client-signer  ca.crt ca.key the aggregation layer's (front-proxy) CA: aggregated API
                                                servers trust any user the API server names in request
                                                headers under a certificate of this CA, so it signs
                                                nothing else
    kas-aggregator-crt      tls.crt tls.key     the API server's front-proxy client certificate
                                                (user front-proxy-client, kubeadm's name)
    konnectivity-signer     ca.crt ca.key       signs konnectivity's certificates only: an agent's
                                                certificate is worth nothing against the hosted API,
                                                and no client of the hosted API can pose as an agent
    konnectivity-cluster    tls.crt tls.key     the konnectivity server's certificate for agents (SANs:
                                                its Service and the published Konnectivity host)
    konnectivity-agent      tls.crt tls.key     the agents' client certificate, copied into the hosted
                                                cluster (kube-system) by the data plane
    sa-signing-key          service-account.key service-account.pub
    kube-controller-manager-kubeconfig, kube-scheduler-kubeconfig   kubeconfig (in-cluster Service URL)
    kwok-kubeconfig         kubeconfig          kwok, on the KWOK platform only (in-cluster Service URL)
    admin-kubeconfig        kubeconfig          system:admin (group system:masters) at the published
                                                endpoint, signed by customer-system-admin-signer
                                                (name and key from spec.kubeconfig when set)

The API server's --client-ca-file is the ConfigMap total-client-ca (HyperShift's
name), key ca-bundle.crt: root-ca and the break-glass signers trusted now
(`client_ca_bundle`). It is a ConfigMap mounted whole, which the kubelet
refreshes in place and the API server re-reads without a restart.

A kept Secret must still be usable: every key present, its certificate issued
by the current CA and matching its key, its subject (user and groups) and SANs
what is wanted now, and a kubeconfig pointing at the wanted server. That is how a change of the
published endpoint re-issues exactly kas-server-crt and admin-kubeconfig.

Renewal: a leaf certificate or a kubeconfig's client certificate is also no
longer usable once two thirds of its life have passed (`hcp.pki.certs.renew_at`),
or when it was issued for longer than the validity wanted now, so that
shortening the validity takes effect at once. Leaves are valid for
`certificate_validity(hcp)`: the annotation hcp.io/certificate-validity, else
LEAF_VALIDITY (365 days). `earliest_renewal` says when the next one is due, for
the controller to come back then. CAs are never renewed (ten years; rotating
one is the manual procedure of docs/configuration.md, "CA rotation"). The ignition server's
certificate is renewed for the same key: join commands pin that key.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hcp.api import HostedControlPlane
from hcp.api.names import CERTIFICATE_VALIDITY_ANNOTATION
from hcp.api.types import parse_duration
from hcp.api.v1beta1.platform import PlatformType
from hcp.controlplane.context import Endpoint, first_service_ips, is_ip
from hcp.controlplane.labels import stamp
from hcp.pki import KeyPair, issue, kubeconfig, new_ca, new_service_account_key, renew_at
from hcp.pki.certs import CA_VALIDITY, CLOCK_SKEW, LEAF_VALIDITY

# Secret names.
ROOT_CA = "root-ca"
ETCD_SIGNER = "etcd-signer"
ETCD_SERVER_TLS = "etcd-server-tls"
ETCD_PEER_TLS = "etcd-peer-tls"
ETCD_CLIENT_TLS = "etcd-client-tls"
KAS_SERVER_CRT = "kas-server-crt"
KAS_KUBELET_CLIENT_CRT = "kas-kubelet-client-crt"
AGGREGATOR_CLIENT_SIGNER = "kas-aggregator-client-signer"
KAS_AGGREGATOR_CRT = "kas-aggregator-crt"
KONNECTIVITY_SIGNER = "konnectivity-signer"
KONNECTIVITY_CLUSTER = "konnectivity-cluster"
KONNECTIVITY_AGENT = "konnectivity-agent"
IGNITION_SERVER_TLS = "ignition-server-tls"
METRICS_SERVER_CRT = "metrics-server-crt"
METRICS_CLIENT = "metrics-client"
"""Prometheus's client certificate towards the hosted API server and the controllers (HyperShift's name)."""
ETCD_METRICS_CLIENT_TLS = "etcd-metrics-client-tls"
"""Prometheus's client certificate towards etcd (HyperShift's name and keys)."""
KCM_SERVER = "kcm-server"
SCHEDULER_SERVER = "kube-scheduler-server"
"""Serving certificates of the controllers' secure ports, so that a scrape verifies them (HyperShift's names)."""
SA_SIGNING_KEY = "sa-signing-key"
KCM_KUBECONFIG = "kube-controller-manager-kubeconfig"
SCHEDULER_KUBECONFIG = "kube-scheduler-kubeconfig"
KWOK_KUBECONFIG = "kwok-kubeconfig"
ADMIN_KUBECONFIG = "admin-kubeconfig"
BREAK_GLASS_SIGNER = "customer-system-admin-signer"
"""The customer-break-glass signer's Secret (HyperShift's name)."""
TOTAL_CLIENT_CA = "total-client-ca"
"""The API server's client CA bundle, a ConfigMap (HyperShift's name); key CLIENT_CA_BUNDLE_KEY."""
CLIENT_CA_BUNDLE_KEY = "ca-bundle.crt"
ADMIN_USER = "system:admin"
BREAK_GLASS_GROUP = "system:masters"
"""The group of break-glass credentials, as in HyperShift: they are for when nothing else works."""
BREAK_GLASS_USER_PREFIX = "system:customer-break-glass:"
"""HyperShift's user-name prefix for customer-break-glass credentials minted on request (`--ttl`)."""

KAS_KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"
"""The API server's user towards kubelets (kubeadm's name), in no group: kubelets authorize it through
the hosted cluster's RBAC, where hcp.dataplane binds it to system:kubelet-api-admin and nothing more."""
METRICS_CLIENT_USER = "system:hcp:metrics"
METRICS_CLIENT_GROUP = "system:monitoring"
"""Upstream Kubernetes' group for monitoring (bootstrap ClusterRole and ClusterRoleBinding system:monitoring):
/metrics, /livez, /readyz and nothing else, on the API server and, through its authorization, the controllers."""
AGGREGATOR_CLIENT_USER = "front-proxy-client"
"""The API server's user towards aggregated API servers (kubeadm's name); its --requestheader-allowed-names."""
KONNECTIVITY_AGENT_USER = "konnectivity-agent"
"""Subject of the agents' certificate; the server checks only that konnectivity-signer issued it."""

# Keys within them.
CA_CERT_KEY = "ca.crt"
CA_KEY_KEY = "ca.key"
TLS_CERT_KEY = "tls.crt"
TLS_KEY_KEY = "tls.key"
ETCD_SERVER_CERT_KEY, ETCD_SERVER_KEY_KEY, ETCD_SERVER_CA_KEY = "server.crt", "server.key", "server-ca.crt"
ETCD_PEER_CERT_KEY, ETCD_PEER_KEY_KEY, ETCD_PEER_CA_KEY = "peer.crt", "peer.key", "peer-ca.crt"
ETCD_CLIENT_CERT_KEY, ETCD_CLIENT_KEY_KEY, ETCD_CLIENT_CA_KEY = (
    "etcd-client.crt", "etcd-client.key", "etcd-client-ca.crt",
)
SA_PRIVATE_KEY = "service-account.key"
SA_PUBLIC_KEY = "service-account.pub"
KUBECONFIG_KEY = "kubeconfig"

KAS_SERVICE = "kube-apiserver"
KAS_PORT = 6443
ETCD_CLIENT_SERVICE = "etcd-client"
ETCD_DISCOVERY_SERVICE = "etcd-discovery"
KONNECTIVITY_SERVICE = "konnectivity-server"
KCM_SERVICE = "kube-controller-manager"
SCHEDULER_SERVICE = "kube-scheduler"
IGNITION_SERVICE = "ignition-server"
METRICS_SERVER_NAME = "metrics-server.kube-system.svc"
"""The hosted metrics-server Service as the aggregator dials it (it verifies this name against the root CA)."""
CLUSTER_DOMAIN = "cluster.local"


def kas_service_url(namespace: str) -> str:
    """How components inside the management cluster reach the hosted API server."""
    return f"https://{KAS_SERVICE}.{namespace}.svc:{KAS_PORT}"


def admin_kubeconfig_ref(hcp: HostedControlPlane) -> tuple[str, str]:
    """(Secret name, key) of the admin kubeconfig: spec.kubeconfig, or admin-kubeconfig/kubeconfig."""
    ref = hcp.spec.kubeconfig
    return (ref.name, ref.key) if ref else (ADMIN_KUBECONFIG, KUBECONFIG_KEY)


@dataclass(frozen=True)
class _Leaf:
    """A certificate signed by one of the CAs, with the keys it is stored under."""

    name: str
    signer: str
    common_name: str
    cert_key: str
    key_key: str
    ca_key: str | None = None
    organizations: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    server: bool = False
    client: bool = False
    keep_key: bool = False
    """Renewed for the key it has (clients pin the key), rather than a new one."""


@dataclass(frozen=True)
class _Kubeconfig:
    """A kubeconfig with an embedded client certificate signed by `signer` (the root CA unless said)."""

    name: str
    key: str
    user: str
    groups: tuple[str, ...]
    server: str
    signer: str = ROOT_CA


SIGNERS = (ROOT_CA, ETCD_SIGNER, AGGREGATOR_CLIENT_SIGNER, KONNECTIVITY_SIGNER, BREAK_GLASS_SIGNER)
"""The CAs, each its own Secret; a signer's name is also its certificate's common name."""


def _leaves(
    namespace: str, hcp: HostedControlPlane, endpoint: Endpoint, konnectivity_host: str | None,
    ignition_host: str | None = None,
) -> list[_Leaf]:
    svc = f"{namespace}.svc"
    etcd_server_names = (
        ETCD_CLIENT_SERVICE,
        f"{ETCD_CLIENT_SERVICE}.{svc}",
        f"{ETCD_CLIENT_SERVICE}.{svc}.{CLUSTER_DOMAIN}",
        # Members advertise https://etcd-N.etcd-discovery.<ns>.svc:2379 (`etcdctl ... --cluster`).
        f"*.{ETCD_DISCOVERY_SERVICE}.{svc}",
        f"*.{ETCD_DISCOVERY_SERVICE}.{svc}.{CLUSTER_DOMAIN}",
        "localhost",
    )
    etcd_peer_names = (f"*.{ETCD_DISCOVERY_SERVICE}.{svc}", f"*.{ETCD_DISCOVERY_SERVICE}.{svc}.{CLUSTER_DOMAIN}")
    kas_names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        KAS_SERVICE,
        f"{KAS_SERVICE}.{svc}",
        f"{KAS_SERVICE}.{svc}.{CLUSTER_DOMAIN}",
        "localhost",
    ]
    kas_ips = ["127.0.0.1", "::1", *first_service_ips(hcp)]
    (kas_ips if endpoint.host_is_ip else kas_names).append(endpoint.host)
    konnectivity_names = [KONNECTIVITY_SERVICE, f"{KONNECTIVITY_SERVICE}.{svc}",
                          f"{KONNECTIVITY_SERVICE}.{svc}.{CLUSTER_DOMAIN}"]
    konnectivity_ips: list[str] = []
    if konnectivity_host:
        (konnectivity_ips if is_ip(konnectivity_host) else konnectivity_names).append(konnectivity_host)
    ignition_names = [IGNITION_SERVICE, f"{IGNITION_SERVICE}.{svc}", f"{IGNITION_SERVICE}.{svc}.{CLUSTER_DOMAIN}"]
    ignition_ips: list[str] = []
    if ignition_host:
        (ignition_ips if is_ip(ignition_host) else ignition_names).append(ignition_host)
    return [
        _Leaf(ETCD_SERVER_TLS, ETCD_SIGNER, "etcd-server", ETCD_SERVER_CERT_KEY, ETCD_SERVER_KEY_KEY,
              ETCD_SERVER_CA_KEY, dns_names=etcd_server_names, ip_addresses=("127.0.0.1",),
              server=True, client=True),
        _Leaf(ETCD_PEER_TLS, ETCD_SIGNER, "etcd-discovery", ETCD_PEER_CERT_KEY, ETCD_PEER_KEY_KEY,
              ETCD_PEER_CA_KEY, dns_names=etcd_peer_names, server=True, client=True),
        _Leaf(ETCD_CLIENT_TLS, ETCD_SIGNER, "etcd-client", ETCD_CLIENT_CERT_KEY, ETCD_CLIENT_KEY_KEY,
              ETCD_CLIENT_CA_KEY, client=True),
        _Leaf(KAS_SERVER_CRT, ROOT_CA, "kubernetes", TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              organizations=("kubernetes",), dns_names=tuple(dict.fromkeys(kas_names)),
              ip_addresses=tuple(dict.fromkeys(kas_ips)), server=True),
        # Kubelets authorize the API server through the hosted cluster's RBAC (webhook authorization).
        # Not system:masters: a kubelet client key is then worth the kubelet API, not the whole cluster.
        _Leaf(KAS_KUBELET_CLIENT_CRT, ROOT_CA, KAS_KUBELET_CLIENT_USER, TLS_CERT_KEY, TLS_KEY_KEY,
              CA_CERT_KEY, client=True),
        _Leaf(KAS_AGGREGATOR_CRT, AGGREGATOR_CLIENT_SIGNER, AGGREGATOR_CLIENT_USER, TLS_CERT_KEY, TLS_KEY_KEY,
              CA_CERT_KEY, client=True),
        # ca.crt is also the server's --cluster-ca-cert: the CA of the agents' client certificates.
        _Leaf(KONNECTIVITY_CLUSTER, KONNECTIVITY_SIGNER, KONNECTIVITY_SERVICE, TLS_CERT_KEY, TLS_KEY_KEY,
              CA_CERT_KEY, dns_names=tuple(dict.fromkeys(konnectivity_names)),
              ip_addresses=tuple(konnectivity_ips), server=True),
        _Leaf(KONNECTIVITY_AGENT, KONNECTIVITY_SIGNER, KONNECTIVITY_AGENT_USER, TLS_CERT_KEY, TLS_KEY_KEY,
              CA_CERT_KEY, client=True),
        # Machines verify it by its key (the join command pins it), not by this CA, which they do not have yet.
        _Leaf(IGNITION_SERVER_TLS, ROOT_CA, IGNITION_SERVICE, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              dns_names=tuple(ignition_names), ip_addresses=tuple(ignition_ips), server=True, keep_key=True),
        # Prometheus's: the API server and the controllers authorize group system:monitoring to read /metrics;
        # etcd authorizes any certificate of its CA (it has no roles), so this one is as strong as etcd-client.
        _Leaf(METRICS_CLIENT, ROOT_CA, METRICS_CLIENT_USER, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              organizations=(METRICS_CLIENT_GROUP,), client=True),
        _Leaf(ETCD_METRICS_CLIENT_TLS, ETCD_SIGNER, "etcd-metrics-client", ETCD_CLIENT_CERT_KEY, ETCD_CLIENT_KEY_KEY,
              ETCD_CLIENT_CA_KEY, client=True),
        _Leaf(KCM_SERVER, ROOT_CA, KCM_SERVICE, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              dns_names=_service_names(KCM_SERVICE, svc), ip_addresses=("127.0.0.1",), server=True),
        _Leaf(SCHEDULER_SERVER, ROOT_CA, SCHEDULER_SERVICE, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              dns_names=_service_names(SCHEDULER_SERVICE, svc), ip_addresses=("127.0.0.1",), server=True),
        # Served by the hosted metrics-server; the aggregator checks it against the APIService's caBundle.
        _Leaf(METRICS_SERVER_CRT, ROOT_CA, METRICS_SERVER_NAME, TLS_CERT_KEY, TLS_KEY_KEY, CA_CERT_KEY,
              dns_names=(METRICS_SERVER_NAME,), server=True),
    ]


def _service_names(service: str, svc: str) -> tuple[str, ...]:
    """The names a Service of the control-plane namespace is reached by (`svc` is `<namespace>.svc`)."""
    return (service, f"{service}.{svc}", f"{service}.{svc}.{CLUSTER_DOMAIN}", "localhost")


def _kubeconfigs(namespace: str, hcp: HostedControlPlane, endpoint: Endpoint) -> list[_Kubeconfig]:
    internal = kas_service_url(namespace)
    admin_name, admin_key = admin_kubeconfig_ref(hcp)
    configs = [
        _Kubeconfig(KCM_KUBECONFIG, KUBECONFIG_KEY, "system:kube-controller-manager", (), internal),
        _Kubeconfig(SCHEDULER_KUBECONFIG, KUBECONFIG_KEY, "system:kube-scheduler", (), internal),
        # Signed by the break-glass signer, not the root CA: revoking it then revokes this kubeconfig alone.
        _Kubeconfig(admin_name, admin_key, ADMIN_USER, (BREAK_GLASS_GROUP,), endpoint.url, BREAK_GLASS_SIGNER),
    ]
    if hcp.spec.platform.type == PlatformType.KWOK:
        # kwok plays every simulated kubelet (node status, leases, pod status and deletion); like
        # kas-kubelet-client it is in system:masters, so it works before any RBAC is installed.
        configs.append(_Kubeconfig(KWOK_KUBECONFIG, KUBECONFIG_KEY, "system:kwok-controller",
                                   ("system:masters",), internal))
    return configs


MIN_CERTIFICATE_VALIDITY = datetime.timedelta(minutes=2)
"""The shortest validity the annotation may ask for: renewed files reach pods only after the kubelet
syncs their Secret volumes (about a minute), and the pods that read them once must then roll."""


def certificate_validity(hcp: HostedControlPlane) -> tuple[datetime.timedelta, str]:
    """How long leaf certificates are valid, and why the annotation was ignored ("" when it was not).

    The annotation hcp.io/certificate-validity is a Go duration between
    MIN_CERTIFICATE_VALIDITY and CA_VALIDITY; absent, or anything else, is LEAF_VALIDITY.
    """
    value = (hcp.metadata.annotations or {}).get(CERTIFICATE_VALIDITY_ANNOTATION)
    if value is None:
        return LEAF_VALIDITY, ""
    try:
        validity = parse_duration(value.strip())
    except ValueError as error:
        problem = str(error)
    else:
        if MIN_CERTIFICATE_VALIDITY <= validity <= CA_VALIDITY:
            return validity, ""
        problem = (f"{value!r} is outside {_go(MIN_CERTIFICATE_VALIDITY)}..{_go(CA_VALIDITY)} "
                   f"(the CAs' validity)")
    return LEAF_VALIDITY, (f"annotation {CERTIFICATE_VALIDITY_ANNOTATION} ignored: {problem}; "
                           f"certificates are valid for the default {_go(LEAF_VALIDITY)}")


def _go(duration: datetime.timedelta) -> str:
    """A whole-second duration as Go prints it, with hours as the largest unit ("8760h0m0s")."""
    seconds = int(duration.total_seconds())
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


def pki_secrets(
    namespace: str,
    hcp: HostedControlPlane,
    endpoint_host: str,
    existing: Mapping[str, Mapping[str, bytes]],
    *,
    endpoint_port: int,
    konnectivity_host: str | None = None,
    ignition_host: str | None = None,
    validity: datetime.timedelta = LEAF_VALIDITY,
    now: datetime.datetime | None = None,
) -> list[dict[str, Any]]:
    """Every PKI Secret of the control plane: `existing` data where still usable, freshly minted otherwise.

    `existing` maps Secret names to their decoded data (see `secret_data`). The
    endpoint is the published API endpoint: it goes into the API server's
    certificate and the admin kubeconfig's server URL. `konnectivity_host` is
    the published Konnectivity host, a SAN of the server's certificate for
    agents; None while unknown (the certificate is re-issued once it is).
    `ignition_host` likewise for the ignition server's certificate.
    Leaves are issued valid for `validity`; one kept past two thirds of its
    life at `now` (default: the clock) is renewed.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    endpoint = Endpoint(endpoint_host, endpoint_port)
    cluster = hcp.metadata.name or namespace
    data: dict[str, dict[str, bytes]] = {}
    signers: dict[str, KeyPair] = {}

    for name in SIGNERS:
        current = existing.get(name, {})
        if _usable_ca(current):
            pair = KeyPair(current[CA_CERT_KEY], current[CA_KEY_KEY])
        else:
            pair = new_ca(name)
        signers[name] = pair
        data[name] = {CA_CERT_KEY: pair.cert_pem, CA_KEY_KEY: pair.key_pem}

    for leaf in _leaves(namespace, hcp, endpoint, konnectivity_host, ignition_host):
        ca = signers[leaf.signer]
        current = existing.get(leaf.name, {})
        if _usable_leaf(leaf, current, ca) and _current(current[leaf.cert_key], validity, now):
            data[leaf.name] = dict(current)
            continue
        kept_key = current.get(leaf.key_key) if leaf.keep_key and _ec_key(current.get(leaf.key_key)) else None
        pair = issue(
            ca, leaf.common_name, organizations=leaf.organizations, dns_names=leaf.dns_names,
            ip_addresses=leaf.ip_addresses, server=leaf.server, client=leaf.client,
            validity=validity, key_pem=kept_key, now=now,
        )
        data[leaf.name] = {leaf.cert_key: pair.cert_pem, leaf.key_key: pair.key_pem}
        if leaf.ca_key:
            data[leaf.name][leaf.ca_key] = ca.cert_pem

    current = existing.get(SA_SIGNING_KEY, {})
    if _usable_service_account_key(current):
        data[SA_SIGNING_KEY] = dict(current)
    else:
        pair = new_service_account_key()
        data[SA_SIGNING_KEY] = {SA_PRIVATE_KEY: pair.key_pem, SA_PUBLIC_KEY: pair.cert_pem}

    root = signers[ROOT_CA]
    for config in _kubeconfigs(namespace, hcp, endpoint):
        current = existing.get(config.name, {})
        signer = signers[config.signer]
        if _usable_kubeconfig(config, current, root, signer, validity, now):
            data[config.name] = dict(current)
            continue
        credentials = issue(signer, config.user, organizations=config.groups, client=True, validity=validity,
                            now=now)
        document = kubeconfig.render(
            cluster=cluster, server=config.server, ca_pem=root.cert_pem, user=config.user, credentials=credentials
        )
        data[config.name] = {config.key: document.encode()}

    return [_secret(namespace, name, values) for name, values in data.items()]


def earliest_renewal(secrets: Iterable[Mapping[str, Any]]) -> datetime.datetime | None:
    """When the first leaf certificate or kubeconfig client certificate among `secrets` is due for renewal.

    Every PEM certificate that is not a CA, and the client certificate of every
    kubeconfig, counts; None when there is none.
    """
    times = [renew_at(cert) for secret in secrets for value in secret_data(secret).values()
             for cert in _leaf_certificates(value)]
    return min(times, default=None)


def fingerprints(secrets: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Secret name -> data key -> sha256 of the value: what a pod mounting a PKI Secret reads, in short.

    The renderers hash the entries a pod mounts into its config-hash annotation
    (hcp.controlplane.components.component.set_config_hash), so that a renewed
    certificate rolls the pods that read it only at start.
    """
    return {secret["metadata"]["name"]: {key: hashlib.sha256(value).hexdigest()
                                         for key, value in secret_data(secret).items()}
            for secret in secrets}


def secret_data(secret: Mapping[str, Any]) -> dict[str, bytes]:
    """The decoded data of a Secret dict (as rendered here, or as read from the API server)."""
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}


def _secret(namespace: str, name: str, data: Mapping[str, bytes]) -> dict[str, Any]:
    return stamp(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "type": "Opaque",
            "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
        },
        namespace,
    )


# Whether what exists can be kept.

_memoized = functools.lru_cache(maxsize=8192)
"""For the pure checks below, of PEM bytes and parsed certificates: every pass of every control plane asks them
again of the same Secrets, and parsing and verifying each certificate was most of a steady pass's own work."""


def _has(data: Mapping[str, bytes], *keys: str | None) -> bool:
    return all(data.get(key) for key in keys if key)


@_memoized
def _load_cert(pem: bytes) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@_memoized
def _key_matches(cert: x509.Certificate, key_pem: bytes) -> bool:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        return False
    return _public_bytes(key.public_key()) == _public_bytes(cert.public_key())


@_memoized
def _issued_by(cert: x509.Certificate, ca_pem: bytes) -> bool:
    ca = _load_cert(ca_pem)
    if ca is None:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _usable_ca(data: Mapping[str, bytes]) -> bool:
    if not _has(data, CA_CERT_KEY, CA_KEY_KEY):
        return False
    cert = _load_cert(data[CA_CERT_KEY])
    if cert is None:
        return False
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
    return is_ca and _key_matches(cert, data[CA_KEY_KEY])


def _sans(cert: x509.Certificate) -> tuple[set[str], set[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return set(names.get_values_for_type(x509.DNSName)), set(names.get_values_for_type(x509.IPAddress))


def _usable_leaf(leaf: _Leaf, data: Mapping[str, bytes], ca: KeyPair) -> bool:
    if not _has(data, leaf.cert_key, leaf.key_key, leaf.ca_key):
        return False
    if leaf.ca_key and data[leaf.ca_key] != ca.cert_pem:
        return False
    cert = _load_cert(data[leaf.cert_key])
    if cert is None or not _issued_by(cert, ca.cert_pem) or not _key_matches(cert, data[leaf.key_key]):
        return False
    if _subject(cert) != (leaf.common_name, sorted(leaf.organizations)):
        return False  # another user or other groups: e.g. an identity narrowed since it was issued
    dns_names, ips = _sans(cert)
    wanted_ips = {ipaddress.ip_address(ip) for ip in leaf.ip_addresses}
    return set(leaf.dns_names) <= dns_names and wanted_ips <= ips


def _subject(cert: x509.Certificate) -> tuple[str, list[str]]:
    """(CN, sorted O): the user and groups Kubernetes reads from a client certificate."""
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    organizations = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return (str(common_names[0].value) if common_names else "", sorted(str(o.value) for o in organizations))


def _current(cert_pem: bytes, validity: datetime.timedelta, now: datetime.datetime) -> bool:
    """Not yet due for renewal, and issued for no longer than `validity` (a shortened validity applies now)."""
    cert = _load_cert(cert_pem)
    if cert is None:
        return False
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    return now < renew_at(cert) and life <= validity + CLOCK_SKEW + datetime.timedelta(seconds=1)


@_memoized
def _ec_key(key_pem: bytes | None) -> bool:
    """Whether `key_pem` is a private key a certificate may be renewed for."""
    if not key_pem:
        return False
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, ec.EllipticCurvePrivateKey)


@_memoized
def _leaf_certificates(value: bytes) -> tuple[x509.Certificate, ...]:
    """The non-CA certificate a Secret value holds: a PEM certificate, or a kubeconfig's client certificate."""
    if value.startswith(b"-----BEGIN CERTIFICATE-----"):
        cert = _load_cert(value)
    elif b"client-certificate-data" in value:
        cert = kubeconfig.client_certificate(value)
    else:
        return ()
    if cert is None:
        return ()
    try:
        if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return ()
    except x509.ExtensionNotFound:
        pass
    return (cert,)


def _usable_service_account_key(data: Mapping[str, bytes]) -> bool:
    if not _has(data, SA_PRIVATE_KEY, SA_PUBLIC_KEY):
        return False
    try:
        key = serialization.load_pem_private_key(data[SA_PRIVATE_KEY], password=None)
    except (ValueError, TypeError):
        return False
    return _public_bytes(key.public_key()) == data[SA_PUBLIC_KEY]


def _usable_kubeconfig(config: _Kubeconfig, data: Mapping[str, bytes], ca: KeyPair, signer: KeyPair,
                       validity: datetime.timedelta, now: datetime.datetime) -> bool:
    """Points at the wanted server, trusts the root CA (the server's), and its client certificate is current and
    issued by the signer wanted now: an admin kubeconfig of the root CA (before break-glass signers) or of a
    revoked break-glass signer is re-issued."""
    if not _has(data, config.key):
        return False
    try:
        document = yaml.safe_load(data[config.key])
        cluster = document["clusters"][0]["cluster"]
        user = document["users"][0]["user"]
        server = cluster["server"]
        ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        cert_pem = base64.b64decode(user["client-certificate-data"])
        key_pem = base64.b64decode(user["client-key-data"])
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError):
        return False
    if server != config.server or ca_pem != ca.cert_pem:
        return False
    cert = _load_cert(cert_pem)
    return (cert is not None and _issued_by(cert, signer.cert_pem) and _key_matches(cert, key_pem)
            and _subject(cert) == (config.user, sorted(config.groups)) and _current(cert_pem, validity, now))


def client_ca_bundle(root_ca_pem: bytes, break_glass_signers: Iterable[bytes]) -> str:
    """The API server's --client-ca-file: the root CA, then each break-glass signer trusted now, once each.

    Every client certificate but the break-glass ones is the root CA's, so they are untouched by a
    revocation; the break-glass signers are those hcp.controlplane.revocation.trusted_signers says (the current
    one, and while a revocation is under way the one it replaces).
    """
    pems = [root_ca_pem, *break_glass_signers]
    unique = list(dict.fromkeys(pem.strip() + b"\n" for pem in pems if pem.strip()))
    return b"".join(unique).decode()


def issued_by(cert_pem: bytes, ca_pem: bytes) -> bool:
    """Whether the PEM certificate `cert_pem` was signed by the CA `ca_pem` (False for anything unreadable)."""
    cert = _load_cert(cert_pem)
    return cert is not None and _issued_by(cert, ca_pem)
