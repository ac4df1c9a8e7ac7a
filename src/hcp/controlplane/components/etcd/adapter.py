"""etcd: a StatefulSet of 1 (SingleReplica) or 3 (HighlyAvailable) members with TLS for clients and peers.

Pods are etcd-0..N-1, each with its PVC data-etcd-N mounted at /var/lib (data
dir /var/lib/data), reachable as etcd-N.etcd-discovery.<namespace>.svc; clients
use the etcd-client Service. Certificates are mounted where the docs' etcdctl
commands expect them (/etc/etcd/tls/etcd-ca/ca.crt, /etc/etcd/tls/client/...).
Rendered only for spec.etcd.managementType Managed.

With spec.etcd.managed.storage.restoreSnapshotURL (docs 7.4.2) each member gets two
more init containers after reset-member: `restore-fetch` (the operator's image,
hcp.backup.restore) fetches the snapshot onto the member's volume when the member has
no data and bootstraps a new cluster, and `restore-snapshot` (etcd's image) runs
`etcdutl snapshot restore` with the member's own name, peer URL, initial cluster and
token, into a scratch dir moved into place whole. A member with data, or one joining a
running cluster, restores nothing. A failure's one line is the container's termination
message, which `restore_failure` finds for the EtcdAvailable condition.

Renewed certificates are not a reason to roll etcd, so its pods carry no
certificate hash: etcd reads its own certificate and key from the files on
every TLS handshake. Its transport package (client/pkg/transport/listener.go,
TLSInfo.baseConfig) sets tls.Config.GetCertificate and GetClientCertificate
to functions that load CertFile/KeyFile anew each time ("this only reloads
certs when there's a client request"), for the client and the peer listeners
alike; the kubelet swaps the files of the Secret volumes (mounted whole, no
subPath) when the Secrets change. The trusted CA files, however, are read
once, into ClientCAs/RootCAs when the listeners are built: a new etcd-signer
(CA rotation) needs the members restarted, which a changed certificate alone
does not do (docs/configuration.md, "CA rotation").

spec.configuration.apiServer.tlsSecurityProfile applies to the client and peer
listeners alike (hcp.controlplane.tls_flags): --tls-min-version, which etcd 3.6
takes as TLS1.2 or TLS1.3 only (a lower minimum leaves it at TLS 1.2, and
SupportedConfiguration says so), and --cipher-suites, never beside TLS1.3 (etcd
refuses the two together). Its clients (the API servers, the members' peers,
etcdctl, Prometheus on the client port) are Go's and negotiate TLS 1.3. The
metrics port (plain HTTP, for the kubelet's probes) has no TLS to configure.
"""

from __future__ import annotations

from typing import Any

from hcp.api.v1beta1.etcd import DEFAULT_ETCD_STORAGE_SIZE, EtcdManagementType
from hcp.controlplane.components.component import adapt_pod, container, load
from hcp.controlplane.components.sizing import default_requests
from hcp.backup.termination import TERMINATION_LOG
from hcp.controlplane.components.contract import Component
from hcp.controlplane.context import RenderContext, RenderError
from hcp.controlplane.pki import ETCD_DISCOVERY_SERVICE
from hcp.controlplane.tls_flags import etcd_tls_args, tls_security_profile
from hcp.images.python_app import PYTHON

NAME = "etcd"
HA_REPLICAS = 3
CLIENT_PORT, PEER_PORT, METRICS_PORT = 2379, 2380, 2382
CLUSTER_TOKEN = "etcd-cluster"
"""--initial-cluster-token; the docs' `etcdutl snapshot restore` passes the same."""
DATA_DIR = "/var/lib/data"
TLS = "/etc/etcd/tls"
RESTORE_FETCH, RESTORE_SNAPSHOT = "restore-fetch", "restore-snapshot"
RESTORE_DIR = "/var/lib/etcd-restore"
"""On the member's volume (sized for etcd, unlike an emptyDir on the node): the fetched snapshot and
the scratch data dir of the restore; removed once the member's data is in place."""
RESTORE_SNAPSHOT_FILE = f"{RESTORE_DIR}/snapshot.db"
RESTORE_CREDENTIALS_SECRET = "etcd-restore-credentials"
"""The Secret (in the control-plane namespace, optional) an s3:// restoreSnapshotURL is fetched with, in
HCPEtcdBackup's credentials format; its ca.crt is also trusted for an https:// URL."""
RESTORE_CREDENTIALS_DIR = "/etc/etcd-restore/credentials"
CLUSTER_STATE_FILE = "/etc/etcd/clusterstate/state"
RESTORE_SCRIPT = f"""\
set -eu
snapshot={RESTORE_SNAPSHOT_FILE}
if [ ! -f "$snapshot" ]; then
  echo "${{POD_NAME}}: no snapshot fetched, nothing to restore"
  exit 0
fi
if [ -f {DATA_DIR}/member/snap/db ]; then
  echo "${{POD_NAME}} already has data: the snapshot is not restored"
  rm -rf {RESTORE_DIR}
  exit 0
fi
rm -rf {RESTORE_DIR}/data
if ! etcdutl snapshot restore "$snapshot" --data-dir={RESTORE_DIR}/data "$@" > {RESTORE_DIR}/restore.log 2>&1; then
  cat {RESTORE_DIR}/restore.log >&2
  line="$(grep -v '^[[:space:]]*$' {RESTORE_DIR}/restore.log | tail -n 1)"
  echo "etcd restore: etcdutl snapshot restore failed: $line" > {TERMINATION_LOG}
  rm -rf {RESTORE_DIR}
  exit 1
fi
cat {RESTORE_DIR}/restore.log
mkdir -p {DATA_DIR}
mv {RESTORE_DIR}/data/member {DATA_DIR}/member
rm -rf {RESTORE_DIR}
echo "${{POD_NAME}} restored from the snapshot"
"""


def enabled(ctx: RenderContext) -> bool:
    """Only a managed etcd is hcp's to run; an unmanaged one (spec.etcd.unmanaged) runs elsewhere."""
    return ctx.hcp.spec.etcd.management_type == EtcdManagementType.MANAGED


def member_url(ctx: RenderContext, member: str, port: int) -> str:
    return f"https://{member}.{ETCD_DISCOVERY_SERVICE}.{ctx.namespace}.svc:{port}"


def restore_snapshot_url(ctx: RenderContext) -> str | None:
    """The one restoreSnapshotURL of the HostedControlPlane, if any (more than one is a RenderError)."""
    managed = ctx.hcp.spec.etcd.managed
    urls = managed.storage.restore_snapshot_url if managed else None
    if not urls:
        return None
    if len(urls) > 1:
        raise RenderError("spec.etcd.managed.storage.restoreSnapshotURL must not contain more than 1 entry")
    return urls[0]


def initial_cluster(ctx: RenderContext, replicas: int) -> str:
    return ",".join(f"etcd-{index}={member_url(ctx, f'etcd-{index}', PEER_PORT)}" for index in range(replicas))


def restore_args(ctx: RenderContext, replicas: int) -> list[str]:
    """`etcdutl snapshot restore` flags matching the member's own (name, peer URL, cluster, token)."""
    return [
        "--name=$(POD_NAME)",
        f"--initial-cluster={initial_cluster(ctx, replicas)}",
        f"--initial-cluster-token={CLUSTER_TOKEN}",
        f"--initial-advertise-peer-urls={member_url(ctx, '$(POD_NAME)', PEER_PORT)}",
    ]


def _restore_containers(ctx: RenderContext, url: str, image: str, replicas: int) -> list[dict[str, Any]]:
    if not ctx.operator_image:
        raise RenderError("restoreSnapshotURL needs hcp's operator image to fetch the snapshot, and the operator "
                          "does not know it (OPERATOR_IMAGE is unset)")
    pod_name = {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    fetch = {
        "name": RESTORE_FETCH,
        "image": ctx.operator_image,
        "command": [
            PYTHON, "-m", "hcp.backup.restore",
            f"--url={url}",
            f"--data-dir={DATA_DIR}",
            f"--cluster-state={CLUSTER_STATE_FILE}",
            f"--snapshot={RESTORE_SNAPSHOT_FILE}",
            f"--credentials-dir={RESTORE_CREDENTIALS_DIR}",
        ],
        "resources": default_requests(NAME, RESTORE_FETCH),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib"},
            {"name": "cluster-state", "mountPath": "/etc/etcd/clusterstate", "readOnly": True},
            {"name": "restore-credentials", "mountPath": RESTORE_CREDENTIALS_DIR, "readOnly": True},
        ],
    }
    restore = {
        "name": RESTORE_SNAPSHOT,
        "image": image,
        "command": ["/bin/sh", "-c", RESTORE_SCRIPT, "etcdutl"],
        "args": restore_args(ctx, replicas),
        "env": [pod_name],
        "resources": default_requests(NAME, RESTORE_SNAPSHOT),
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib"}],
    }
    return [fetch, restore]


def restore_failure(pods: list[dict[str, Any]]) -> str | None:
    """The first failed restore init container's termination message among etcd `pods` (as served), if any:
    failed now, or failed last time and waiting to be retried."""
    for pod in sorted(pods, key=lambda each: each.get("metadata", {}).get("name", "")):
        for status in (pod.get("status") or {}).get("initContainerStatuses") or []:
            if status.get("name") not in (RESTORE_FETCH, RESTORE_SNAPSHOT):
                continue
            state = status.get("state") or {}
            for terminated in (state.get("terminated"), None if "running" in state else
                               (status.get("lastState") or {}).get("terminated")):
                if terminated and terminated.get("exitCode", 0) != 0:
                    lines = (terminated.get("message") or "").strip().splitlines()
                    message = lines[-1].strip() if lines else ""
                    name = pod.get("metadata", {}).get("name", "etcd")
                    return (f"{name}: {message}" if message else
                            f"{name}: init container {status['name']} failed with exit code "
                            f"{terminated.get('exitCode')} ({terminated.get('reason') or 'Error'})")
    return None


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
    image = ctx.image("etcd")
    url = restore_snapshot_url(ctx)
    if url:
        pod["spec"]["initContainers"] += _restore_containers(ctx, url, image, replicas)
        pod["spec"]["volumes"].append({"name": "restore-credentials",
                                       "secret": {"secretName": RESTORE_CREDENTIALS_SECRET, "optional": True}})
    adapt_pod(ctx, pod, component=NAME, replicas=replicas, fs_group_change_policy="OnRootMismatch")
    for name in ("reset-member", NAME):
        each = container(pod["spec"], name)
        each["image"] = image
        each["resources"] = default_requests(NAME, name)
    for variable in container(pod["spec"], "reset-member")["env"]:
        if variable["name"] == "ETCD_MEMBERS":
            variable["value"] = str(replicas)

    container(pod["spec"], "etcd")["args"] = [
        "--name=$(POD_NAME)",
        f"--data-dir={DATA_DIR}",
        f"--listen-client-urls=https://0.0.0.0:{CLIENT_PORT}",
        f"--advertise-client-urls={member_url(ctx, '$(POD_NAME)', CLIENT_PORT)}",
        f"--listen-peer-urls=https://0.0.0.0:{PEER_PORT}",
        f"--initial-advertise-peer-urls={member_url(ctx, '$(POD_NAME)', PEER_PORT)}",
        f"--initial-cluster={initial_cluster(ctx, replicas)}",
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
        *etcd_tls_args(tls_security_profile(ctx)),
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


COMPONENT = Component(NAME, render, workloads=(("StatefulSet", "etcd"),), enabled=enabled)
