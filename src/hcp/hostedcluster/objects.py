"""The objects `hcp create cluster` and `hcp create nodepool` make, as HyperShift's CLI makes them.

A cluster is: its namespace, a pull-secret Secret, an optional SSH-key
Secret, the etcd encryption key Secret `<name>-etcd-encryption-key` (unless
opted out) that the HostedCluster's spec.secretEncryption names, the
HostedCluster and a default NodePool of the same name. Every
object but the namespace carries HyperShift's `auto-created-for-infra` label,
which is how `hcp destroy` finds what `create` made even when `create` was
interrupted before the HostedCluster existed.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hcp.api import HostedCluster, NodePool, to_dict
from hcp.api.base import ObjectMeta
from hcp.api.names import AUTO_CREATED_LABEL
from hcp.api.meta import LocalObjectReference, Toleration
from hcp.api.v1beta1.common import (
    AESCBCSpec,
    AvailabilityPolicy,
    DNSSpec,
    Release,
    SecretEncryptionSpec,
    SecretEncryptionType,
)
from hcp.api.v1beta1.etcd import (
    EtcdManagementType,
    EtcdSpec,
    ManagedEtcdSpec,
    ManagedEtcdStorageSpec,
    ManagedEtcdStorageType,
    PersistentVolumeEtcdStorageSpec,
)
from hcp.api.v1beta1.hostedcluster import HostedClusterSpec
from hcp.api.v1beta1.networking import (
    ClusterNetworkEntry,
    ClusterNetworking,
    NetworkType,
    NodePortPublishingStrategy,
    PublishingStrategyType,
    ServiceNetworkEntry,
    ServicePublishingStrategy,
    ServicePublishingStrategyMapping,
    ServiceType,
)
from hcp.api.v1beta1.nodepool import (
    KWOKNodeCapacity,
    KWOKNodePoolPlatform,
    NodePoolManagement,
    NodePoolPlatform,
    NodePoolSpec,
    UpgradeType,
)
from hcp.api.v1beta1.platform import PlatformSpec, PlatformType
from hcp.controlplane.components.kube_apiserver.adapter import AESCBC_KEY_SIZES, AESCBC_SECRET_KEY

SAFE_TO_DELETE_LABEL = "hypershift.openshift.io/safe-to-delete-with-cluster"
EMPTY_PULL_SECRET = b'{"auths":{}}'
"""hcp's registry needs no credentials; kubelet still wants a well-formed docker config."""
PUBLISHED_SERVICES = (ServiceType.API_SERVER, ServiceType.OAUTH_SERVER, ServiceType.KONNECTIVITY,
                      ServiceType.IGNITION)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENCRYPTION_KEY_BYTES = 32
"""An AES-256 key, as HyperShift's CLI generates for aescbc."""
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?")


@dataclass(frozen=True)
class NodePoolOptions:
    name: str
    namespace: str
    cluster_name: str
    replicas: int
    release_image: str
    auto_repair: bool = False
    node_drain_timeout: str | None = None
    cpu: str | None = None
    memory: str | None = None
    max_pods: int | None = None
    paused_until: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    platform: PlatformType = PlatformType.KWOK


@dataclass(frozen=True)
class ClusterOptions:
    name: str
    namespace: str
    release_image: str
    api_server_address: str
    pull_secret: bytes = EMPTY_PULL_SECRET
    ssh_public_key: bytes | None = None
    ssh_private_key: bytes | None = None
    base_domain: str = "hcp.local"
    availability_policy: AvailabilityPolicy = AvailabilityPolicy.SINGLE_REPLICA
    etcd_storage_class: str | None = None
    etcd_storage_size: str | None = None
    service_cidrs: tuple[str, ...] = ("172.31.0.0/16",)
    cluster_cidrs: tuple[str, ...] = ("10.132.0.0/14",)
    network_type: NetworkType = NetworkType.FLANNEL
    """hcp's default, as OVNKubernetes is HyperShift's: the CNI hcp deploys (kwok nodes ignore it)."""
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    paused_until: str | None = None
    platform: PlatformType = PlatformType.KWOK
    encryption_key: bytes | None = None
    """The aescbc key Secrets are encrypted at rest with; None: no spec.secretEncryption."""


def check_names(namespace: str, name: str) -> None:
    """Names hcp derives others from: the control-plane namespace `<namespace>-<name>` must be valid too."""
    for what, value in (("--name", name), ("--namespace", namespace)):
        if not DNS_LABEL.match(value) or len(value) > 63:
            raise ValueError(f"{what} {value!r} is not a DNS label: use lowercase letters, digits and '-'")
    if len(namespace) + 1 + len(name) > 63:
        raise ValueError(f"the control-plane namespace {namespace}-{name} would be longer than 63 characters; "
                         f"use a shorter --name or --namespace")


def generate_ssh_key(key: Ed25519PrivateKey | None = None) -> tuple[bytes, bytes]:
    """(public key in authorized_keys form, private key in OpenSSH form) of a new ed25519 key."""
    key = key or Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    return public + b"\n", private


def generate_encryption_key() -> bytes:
    """A new aescbc key: 32 random bytes from the OS's CSPRNG."""
    return secrets.token_bytes(ENCRYPTION_KEY_BYTES)


def encryption_key_secret_name(cluster_name: str) -> str:
    """The Secret holding a cluster's aescbc key, named as HyperShift's CLI names it."""
    return f"{cluster_name}-etcd-encryption-key"


def check_encryption_key(key: bytes, source: str) -> bytes:
    """An aescbc key is 16, 24 or 32 bytes; the API server refuses to start with any other."""
    if len(key) not in AESCBC_KEY_SIZES:
        raise ValueError(f"{source} holds {len(key)} bytes under {AESCBC_SECRET_KEY!r}; an aescbc key has "
                         f"{', '.join(map(str, AESCBC_KEY_SIZES))} bytes")
    return key


def check_ssh_public_key(data: bytes, source: str) -> bytes:
    """Catches the common slip of passing the private key file."""
    try:
        serialization.load_ssh_public_key(data.strip())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(f"{source} is not an SSH public key (e.g. ~/.ssh/id_ed25519.pub)") from None
    return data


def check_pull_secret(data: bytes, source: str) -> bytes:
    """A pull secret must be a docker config JSON; kubelet silently ignores anything else."""
    try:
        document = json.loads(data)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("auths"), dict):
        raise ValueError(f'{source} is not a docker config JSON like {{"auths":{{}}}}')
    return data


def parse_version(text: str) -> tuple[int, ...] | None:
    """(1, 37, 1) of "1.37.1" or "v1.37.1"; None if it is no such version."""
    match = _VERSION.fullmatch(text)
    return tuple(int(part) for part in match.groups()) if match else None


def release_version(image: str) -> tuple[int, ...] | None:
    """The Kubernetes version an hcp release image is tagged with (`...:v1.37.1`), None if untagged."""
    name, _, tag = image.partition("@")[0].rpartition(":")
    return parse_version(tag) if name and "/" not in tag else None


def cluster_objects(options: ClusterOptions, node_pool: NodePoolOptions | None) -> list[dict[str, Any]]:
    """Namespace, Secrets, HostedCluster and NodePool, in the order HyperShift's CLI renders them."""
    labels = {AUTO_CREATED_LABEL: options.name}
    secret_labels = {**labels, SAFE_TO_DELETE_LABEL: "true"}
    pull_secret = _secret(options, f"{options.name}-pull-secret", secret_labels,
                          {".dockerconfigjson": options.pull_secret}, "kubernetes.io/dockerconfigjson")
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": options.namespace}}, pull_secret]
    ssh_key = None
    if options.ssh_public_key:
        keys = {"id_rsa.pub": options.ssh_public_key}
        if options.ssh_private_key:
            keys["id_rsa"] = options.ssh_private_key
        ssh_key = LocalObjectReference(name=f"{options.name}-ssh-key")
        objects.append(_secret(options, ssh_key.name, secret_labels, keys, "Opaque"))
    encryption_key = None
    if options.encryption_key:
        encryption_key = LocalObjectReference(name=encryption_key_secret_name(options.name))
        objects.append(_secret(options, encryption_key.name, secret_labels,
                               {AESCBC_SECRET_KEY: options.encryption_key}, "Opaque"))
    objects.append(hosted_cluster(options, labels, LocalObjectReference(name=pull_secret["metadata"]["name"]),
                                  ssh_key, encryption_key))
    if node_pool is not None:
        objects.append(node_pool_object(node_pool))
    return objects


def hosted_cluster(options: ClusterOptions, labels: dict[str, str], pull_secret: LocalObjectReference,
                   ssh_key: LocalObjectReference | None,
                   encryption_key: LocalObjectReference | None = None) -> dict[str, Any]:
    node_port = ServicePublishingStrategy(type=PublishingStrategyType.NODE_PORT,
                                          node_port=NodePortPublishingStrategy(address=options.api_server_address))
    volume = PersistentVolumeEtcdStorageSpec()
    if options.etcd_storage_class:
        volume.storage_class_name = options.etcd_storage_class
    if options.etcd_storage_size:
        volume.size = options.etcd_storage_size
    spec = HostedClusterSpec(
        release=Release(image=options.release_image),
        platform=PlatformSpec(type=options.platform),
        controller_availability_policy=options.availability_policy,
        dns=DNSSpec(base_domain=options.base_domain),
        networking=ClusterNetworking(
            cluster_network=[ClusterNetworkEntry(cidr=cidr) for cidr in options.cluster_cidrs],
            service_network=[ServiceNetworkEntry(cidr=cidr) for cidr in options.service_cidrs],
            network_type=options.network_type,
        ),
        etcd=EtcdSpec(management_type=EtcdManagementType.MANAGED, managed=ManagedEtcdSpec(
            storage=ManagedEtcdStorageSpec(type=ManagedEtcdStorageType.PERSISTENT_VOLUME,
                                           persistent_volume=volume))),
        services=[ServicePublishingStrategyMapping(service=service, service_publishing_strategy=node_port)
                  for service in PUBLISHED_SERVICES],
        pull_secret=pull_secret,
    )
    if ssh_key is not None:
        spec.ssh_key = ssh_key
    if encryption_key is not None:
        spec.secret_encryption = SecretEncryptionSpec(type=SecretEncryptionType.AESCBC,
                                                      aescbc=AESCBCSpec(active_key=encryption_key))
    if options.paused_until:
        spec.paused_until = options.paused_until
    if options.node_selector:
        spec.node_selector = dict(options.node_selector)
    if options.tolerations:
        spec.tolerations = list(options.tolerations)
    metadata = ObjectMeta(name=options.name, namespace=options.namespace, labels={**options.labels, **labels})
    if options.annotations:
        metadata.annotations = dict(options.annotations)
    return _dump(HostedCluster(metadata=metadata, spec=spec))


def node_pool_object(options: NodePoolOptions) -> dict[str, Any]:
    platform = NodePoolPlatform(type=options.platform)
    capacity = {name: value for name, value in
                (("cpu", options.cpu), ("memory", options.memory), ("pods", options.max_pods)) if value is not None}
    if capacity:
        platform.kwok = KWOKNodePoolPlatform(capacity=KWOKNodeCapacity(**capacity))
    spec = NodePoolSpec(
        cluster_name=options.cluster_name,
        release=Release(image=options.release_image),
        platform=platform,
        replicas=options.replicas,
        management=NodePoolManagement(upgrade_type=UpgradeType.REPLACE, auto_repair=options.auto_repair),
    )
    if options.node_drain_timeout:
        spec.node_drain_timeout = options.node_drain_timeout
    if options.paused_until:
        spec.paused_until = options.paused_until
    metadata = ObjectMeta(name=options.name, namespace=options.namespace)
    if options.labels:
        metadata.labels = dict(options.labels)
    return _dump(NodePool(metadata=metadata, spec=spec))


def without_secrets(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `--render` prints unless `--render-sensitive` is given (docs 7.4.2)."""
    return [o for o in objects if o["kind"] != "Secret"]


def _dump(obj: HostedCluster | NodePool) -> dict[str, Any]:
    """The object as sent (only the fields set here), in the usual apiVersion, kind, metadata, spec order."""
    body = to_dict(obj, exclude_unset=True)
    return {key: body[key] for key in ("apiVersion", "kind", "metadata", "spec")}


def _secret(options: ClusterOptions, name: str, labels: dict[str, str], data: dict[str, bytes],
            type_: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": options.namespace, "labels": labels},
            "type": type_, "data": {key: base64.b64encode(value).decode() for key, value in data.items()}}
