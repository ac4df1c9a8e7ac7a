"""etcd: a StatefulSet of 1 (SingleReplica) or 3 (HighlyAvailable) members with TLS for clients and peers.

Pods are etcd-0..N-1, each with its PVC data-etcd-N mounted at /var/lib (data
dir /var/lib/data), reachable as etcd-N.etcd-discovery.<namespace>.svc; clients
use the etcd-client Service. Certificates are mounted where the docs' etcdctl
commands expect them (/etc/etcd/tls/etcd-ca/ca.crt, /etc/etcd/tls/client/...).
Rendered only for spec.etcd.managementType Managed.
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.etcd import DEFAULT_ETCD_STORAGE_SIZE, EtcdManagementType
from hcp.controlplane.components.component import adapt_pod, container, load, requests
from hcp.controlplane.context import RenderContext
from hcp.controlplane.pki import ETCD_DISCOVERY_SERVICE

NAME = "etcd"
HA_REPLICAS = 3
CLIENT_PORT, PEER_PORT, METRICS_PORT = 2379, 2380, 2382
CLUSTER_TOKEN = "etcd-cluster"
"""--initial-cluster-token; the docs' `etcdutl snapshot restore` passes the same."""
DATA_DIR = "/var/lib/data"
TLS = "/etc/etcd/tls"


def enabled(ctx: RenderContext) -> bool:
    return ctx.hcp.spec.etcd.management_type == EtcdManagementType.MANAGED


def member_url(ctx: RenderContext, member: str, port: int) -> str:
    return f"https://{member}.{ETCD_DISCOVERY_SERVICE}.{ctx.namespace}.svc:{port}"


def render(ctx: RenderContext) -> list[dict[str, Any]]:
    if not enabled(ctx):
        return []
    templates = load(__package__, "etcd.yaml")
    statefulset = templates["StatefulSet/etcd"]
    replicas = ctx.replicas(HA_REPLICAS)
    statefulset["spec"]["replicas"] = replicas

    pod = statefulset["spec"]["template"]
    # No priorityClassName: HyperShift's hypershift-etcd PriorityClass does not exist on a
    # generic management cluster.
    adapt_pod(ctx, pod, component=NAME, replicas=replicas, fs_group_change_policy="OnRootMismatch")
    image = ctx.image("etcd")
    for name, resources in (("reset-member", requests("10m", "20Mi")), ("etcd", requests("50m", "100Mi"))):
        each = container(pod["spec"], name)
        each["image"] = image
        each["resources"] = resources

    members = [f"etcd-{index}" for index in range(replicas)]
    container(pod["spec"], "etcd")["args"] = [
        "--name=$(POD_NAME)",
        f"--data-dir={DATA_DIR}",
        f"--listen-client-urls=https://0.0.0.0:{CLIENT_PORT}",
        f"--advertise-client-urls={member_url(ctx, '$(POD_NAME)', CLIENT_PORT)}",
        f"--listen-peer-urls=https://0.0.0.0:{PEER_PORT}",
        f"--initial-advertise-peer-urls={member_url(ctx, '$(POD_NAME)', PEER_PORT)}",
        "--initial-cluster=" + ",".join(f"{member}={member_url(ctx, member, PEER_PORT)}" for member in members),
        f"--initial-cluster-token={CLUSTER_TOKEN}",
        # Plain HTTP on its own port, so that the kubelet's probes reach /livez and /readyz.
        f"--listen-metrics-urls=http://0.0.0.0:{METRICS_PORT}",
        f"--cert-file={TLS}/server/server.crt",
        f"--key-file={TLS}/server/server.key",
        f"--trusted-ca-file={TLS}/etcd-ca/ca.crt",
        "--client-cert-auth=true",
        f"--peer-cert-file={TLS}/peer/peer.crt",
        f"--peer-key-file={TLS}/peer/peer.key",
        f"--peer-trusted-ca-file={TLS}/etcd-ca/ca.crt",
        "--peer-client-cert-auth=true",
        "--snapshot-count=10000",
    ]

    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    storage = ctx.hcp.spec.etcd.managed.storage if ctx.hcp.spec.etcd.managed else None
    volume = storage.persistent_volume if storage else None
    claim["spec"]["resources"]["requests"]["storage"] = volume.size if volume else DEFAULT_ETCD_STORAGE_SIZE
    if volume and volume.storage_class_name:
        claim["spec"]["storageClassName"] = volume.storage_class_name

    objects = [templates["Service/etcd-discovery"], templates["Service/etcd-client"], statefulset]
    if ctx.highly_available:
        # Keeps a quorum through voluntary disruptions. None for a single member: it could only block drains.
        objects.append(templates["PodDisruptionBudget/etcd"])
    return objects
