"""Creating, waiting for and destroying hosted clusters and NodePools on a management cluster.

Creating is all or nothing, and `hcp create cluster` and `hcp create nodepool`
share one code path (`create_objects`):

1. Plan: read which objects exist. The last object is the commit point
   (the HostedCluster, or the one NodePool of `create nodepool`) and must not
   exist yet: a re-run on an existing HostedCluster says so and changes nothing.
2. Validate every object with a server-side dry run (`dryRun=All`): schema,
   CEL rules and admission (policies, webhooks) judge each object exactly as
   they will for real, so a refusal of any one is reported before anything
   exists. The API validates nothing inside a namespace that does not exist
   (the dry run answers NotFound), so a namespace that is missing is created
   first, for real, and counts as made by this run. Dry-running the rest in
   another namespace, or skipping them, would not validate what will be sent.
3. Apply in dependency order: namespace, Secrets, NodePool, HostedCluster.
   An object that is missing is created (so this run knows it made it, and its
   uid); one that exists, left by an interrupted run, is applied (server-side
   apply converges it) and is never removed.
4. On any failure after something was created, remove exactly what this run
   created, newest first, each only while it still has the uid it was created
   with, wait until it is gone, and say so one line per object; what could
   not be removed is named in the error.

The HostedCluster is applied last rather than before its NodePool because it
is the only object the operator acts on by itself: until it exists the
Secrets are inert and the NodePool waits for its cluster, so removing them is
immediate and cheap, whereas removing a HostedCluster means tearing down a
control plane that has started. It also keeps re-runs sound: an existing
HostedCluster means everything before it was made (a re-run says the cluster
exists), and a run interrupted before it leaves objects a re-run converges and
`destroy` finds by HyperShift's `auto-created-for-infra` label.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
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
ROLLBACK_SECONDS = 60.0
"""How long a failed create waits for what it removes to be gone (a namespace takes a few seconds)."""
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
    """Create a cluster's objects, all or nothing, the HostedCluster last; an existing HostedCluster is an error."""
    ordered = sorted(objects, key=lambda o: o["kind"] == "HostedCluster")
    metadata = ordered[-1]["metadata"]
    create_objects(kube, ordered, log, _exists(metadata["namespace"], metadata["name"]))


def create_node_pool(kube: Kube, pool: dict[str, Any], log: Log) -> None:
    """Create a NodePool for an existing HostedCluster, refusing a release newer than its control plane."""
    namespace, name = pool["metadata"]["namespace"], pool["metadata"]["name"]
    cluster = hosted_cluster(kube, namespace, pool["spec"]["clusterName"])
    check_node_pool_release(cluster, pool["spec"]["release"]["image"])
    create_objects(kube, [pool], log, HostedClusterError(
        f"NodePool {namespace}/{name} already exists; scale it with "
        f"`kubectl -n {namespace} scale nodepool/{name} --replicas=N` or pick another --name"))


@dataclass
class _Step:
    """One object to create: what it is, whether it existed before, and its uid once this run created it."""

    obj: dict[str, Any]
    resource: type[lk.Resource]
    existed: bool = False
    uid: str | None = None

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.obj["metadata"].get("namespace")

    @property
    def what(self) -> str:
        return f"{self.obj['kind']} {_key(self.namespace, self.name)}"

    @property
    def is_namespace(self) -> bool:
        return self.obj["apiVersion"] == "v1" and self.obj["kind"] == "Namespace"


def create_objects(kube: Kube, objects: list[dict[str, Any]], log: Log, exists: HostedClusterError) -> None:
    """Validate `objects` with a server-side dry run, then create them in order; all of them or none.

    The last object is the commit point: `exists` is raised if it exists
    already. See the module docstring for the steps and why.
    """
    steps = [_Step(obj, _resource(obj)) for obj in objects]
    commit = steps[-1]
    for this in [commit, *steps[:-1]]:  # the commit point first: it decides "exists" and "operator not installed"
        this.existed = kube.get_or_none(this.resource, this.name, this.namespace) is not None
    if commit.existed:
        raise exists
    created: list[_Step] = []
    step, dry_run = commit, True  # what was being sent when a request failed

    def send(this: _Step, *, dry: bool) -> None:
        nonlocal step, dry_run
        step, dry_run = this, dry
        _send(kube, this, commit, dry_run=dry)
        if this.uid is not None and this not in created:
            created.append(this)

    try:
        for this in steps:
            if this.is_namespace and not this.existed:
                send(this, dry=True)
                send(this, dry=False)
                log(f"{_done(this)} (needed before the objects in it can be validated)")
            elif not this.is_namespace:
                send(this, dry=True)
        log(f"validated {_count(sum(not s.is_namespace for s in steps))} with a server-side dry run")
        for this in steps:
            if not this.is_namespace:
                send(this, dry=False)
                log(_done(this))
    except ApiError as error:
        left = _roll_back(kube, created, log)
        if error.status.code == 409 and step is commit:
            raise HostedClusterError(f"{exists}{_left(left)}") from None
        message = " ".join((error.status.message or error.status.reason or "").split())
        what = f"{step.what} (server-side dry run)" if dry_run else step.what
        outcome = _left(left) or ("; nothing was created" if not created else
                                  "; everything this run had created was removed")
        raise HostedClusterError(f"the API server refused {what}: {message}{outcome}") from None
    except BaseException:
        left = _roll_back(kube, created, log)
        if left:
            log(f"left behind: {', '.join(left)}")
        raise


def _send(kube: Kube, step: _Step, commit: _Step, *, dry_run: bool) -> None:
    """Create the object if it is missing (recording its uid), else apply it; the commit point is only created.

    An object that appeared since the plan (409) was made by someone else: it
    is applied like one that existed, and not this run's to remove.
    """
    if not step.existed or step is commit:
        try:
            made = kube.client.create(step.resource.from_dict(step.obj), dry_run=dry_run)
            if not dry_run:
                step.uid = made.metadata.uid
            return
        except ApiError as error:
            if error.status.code != 409 or step is commit:
                raise
            step.existed = True
    kube.client.patch(step.resource, step.name, step.obj, namespace=step.namespace, patch_type=PatchType.APPLY,
                      field_manager=FIELD_MANAGER, force=True, dry_run=dry_run)


def _roll_back(kube: Kube, created: list[_Step], log: Log) -> list[str]:
    """Remove what this run created, newest first, and wait until each is gone; what is left, if anything."""
    left: list[str] = []
    deadline = time.monotonic() + ROLLBACK_SECONDS
    for step in reversed(created):
        try:
            kube.delete(step.resource, step.name, step.namespace, uid=step.uid)
        except ApiError as error:
            if error.status.code == 409:  # the uid precondition failed: the name holds another object now
                log(f"kept {step.what}: it was replaced by an object this run did not create")
                continue
            if error.status.code != 404:
                log(f"could not remove {step.what}: {error.status.message}")
                left.append(step.what)
                continue
        except (httpx2.HTTPError, HostedClusterError) as error:
            log(f"could not remove {step.what}: {error}")
            left.append(step.what)
            continue
        if _gone(kube, step, deadline):
            log(f"removed {step.what}")
        else:
            log(f"{step.what} is still being deleted")
            left.append(f"{step.what} (still being deleted)")
    return left


def _gone(kube: Kube, step: _Step, deadline: float) -> bool:
    """Whether the object this run created is gone (its name may hold another one), waiting until `deadline`."""
    while True:
        try:
            live = kube.get_or_none(step.resource, step.name, step.namespace)
            if live is None or live.metadata.uid != step.uid:
                return True
        except (ApiError, httpx2.HTTPError, HostedClusterError):
            pass  # not known yet: ask again until the deadline
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)


def _done(step: _Step) -> str:
    return f"{'created' if step.uid else 'updated existing'} {step.what}"


def _count(n: int) -> str:
    return f"{n} object" + ("" if n == 1 else "s")


def _left(left: list[str]) -> str:
    return f"; could not remove what this run created, left behind: {', '.join(left)}" if left else ""


def hosted_cluster(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    found = kube.get_or_none(HOSTED_CLUSTERS, name, namespace)
    if found is None:
        raise HostedClusterError(f"HostedCluster {namespace}/{name} not found; "
                                 f"list them with `kubectl get hostedclusters -A`")
    return as_dict(found)


def node_pool(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    found = kube.get_or_none(NODE_POOLS, name, namespace)
    if found is None:
        raise HostedClusterError(f"NodePool {namespace}/{name} not found; list them with `kubectl -n {namespace} "
                                 f"get nodepools`")
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
    """Log each phase as it completes: control-plane namespace, etcd, API server, nodes; and, while one
    is not done, what it waits for each time that changes (`Waiting`), so that a control plane that cannot
    be scheduled says so ("API server: ... pod kube-scheduler-... cannot be scheduled: 0/1 nodes are
    available: 1 Insufficient cpu.") rather than leaving the user with silence until the timeout."""
    target = control_plane_namespace(namespace, name)
    phases: list[tuple[str, Callable[[dict[str, Any]], tuple[bool, str]]]] = [
        (f"control-plane namespace {target}", lambda hc: _namespace_phase(kube, target)),
        ("etcd", lambda hc: _control_plane_condition(kube, target, name, "EtcdAvailable")),
        ("API server", _api_server_phase),
    ]
    if nodes > 0:
        phases.append((f"{nodes} nodes", lambda hc: _nodes_phase(kube, namespace, name, nodes)))
    deadline = time.monotonic() + timeout if timeout else None
    waiting = Waiting()
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
        line = waiting.line(what, detail)
        if line:
            log(line)
        if deadline is not None and time.monotonic() > deadline:
            raise HostedClusterError(
                f"timed out after {timeout:.0f}s waiting for {what} of hosted cluster {namespace}/{name}: {detail}; "
                f"see `kubectl -n {namespace} describe hostedcluster {name}` and `kubectl -n {target} get pods`")
        time.sleep(POLL_SECONDS)


class Waiting:
    """What `wait_for_cluster` says while a phase is not done: `<phase>: <what it waits for>`, once each time
    that changes. Once, so that a wait of minutes is a few lines in a log rather than one every poll; each
    change, so that the line a user reads is the control plane's current reason (a pod that cannot be
    scheduled, an image that cannot be pulled), not a stale one."""

    def __init__(self) -> None:
        self._last: tuple[str, str] | None = None

    def line(self, what: str, detail: str) -> str | None:
        """The line to show for this poll, or None when it would repeat the last one."""
        if (what, detail) == self._last:
            return None
        self._last = (what, detail)
        return f"{what}: {detail}"


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
    """Everything of a hosted cluster that exists: HostedCluster, NodePools, control-plane namespace, Secrets.

    A user who may not read the control-plane namespace (hcp's
    cluster-service-consumer, bound in the HostedCluster's namespace only) is
    not told about it: the HostedCluster's finalizer removes that namespace
    before the HostedCluster goes, so the HostedCluster's presence already
    stands for it.
    """
    found = []
    if kube.get_or_none(HOSTED_CLUSTERS, name, namespace) is not None:
        found.append(f"HostedCluster {namespace}/{name}")
    found += [f"NodePool {namespace}/{pool}" for pool in _node_pools(kube, namespace, name)]
    target = control_plane_namespace(namespace, name)
    try:
        if kube.get_or_none(Namespace, target) is not None:
            found.append(f"namespace {target}")
    except ApiError as error:
        if error.status.code != 403:
            raise
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
