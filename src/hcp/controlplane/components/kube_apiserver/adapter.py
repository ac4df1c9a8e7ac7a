"""kube-apiserver: a Deployment of 1 or 3 replicas, published by the Service kube-apiserver.

Flags are those of the management cluster's own API server (host_processes.py)
with the hosted cluster's etcd, networks, issuer and certificates, plus what
real nodes need (static, in kube-apiserver.yaml): bootstrap-token
authentication, the Node authorizer and NodeRestriction, a client certificate
for kubelets and the root CA to verify their serving certificates. The Service
is NodePort or LoadBalancer as spec.services says for APIServer, and
spec.configuration.network.serviceNodePortRange becomes
--service-node-port-range. Of spec.configuration.apiServer, additionalCORSAllowedOrigins
becomes --cors-allowed-origins (the regular expressions comma-joined, as OpenShift passes them) and
tlsSecurityProfile --tls-min-version and --tls-cipher-suites (hcp.controlplane.tls_flags; neither flag when
unset, which leaves the API server's defaults). Being flags of the pod template, a change of either rolls the
API servers.
With spec.secretEncryption aescbc, Secrets are encrypted at rest with the keys the
controller read into `ctx.encryption_keys` (EncryptionConfiguration in the
Secret kas-secret-encryption-config, as HyperShift names it).

Each pod also runs the konnectivity server, published by the Service
konnectivity-server as spec.services says for Konnectivity. Its agent port takes the
TLS security profile as --cipher-suites, its only TLS flag: it has no minimum-version
flag (TLS 1.2 and up; a TLS 1.3 minimum is had with TLS 1.3 suites alone) and refuses
Go's insecure suites, and what it cannot take SupportedConfiguration reports
(hcp.api.v1beta1.tlsprofile). Real nodes join
from other networks, so the API server's `cluster` egress (kubelets, pods,
Services: logs, exec, port-forward, webhooks, aggregated APIs) goes through
it over a Unix socket in the pod, to the agents the nodes run; `controlplane`
and `etcd` stay direct. --server-count is the number of API servers, so an
agent keeps connecting through the Service until it holds a tunnel to each.
The aggregation layer's front-proxy flags complete what aggregated API
servers need.

Auditing: the policy of spec.configuration.apiServer.audit (audit.py) in the
ConfigMap kas-audit-config, the log in an emptyDir that the audit-logs
container streams to its output, and with spec.auditWebhook the events also
sent in batches to the webhook its Secret's kubeconfig names (the HostedCluster
controller copies that Secret into the control-plane namespace). The pods
read the policy and the kubeconfig at start, so both are in the config hash:
a new profile rolls the API servers one at a time.

Identity: with spec.configuration.authentication type OIDC, the provider's
tokens are validated by the API server itself, from the structured
AuthenticationConfiguration of authentication.py in the ConfigMap auth-config
(--authentication-config). The API server reloads that file, so it is not
hashed: changing the claim mappings or the CA rolls nothing.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import yaml

from hcp.api.v1beta1.clusterconfig import APIServerSpec
from hcp.api.v1beta1.common import SecretEncryptionType
from hcp.api.v1beta1.hostedcluster import AUDIT_WEBHOOK_KUBECONFIG_KEY
from hcp.api.v1beta1.etcd import EtcdManagementType
from hcp.api.v1beta1.networking import ServiceType
from hcp.controlplane.components.component import (
    adapt_pod,
    container,
    feature_gates,
    load,
    set_config_hash,
)
from hcp.controlplane.components.sizing import default_requests
from hcp.controlplane.components.contract import Component
from hcp.controlplane.components.kube_apiserver import authentication
from hcp.controlplane.components.kube_apiserver.audit import audit_config, logs_anything, policy_yaml
from hcp.controlplane.context import RenderContext, RenderError
from hcp.controlplane.pki import (
    AGGREGATOR_CLIENT_USER, CLIENT_CA_BUNDLE_KEY, ETCD_CLIENT_SERVICE, KONNECTIVITY_SERVICE, TOTAL_CLIENT_CA,
)
from hcp.controlplane.publishing import publish
from hcp.controlplane.tls_flags import konnectivity_tls_args, kubernetes_tls_args, tls_security_profile

NAME = "kube-apiserver"
HA_REPLICAS = 3
ETCD_CLIENT_PORT = 2379

ENCRYPTION_SECRET = "kas-secret-encryption-config"
ENCRYPTION_CONFIG_KEY = "config.yaml"
ENCRYPTION_MOUNT = "/etc/kubernetes/secret-encryption"
AESCBC_SECRET_KEY = "key"
"""Data key of the Secrets spec.secretEncryption.aescbc.{activeKey,backupKey} name."""
AESCBC_KEY_SIZES = (16, 24, 32)

KONNECTIVITY_SERVER = "konnectivity-server"
"""The sidecar container, and its image's component name in the release."""
KONNECTIVITY_SOCKET = "/run/konnectivity/konnectivity-server.socket"
"""The server's Unix socket for the API server, in the emptyDir both containers mount at /run/konnectivity."""
EGRESS_SELECTOR_CONFIGMAP = "kas-egress-selector-config"
EGRESS_SELECTOR_CONFIG_KEY = "config.yaml"
EGRESS_SELECTOR_MOUNT = "/etc/kubernetes/egress-selector"

AUDIT_CONFIGMAP = "kas-audit-config"
AUDIT_POLICY_KEY = "policy.yaml"
AUDIT_LOGS = "audit-logs"
"""The container streaming the audit log to its output."""
AUDIT_LOGS_IMAGE = "etcd"
"""The release image the audit-logs container runs: the one with a shell and busybox's tail beside its binaries
(the others hold a static binary only), and one every release has."""
AUDIT_WEBHOOK_VOLUME = "kas-audit-webhook"
AUDIT_WEBHOOK_MOUNT = "/etc/kubernetes/auditwebhook"
AUDIT_WEBHOOK_INITIAL_BACKOFF = "5s"
"""How long the API server waits before retrying a failed batch (HyperShift's setting)."""


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    templates = load(__package__, "kube-apiserver.yaml")
    service = templates["Service/kube-apiserver"]
    publish(ctx, service, ServiceType.API_SERVER)
    konnectivity_service = templates[f"Service/{KONNECTIVITY_SERVICE}"]
    publish(ctx, konnectivity_service, ServiceType.KONNECTIVITY)

    deployment = templates["Deployment/kube-apiserver"]
    replicas = ctx.replicas(HA_REPLICAS)
    deployment["spec"]["replicas"] = replicas
    # A new API server is ready before an old one goes.
    deployment["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    pod = deployment["spec"]["template"]
    # No priorityClassName: HyperShift's hypershift-api-critical PriorityClass does not exist on
    # a generic management cluster.
    adapt_pod(ctx, pod, component=NAME, replicas=replicas)
    main = container(pod["spec"], NAME)
    main["image"] = ctx.image(NAME)
    main["resources"] = default_requests(NAME, NAME)

    args = main["args"]
    if ctx.api_endpoint.host_is_ip:
        args.append(f"--advertise-address={ctx.api_endpoint.host}")
    args += [
        f"--etcd-servers={etcd_url(ctx, pod)}",
        f"--service-account-issuer={ctx.issuer_url}",
        f"--service-cluster-ip-range={','.join(ctx.service_cidrs)}",
        f"--requestheader-allowed-names={AGGREGATOR_CLIENT_USER}",
        f"--egress-selector-config-file={EGRESS_SELECTOR_MOUNT}/{EGRESS_SELECTOR_CONFIG_KEY}",
        *feature_gates(ctx),
    ]
    node_ports = service_node_port_range(ctx)
    if node_ports:
        args.append(f"--service-node-port-range={node_ports}")
    api_server = api_server_config(ctx)
    if api_server is not None and api_server.additional_cors_allowed_origins:
        args.append(f"--cors-allowed-origins={','.join(api_server.additional_cors_allowed_origins)}")
    tls_profile = tls_security_profile(ctx)
    args += kubernetes_tls_args(tls_profile)

    proxy = container(pod["spec"], KONNECTIVITY_SERVER)
    proxy["image"] = ctx.image(KONNECTIVITY_SERVER)
    proxy["resources"] = default_requests(NAME, KONNECTIVITY_SERVER)
    proxy["args"] += [f"--uds-name={KONNECTIVITY_SOCKET}", f"--server-count={replicas}",
                      *konnectivity_tls_args(tls_profile)]

    egress = egress_selector_config()
    egress_configmap = templates[f"ConfigMap/{EGRESS_SELECTOR_CONFIGMAP}"]
    egress_configmap["data"] = {EGRESS_SELECTOR_CONFIG_KEY: egress}
    hashed = [egress]

    audit = audit_config(ctx)
    policy = policy_yaml(audit)
    audit_configmap = templates[f"ConfigMap/{AUDIT_CONFIGMAP}"]
    audit_configmap["data"] = {AUDIT_POLICY_KEY: policy}
    hashed.append(policy)
    tail = container(pod["spec"], AUDIT_LOGS)
    if logs_anything(audit):
        tail["image"] = ctx.image(AUDIT_LOGS_IMAGE)
        tail["resources"] = default_requests(NAME, AUDIT_LOGS)
    else:  # profile None: nothing would ever be written to follow
        pod["spec"]["containers"].remove(tail)
    webhook = audit_webhook(ctx)
    if webhook is not None:
        secret_name, kubeconfig = webhook
        args += [
            f"--audit-webhook-config-file={AUDIT_WEBHOOK_MOUNT}/{AUDIT_WEBHOOK_KUBECONFIG_KEY}",
            "--audit-webhook-mode=batch",
            f"--audit-webhook-initial-backoff={AUDIT_WEBHOOK_INITIAL_BACKOFF}",
        ]
        main["volumeMounts"].append({"name": AUDIT_WEBHOOK_VOLUME, "mountPath": AUDIT_WEBHOOK_MOUNT})
        pod["spec"]["volumes"].append({"name": AUDIT_WEBHOOK_VOLUME, "secret": {
            "secretName": secret_name, "defaultMode": 0o640,
            "items": [{"key": AUDIT_WEBHOOK_KUBECONFIG_KEY, "path": AUDIT_WEBHOOK_KUBECONFIG_KEY}]}})
        # A digest, not the kubeconfig itself: the hash is an annotation anyone reading the pod sees.
        hashed.append(hashlib.sha256(kubeconfig).hexdigest())

    client_ca = templates[f"ConfigMap/{TOTAL_CLIENT_CA}"]
    client_ca["data"] = {CLIENT_CA_BUNDLE_KEY: ctx.client_ca_bundle}
    # Not hashed: the API server reloads its client CA file, so a new bundle (a revocation) rolls nothing.
    objects = [service, konnectivity_service, egress_configmap, audit_configmap, client_ca]
    authn = authentication.authentication_config(ctx)
    if authn is not None:
        authn_configmap = templates[f"ConfigMap/{authentication.CONFIGMAP}"]
        authn_configmap["data"] = {authentication.CONFIG_KEY: authn}
        objects.append(authn_configmap)
        args.append(f"--authentication-config={authentication.MOUNT}/{authentication.CONFIG_KEY}")
        # Mounted whole (no subPath), so the kubelet's refresh of the ConfigMap reaches the file; not
        # hashed: the API server reloads the file, so a new mapping or CA rolls nothing.
        main["volumeMounts"].append({"name": authentication.CONFIGMAP, "mountPath": authentication.MOUNT})
        pod["spec"]["volumes"].append({"name": authentication.CONFIGMAP,
                                       "configMap": {"name": authentication.CONFIGMAP}})
    config = encryption_config(ctx)
    if config is not None:
        secret = templates[f"Secret/{ENCRYPTION_SECRET}"]
        secret["data"] = {ENCRYPTION_CONFIG_KEY: base64.b64encode(config).decode()}
        objects.append(secret)
        args.append(f"--encryption-provider-config={ENCRYPTION_MOUNT}/{ENCRYPTION_CONFIG_KEY}")
        main["volumeMounts"].append({"name": ENCRYPTION_SECRET, "mountPath": ENCRYPTION_MOUNT})
        pod["spec"]["volumes"].append(
            {"name": ENCRYPTION_SECRET, "secret": {"secretName": ENCRYPTION_SECRET, "defaultMode": 0o640}}
        )
        hashed.append(config.decode())
    # The API server reads its configuration files once: a change (a new key) must roll the pods. So
    # does a renewed certificate: it reloads its serving certificate, but not its client certificates
    # (etcd, kubelets, front proxy), and the konnectivity server beside it reads its own at start.
    # The Deployment surges one pod and keeps every old one until it is ready, so for three replicas
    # (and the PodDisruptionBudget) the API stays served through the roll.
    set_config_hash(ctx, pod, *hashed)

    objects.append(deployment)
    if ctx.highly_available:
        # At most one API server down at a time; none for a single replica (it could only block drains).
        objects.append(templates["PodDisruptionBudget/kube-apiserver"])
    return objects


def api_server_config(ctx: RenderContext) -> APIServerSpec | None:
    """spec.configuration.apiServer, or None when unset."""
    configuration = ctx.hcp.spec.configuration
    return configuration.api_server if configuration is not None else None


def service_node_port_range(ctx: RenderContext) -> str:
    """spec.configuration.network.serviceNodePortRange, the node ports of the hosted cluster's Services ("": the
    API server's default, 30000-32767, which is HyperShift's too)."""
    configuration = ctx.hcp.spec.configuration
    network = configuration.network if configuration is not None else None
    return (network.service_node_port_range or "") if network is not None else ""


def egress_selector_config() -> str:
    """The EgressSelectorConfiguration: `cluster` through the konnectivity server's socket, the rest direct.

    GRPC over the socket rather than HTTPConnect over TCP: the socket is private
    to the pod, so it needs neither a port nor a client certificate.
    """
    def direct(name: str) -> dict[str, Any]:
        return {"name": name, "connection": {"proxyProtocol": "Direct"}}

    config = {
        "apiVersion": "apiserver.k8s.io/v1beta1",
        "kind": "EgressSelectorConfiguration",
        "egressSelections": [
            {"name": "cluster", "connection": {"proxyProtocol": "GRPC",
                                               "transport": {"uds": {"udsName": KONNECTIVITY_SOCKET}}}},
            direct("controlplane"),
            direct("etcd"),
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def audit_webhook(ctx: RenderContext) -> tuple[str, bytes] | None:
    """The spec.auditWebhook Secret's name and kubeconfig (read into the context), or None when unset."""
    reference = ctx.hcp.spec.audit_webhook
    if reference is None or not reference.name:
        return None
    kubeconfig = ctx.audit_webhook_kubeconfig
    if not kubeconfig:
        raise RenderError(f"the audit webhook Secret {reference.name} (data key {AUDIT_WEBHOOK_KUBECONFIG_KEY!r}) "
                          f"was not found in the control-plane namespace")
    return reference.name, kubeconfig


def etcd_url(ctx: RenderContext, pod: dict[str, Any]) -> str:
    """The etcd client URL; for an unmanaged etcd, also mounts the client Secret its spec names."""
    etcd = ctx.hcp.spec.etcd
    if etcd.management_type == EtcdManagementType.UNMANAGED and etcd.unmanaged:
        for volume in pod["spec"]["volumes"]:
            if volume["name"] == "etcd-client-crt":
                volume["secret"]["secretName"] = etcd.unmanaged.tls.client_secret.name
        return etcd.unmanaged.endpoint
    return f"https://{ETCD_CLIENT_SERVICE}.{ctx.namespace}.svc:{ETCD_CLIENT_PORT}"


def encryption_config(ctx: RenderContext) -> bytes | None:
    """The EncryptionConfiguration for spec.secretEncryption (None when unset), as HyperShift writes it.

    Keys are named key-<FNV-1 32 of the key> as in HyperShift, so the name recorded
    with each encrypted Secret stays the same for the same key.
    """
    encryption = ctx.hcp.spec.secret_encryption
    if encryption is None:
        return None
    if encryption.type != SecretEncryptionType.AESCBC:
        raise RenderError(f"secret encryption type {encryption.type.value} is not supported; use aescbc")
    if encryption.aescbc is None or not encryption.aescbc.active_key.name:
        raise RenderError("secretEncryption.aescbc.activeKey must name the Secret holding the key")
    names = [encryption.aescbc.active_key.name]
    if encryption.aescbc.backup_key and encryption.aescbc.backup_key.name:
        names.append(encryption.aescbc.backup_key.name)
    keys = []
    for name in names:
        key = ctx.encryption_keys.get(name)
        if not key:
            raise RenderError(f"the encryption key Secret {name} (data key {AESCBC_SECRET_KEY!r}) was not found")
        if len(key) not in AESCBC_KEY_SIZES:
            raise RenderError(f"the encryption key in Secret {name} has {len(key)} bytes; aescbc needs 16, 24 or 32")
        keys.append({"name": f"key-{fnv1_32(key)}", "secret": base64.b64encode(key).decode()})
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"], "providers": [{"aescbc": {"keys": keys}}, {"identity": {}}]}],
    }
    return yaml.safe_dump(config, sort_keys=False).encode()


def fnv1_32(data: bytes) -> int:
    """Go's hash/fnv New32 (FNV-1, 32 bits)."""
    value = 0x811C9DC5
    for byte in data:
        value = (value * 0x01000193) & 0xFFFFFFFF
        value ^= byte
    return value


COMPONENT = Component(NAME, render, workloads=(("Deployment", NAME),), depends_on=("etcd",))
