"""The resource requests of every control-plane container, in one table, sized from measured usage.

Why these numbers: a request is what the scheduler reserves, so it decides how
many control planes a management node holds, while a container may use more
when the node has it (no limits are set). Requests far above use waste the
node: at the former sizes (the API server 100m / 300Mi, ...: 240 mCPU per
control plane) seven control planes filled a 2-core node whose CPU was 80 %
idle. Each request below is the container's idle usage on a SingleReplica
KWOK control plane, rounded up with about a quarter of headroom (measured with
kubelet's stats/summary 60 s after Available, `bench/hosted_control_plane.py`,
2026-12-07, Kubernetes v1.37.1):

    container                           idle CPU   idle RSS    request
    kube-apiserver/kube-apiserver       11 mCPU    201 MiB     15m / 256Mi
    kube-apiserver/konnectivity-server  0.5        6           2m / 16Mi
    kube-apiserver/audit-logs           0.1        0.1         1m / 8Mi
    kube-controller-manager             8          40          10m / 64Mi
    kube-scheduler                      1.5        17          3m / 32Mi
    etcd/etcd                           5.4        26          8m / 48Mi
    kwok/kwok                           0.2        8           2m / 16Mi

A control plane that serves more (many nodes, many objects) uses more, and
gets it while the node has room; to reserve it, set HyperShift's
resource-request-override annotations on the HostedCluster
(hcp.controlplane.overrides), which replace these per container. Containers
that run only briefly (init containers, a restore) or only on other platforms
(the ignition server) keep small fixed requests.
"""

from __future__ import annotations

from typing import Any

REQUESTS: dict[tuple[str, str], tuple[str, str]] = {
    ("kube-apiserver", "kube-apiserver"): ("15m", "256Mi"),
    ("kube-apiserver", "konnectivity-server"): ("2m", "16Mi"),
    ("kube-apiserver", "audit-logs"): ("1m", "8Mi"),
    ("kube-controller-manager", "kube-controller-manager"): ("10m", "64Mi"),
    ("kube-scheduler", "kube-scheduler"): ("3m", "32Mi"),
    ("etcd", "etcd"): ("8m", "48Mi"),
    ("etcd", "reset-member"): ("5m", "16Mi"),
    ("etcd", "restore-fetch"): ("10m", "100Mi"),
    ("etcd", "restore-snapshot"): ("10m", "100Mi"),
    ("kwok", "kwok"): ("2m", "16Mi"),
    ("ignition-server", "ignition-server"): ("5m", "40Mi"),
    ("ignition-server", "kubelet"): ("5m", "20Mi"),
}
"""(workload, container) -> (cpu, memory) requested."""


def requests(cpu: str, memory: str) -> dict[str, Any]:
    """A container's `resources`: these requests, no limits."""
    return {"requests": {"cpu": cpu, "memory": memory}}


def default_requests(workload: str, container: str) -> dict[str, Any]:
    """The `resources` of a control-plane container, from REQUESTS (KeyError: the table misses it, a bug)."""
    return requests(*REQUESTS[(workload, container)])
