"""Creating, waiting for and destroying hosted clusters and NodePools on a management cluster.

`create` applies the HostedCluster last: it is the commit point. Until it
exists a re-run applies everything again (server-side apply converges), and
`destroy` finds the rest by HyperShift's `auto-created-for-infra` label; once
it exists the cluster is complete and a re-run says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightkube import ApiError
from lightkube.codecs import resource_registry
from lightkube.core import resource as lk
from lightkube.resources.core_v1 import Namespace, Node, Secret
from lightkube.types import PatchType

from hcp.api import API_VERSION, HostedCluster, HostedControlPlane, NodePool
from hcp.hostedcluster.kube import FIELD_MANAGER, HostedClusterError, Kube
from hcp.api.names import AUTO_CREATED_LABEL, control_plane_namespace
from hcp.hostedcluster.objects import parse_version, release_version
from hcp.kube.apply import resource_of
from hcp.kube.objects import as_dict
from hcp.management.layout import Layout

HOSTED_CLUSTERS = resource_of(HostedCluster)
NODE_POOLS = resource_of(NodePool)
CONTROL_PLANES = resource_of(HostedControlPlane)
POLL_SECONDS = 2.0
OPERATOR_LOGS = "kubectl -n hypershift logs deployment/operator"

Log = Callable[[str], None]


def management_node_address(kube: Kube, state_dir: Path) -> str:
    """Where clients reach the management cluster's node ports: the embedded node, else the first node.

    Of a node's addresses, HyperShift's order: ExternalDNS, ExternalIP, InternalIP.
    """
    config = Layout(state_dir).load_config()
    if config is not None and config.api_server_url == kube.server:
        return config.node_ip
    for node in kube.list(Node):
        addresses = {address.type: address.address for address in (node.status.addresses or [])}
        for kind in ("ExternalDNS", "ExternalIP", "InternalIP"):
            if addresses.get(kind):
                return addresses[kind]
    raise HostedClusterError("no node of the management cluster has an address to publish the control plane on; "
                             "pass --api-server-address")


def create_cluster(kube: Kube, objects: list[dict[str, Any]], log: Log) -> None:
    """Apply a cluster's objects, the HostedCluster last; an existing HostedCluster is an error."""
    cluster = next(o for o in objects if o["kind"] == "HostedCluster")
    namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    if kube.get_or_none(HOSTED_CLUSTERS, name, namespace) is not None:
        raise _exists(namespace, name)
    for obj in sorted(objects, key=lambda o: o["kind"] == "HostedCluster"):
        metadata = obj["metadata"]
        resource = _resource(obj)
        if obj is cluster:
            try:
                kube.client.create(resource(obj))
            except ApiError as error:
                if error.status.code == 409:
                    raise _exists(namespace, name) from None
                raise
        else:
            kube.client.patch(resource, metadata["name"], obj, namespace=metadata.get("namespace"),
                              patch_type=PatchType.APPLY, field_manager=FIELD_MANAGER, force=True)
        log(f"created {obj['kind']} {_key(metadata.get('namespace'), metadata['name'])}")


def create_node_pool(kube: Kube, pool: dict[str, Any]) -> None:
    """Create a NodePool for an existing HostedCluster, refusing a release newer than its control plane."""
    namespace, name = pool["metadata"]["namespace"], pool["metadata"]["name"]
    cluster = hosted_cluster(kube, namespace, pool["spec"]["clusterName"])
    check_node_pool_release(cluster, pool["spec"]["release"]["image"])
    try:
        kube.client.create(NODE_POOLS(pool))
    except ApiError as error:
        if error.status.code == 409:
            raise HostedClusterError(
                f"NodePool {namespace}/{name} already exists; scale it with "
                f"`kubectl -n {namespace} scale nodepool/{name} --replicas=N` or pick another --name") from None
        raise


def hosted_cluster(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    found = kube.get_or_none(HOSTED_CLUSTERS, name, namespace)
    if found is None:
        raise HostedClusterError(f"HostedCluster {namespace}/{name} not found; "
                                 f"list them with `kubectl get hostedclusters -A`")
    return as_dict(found)


def check_node_pool_release(cluster: dict[str, Any], image: str) -> None:
    """A NodePool may not run a newer Kubernetes than its control plane (docs 6.5, 6.6).

    The control plane's version is the one it reports, else its release tag;
    an untagged (digest) release cannot be compared here and is left to the
    NodePool controller's ValidReleaseImage condition.
    """
    desired = ((cluster.get("status") or {}).get("version") or {}).get("desired") or {}
    reported = parse_version(desired["version"]) if desired.get("version") else None
    control_plane = reported or release_version(cluster["spec"]["release"]["image"])
    pool = release_version(image)
    if control_plane and pool and pool > control_plane:
        metadata = cluster["metadata"]
        raise HostedClusterError(
            f"release image {image} (Kubernetes {_text(pool)}) is newer than the control plane of HostedCluster "
            f"{metadata['namespace']}/{metadata['name']} (Kubernetes {_text(control_plane)}); "
            f"update the HostedCluster's release first or pass an older --release-image")


def wait_for_cluster(kube: Kube, namespace: str, name: str, nodes: int, log: Log,
                     timeout: float | None) -> None:
    """Log each phase as it completes: control-plane namespace, etcd, API server, nodes."""
    target = control_plane_namespace(namespace, name)
    phases: list[tuple[str, Callable[[dict[str, Any]], tuple[bool, str]]]] = [
        (f"control-plane namespace {target}", lambda hc: _namespace_phase(kube, target)),
        ("etcd", lambda hc: _control_plane_condition(kube, target, name, "EtcdAvailable")),
        ("API server", _api_server_phase),
    ]
    if nodes > 0:
        phases.append((f"{nodes} nodes", lambda hc: _nodes_phase(kube, namespace, name, nodes)))
    deadline = time.monotonic() + timeout if timeout else None
    while phases:
        cluster = hosted_cluster(kube, namespace, name)
        _fail_on_invalid(cluster)
        while phases:
            what, check = phases[0]
            done, detail = check(cluster)
            if not done:
                break
            log(detail)
            phases.pop(0)
        if not phases:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise HostedClusterError(
                f"timed out after {timeout:.0f}s waiting for {what} of hosted cluster {namespace}/{name}: {detail}; "
                f"see `kubectl -n {namespace} describe hostedcluster {name}` and `kubectl -n {target} get pods`")
        time.sleep(POLL_SECONDS)


def destroy_cluster(kube: Kube, namespace: str, name: str, log: Log, grace_period: float) -> None:
    """Delete the HostedCluster, then wait until nothing of the cluster is left (or the grace period ends).

    The operator's finalizer removes NodePools and the control-plane namespace;
    what only the CLI made (its Secrets) or what outlived an interrupted create
    (NodePools without a HostedCluster) is removed here once the HostedCluster is gone.
    """
    left = leftovers(kube, namespace, name)
    if not left:
        raise HostedClusterError(f"HostedCluster {namespace}/{name} not found and nothing of it is left; "
                                 f"list hosted clusters with `kubectl get hostedclusters -A`")
    if f"HostedCluster {namespace}/{name}" in left:
        _delete(kube, HOSTED_CLUSTERS, name, namespace)
        log(f"deleting HostedCluster {namespace}/{name}")
    else:
        log(f"HostedCluster {namespace}/{name} is gone; removing what is left of it")
    deadline = time.monotonic() + grace_period
    while True:
        if kube.get_or_none(HOSTED_CLUSTERS, name, namespace) is None:
            for pool in _node_pools(kube, namespace, name):
                _delete(kube, NODE_POOLS, pool, namespace)
            for secret in _secrets(kube, namespace, name):
                _delete(kube, Secret, secret, namespace)
        now_left = leftovers(kube, namespace, name)
        for gone in [item for item in left if item not in now_left]:
            log(f"{gone} deleted")
        left = now_left
        if not left:
            log(f"hosted cluster {namespace}/{name} destroyed")
            return
        if time.monotonic() > deadline:
            raise HostedClusterError(
                f"hosted cluster {namespace}/{name} not destroyed within {grace_period:.0f}s; left: "
                f"{', '.join(left)}; see the operator's logs: `{OPERATOR_LOGS}`")
        time.sleep(POLL_SECONDS)


def leftovers(kube: Kube, namespace: str, name: str) -> list[str]:
    """Everything of a hosted cluster that exists: HostedCluster, NodePools, control-plane namespace, Secrets."""
    found = []
    if kube.get_or_none(HOSTED_CLUSTERS, name, namespace) is not None:
        found.append(f"HostedCluster {namespace}/{name}")
    found += [f"NodePool {namespace}/{pool}" for pool in _node_pools(kube, namespace, name)]
    target = control_plane_namespace(namespace, name)
    if kube.get_or_none(Namespace, target) is not None:
        found.append(f"namespace {target}")
    found += [f"Secret {namespace}/{secret}" for secret in _secrets(kube, namespace, name)]
    return found


def _node_pools(kube: Kube, namespace: str, name: str) -> list[str]:
    pools = [as_dict(pool) for pool in kube.list(NODE_POOLS, namespace)]
    return sorted(p["metadata"]["name"] for p in pools if (p.get("spec") or {}).get("clusterName") == name)


def _secrets(kube: Kube, namespace: str, name: str) -> list[str]:
    """Secrets the CLI created for the cluster, and those the HostedCluster owns (its admin kubeconfig)."""
    def owned(secret: Any) -> bool:
        return any(ref.kind == "HostedCluster" and ref.name == name
                   for ref in secret.metadata.ownerReferences or [])
    return sorted(s.metadata.name for s in kube.list(Secret, namespace)
                  if (s.metadata.labels or {}).get(AUTO_CREATED_LABEL) == name or owned(s))


def _fail_on_invalid(cluster: dict[str, Any]) -> None:
    """Stop waiting for what cannot happen: the operator rejected the release or the configuration."""
    for condition in (cluster.get("status") or {}).get("conditions") or []:
        if condition["type"] in ("ValidReleaseImage", "ValidConfiguration") and condition["status"] == "False":
            metadata = cluster["metadata"]
            raise HostedClusterError(f"HostedCluster {metadata['namespace']}/{metadata['name']}: "
                                     f"{condition['message']}")


def _namespace_phase(kube: Kube, target: str) -> tuple[bool, str]:
    if kube.get_or_none(Namespace, target) is None:
        return False, f"namespace {target} does not exist yet"
    return True, f"control-plane namespace {target} created"


def _control_plane_condition(kube: Kube, target: str, name: str, type_: str) -> tuple[bool, str]:
    control_plane = kube.get_or_none(CONTROL_PLANES, name, target)
    condition = _condition(as_dict(control_plane) if control_plane else {}, type_)
    if condition is None:
        return False, f"HostedControlPlane {target}/{name} reports no {type_} yet"
    return condition["status"] == "True", condition.get("message") or f"{type_} is {condition['status']}"


def _api_server_phase(cluster: dict[str, Any]) -> tuple[bool, str]:
    condition = _condition(cluster, "Available")
    status = cluster.get("status") or {}
    endpoint = status.get("controlPlaneEndpoint") or {}
    if condition is None or condition["status"] != "True" or not status.get("kubeconfig"):
        return False, (condition or {}).get("message") or "the HostedCluster reports no Available condition yet"
    return True, f"API server available at https://{endpoint.get('host')}:{endpoint.get('port')}"


def _nodes_phase(kube: Kube, namespace: str, name: str, nodes: int) -> tuple[bool, str]:
    pool = kube.get_or_none(NODE_POOLS, name, namespace)
    status = as_dict(pool).get("status") or {} if pool else {}
    ready = status.get("replicas") or 0
    if ready >= nodes:
        return True, f"{ready} of {nodes} nodes ready"
    message = next((c.get("message") for c in status.get("conditions") or [] if c["type"] == "Ready"), None)
    return False, f"NodePool {namespace}/{name} has {ready} of {nodes} nodes" + (f" ({message})" if message else "")


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


def _delete(kube: Kube, resource: type[lk.Resource], name: str, namespace: str) -> None:
    try:
        kube.client.delete(resource, name, namespace=namespace)
    except ApiError as error:
        if error.status.code != 404:
            raise


def _resource(obj: dict[str, Any]) -> type[lk.Resource]:
    if obj["apiVersion"] == API_VERSION:
        return {"HostedCluster": HOSTED_CLUSTERS, "NodePool": NODE_POOLS}[obj["kind"]]
    return resource_registry.load(obj["apiVersion"], obj["kind"])


def _exists(namespace: str, name: str) -> HostedClusterError:
    return HostedClusterError(
        f"HostedCluster {namespace}/{name} already exists; get its kubeconfig with `hcp create kubeconfig "
        f"--namespace {namespace} --name {name}` or remove it with "
        f"`hcp destroy cluster kwok --namespace {namespace} --name {name}`")


def _key(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
