"""`hcp dump cluster`: the must-gather of a hosted cluster (docs 12.1), never with Secret values.

Layout, as `oc adm inspect` lays it out (group "core" for the legacy API):

    cluster-scoped-resources/core/nodes.yaml            the management cluster's nodes
    namespaces/<ns>/<group>/<resource>.yaml             one List per kind
    namespaces/<ns>/pods/<pod>/<container>/{current,previous}.log
    hostedcluster-<name>/...                            the hosted cluster, same layout
    dump-errors.txt                                     what could not be gathered, if anything

From the HostedCluster's namespace only the cluster's own objects are taken
(the HostedCluster, its NodePools, the Secrets it references or owns, what
they own, their events); the control-plane namespace and the operator's
namespace are taken whole, every kind the API serves that can be listed:
NetworkPolicies among them, and ServiceMonitors where the Prometheus
Operator's CRD is installed (a group the server does not serve is simply not
discovered; one it lists but cannot describe, such as an aggregated API whose
backend is down, is an entry in dump-errors.txt). A Secret is written as its
metadata, type and key names only.

The audit log of each kube-apiserver is the log of its audit-logs container
(`namespaces/<control-plane ns>/pods/kube-apiserver-*/audit-logs/current.log`):
that container streams the log file, so the pod's log holds it, rotations
included, as far back as the kubelet keeps container logs. The audit policy
logs Secrets at Metadata only, so no Secret value is in it either.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import yaml

from hcp.hostedcluster.kube import Kube
from hcp.hostedcluster.kubeconfig import admin_kubeconfig
from hcp.api.names import AUTO_CREATED_LABEL, control_plane_namespace
from hcp.hostedcluster.lifecycle import hosted_cluster

OPERATOR_NAMESPACE = "hypershift"
ARCHIVE = "hypershift-dump.tar.gz"
ERRORS = "dump-errors.txt"
SKIPPED_GROUPS = frozenset({"events.k8s.io"})
"""The same Events as core/v1 `events`, which are dumped."""
SKIPPED_RESOURCES = frozenset({"componentstatuses"})
"""Deprecated, and not objects of any namespace or cluster."""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

Log = Callable[[str], None]
Items = list[dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A listable resource as discovery reports it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def directory(self) -> str:
        return self.group or "core"

    def path(self, namespace: str | None = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{prefix}/namespaces/{namespace}/{self.plural}" if namespace else f"{prefix}/{self.plural}"


Related = Callable[[list[tuple[Kind, Items]]], list[Items]]
"""Given each kind's objects of a namespace, keeps (per kind, in order) those a dump should hold."""


@dataclass
class Dump:
    root: Path
    log: Log
    errors: list[str] = field(default_factory=list)

    def write_list(self, path: Path, kind: Kind, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        document = {"apiVersion": "v1", "kind": "List", "items": [_clean(kind, item) for item in items]}
        self.write_text(path, yaml.safe_dump(document, sort_keys=False))

    def write_text(self, path: Path, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def fail(self, what: str, error: Exception) -> None:
        self.errors.append(f"{what}: {_reason(error)}")


def dump_cluster(kube: Kube, namespace: str, name: str, artifact_dir: Path, log: Log, *,
                 guest: bool = False, archive: bool = False) -> list[str]:
    """Write the dump into `artifact_dir`; returns what could not be gathered (also in dump-errors.txt)."""
    cluster = hosted_cluster(kube, namespace, name)
    dump = Dump(artifact_dir, log)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    kinds = discover(kube, dump.fail)
    nodes = next(k for k in kinds if k.kind == "Node" and not k.group)
    dump.write_list(Path("cluster-scoped-resources", "core", "nodes.yaml"), nodes, _list(kube, dump, nodes))

    log(f"dumping the objects of hosted cluster {name} in namespace {namespace}")
    _dump_namespace(kube, dump, kinds, namespace, related=_related_filter(cluster))
    target = control_plane_namespace(namespace, name)
    for whole in (target, OPERATOR_NAMESPACE):
        log(f"dumping namespace {whole}")
        pods = _dump_namespace(kube, dump, kinds, whole)
        _dump_logs(kube, dump, whole, pods)
    if guest:
        log(f"dumping hosted cluster {name} through its API server")
        try:
            _dump_guest(kube.other(admin_kubeconfig(kube, namespace, name)), dump, Path(f"hostedcluster-{name}"))
        except Exception as error:  # a down hosted API must not cost the management-side dump
            dump.fail(f"hosted cluster {namespace}/{name}", error)
    if dump.errors:
        dump.write_text(Path(ERRORS), "\n".join(dump.errors) + "\n")
    if archive:
        path = artifact_dir / ARCHIVE
        with tarfile.open(path, "w:gz") as tar:
            for member in sorted(artifact_dir.iterdir()):
                if member.name != ARCHIVE:
                    tar.add(member, arcname=member.name)
        log(f"archive {path}")
    return dump.errors


def discover(kube: Kube, fail: Callable[[str, Exception], None] | None = None) -> list[Kind]:
    """Every listable kind the server serves, at its group's preferred version.

    A group whose resources cannot be read (an aggregated API whose backend is down, a CRD deleted meanwhile) is
    passed to `fail` and left out, so that it costs only its own kinds; without `fail` it raises.
    """
    versions = [("", "v1")] + [
        (group["name"], group["preferredVersion"]["version"])
        for group in kube.get("/apis").json()["groups"] if group["name"] not in SKIPPED_GROUPS
    ]
    kinds = []
    for group, version in versions:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            resources = kube.get(path).json()["resources"]
        except (httpx2.HTTPError, OSError, ValueError) as error:
            if fail is None or not group:
                raise
            fail(f"discovery of {group}/{version}", error)
            continue
        for resource in resources:
            if "/" not in resource["name"] and "list" in resource.get("verbs", []) \
                    and resource["name"] not in SKIPPED_RESOURCES:
                kinds.append(Kind(group, version, resource["name"], resource["kind"], resource["namespaced"]))
    return kinds


def _dump_namespace(kube: Kube, dump: Dump, kinds: list[Kind], namespace: str,
                    related: Related | None = None) -> list[dict[str, Any]]:
    """Write every kind of `namespace` (those `related` keeps, when given); returns its pods."""
    listed = {kind: _list(kube, dump, kind, namespace) for kind in kinds if kind.namespaced}
    if related is not None:
        listed = dict(zip(listed, related(list(listed.items())), strict=True))
    for kind, items in listed.items():
        dump.write_list(Path("namespaces", namespace, kind.directory, f"{kind.plural}.yaml"), kind, items)
    return next((items for kind, items in listed.items() if kind.kind == "Pod" and not kind.group), [])


def _related_filter(cluster: dict[str, Any]) -> Related:
    """Keeps of a shared namespace what belongs to the cluster: see the module docstring."""
    name = cluster["metadata"]["name"]
    spec, status = cluster["spec"], cluster.get("status") or {}
    encryption = (spec.get("secretEncryption") or {}).get("aescbc") or {}
    referenced = {ref.get("name") for ref in (spec.get("pullSecret"), spec.get("sshKey"), status.get("kubeconfig"),
                                              status.get("kubeadminPassword"), encryption.get("activeKey"),
                                              encryption.get("backupKey"), spec.get("auditWebhook")) if ref}

    def related(listed: list[tuple[Kind, list[dict[str, Any]]]]) -> list[list[dict[str, Any]]]:
        uids = {cluster["metadata"]["uid"]}
        for kind, items in listed:
            if kind.kind == "NodePool":
                uids |= {i["metadata"]["uid"] for i in items if i["spec"].get("clusterName") == name}

        def belongs(kind: Kind, item: dict[str, Any]) -> bool:
            metadata = item["metadata"]
            if kind.kind == "Event":
                return (item.get("involvedObject") or {}).get("uid") in uids
            return (metadata.get("uid") in uids
                    or (metadata.get("labels") or {}).get(AUTO_CREATED_LABEL) == name
                    or (kind.kind in ("Secret", "ConfigMap") and metadata["name"] in referenced)
                    or any(ref["uid"] in uids for ref in metadata.get("ownerReferences") or []))
        return [[item for item in items if belongs(kind, item)] for kind, items in listed]
    return related


def _dump_logs(kube: Kube, dump: Dump, namespace: str, pods: list[dict[str, Any]]) -> None:
    """Current and (after a restart) previous logs of every container, through pods/log."""
    for pod in pods:
        name = pod["metadata"]["name"]
        status = pod.get("status") or {}
        statuses = {s["name"]: s for s in (status.get("initContainerStatuses") or [])
                    + (status.get("containerStatuses") or [])}
        spec = pod["spec"]
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            container_name = container["name"]
            state = statuses.get(container_name) or {}
            if not state or ("waiting" in (state.get("state") or {}) and not state.get("lastState")):
                continue  # never started: no log to read
            directory = Path("namespaces", namespace, "pods", name, container_name)
            logs = [("current.log", False)]
            if state.get("restartCount") or (state.get("lastState") or {}).get("terminated"):
                logs.append(("previous.log", True))
            for file, previous in logs:
                path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
                try:
                    text = kube.get(path, container=container_name, previous="true" if previous else None).text
                except (httpx2.HTTPError, OSError) as error:
                    dump.fail(f"log of {namespace}/{name}/{container_name} ({file})", error)
                    continue
                dump.write_text(directory / file, text)


def _dump_guest(guest: Kube, dump: Dump, root: Path) -> None:
    """The hosted cluster's objects: cluster-scoped ones (nodes, CRDs, ...) and every namespace's."""
    with guest:
        for kind in discover(guest, dump.fail):
            items = _list(guest, dump, kind)
            if not kind.namespaced:
                dump.write_list(root / "cluster-scoped-resources" / kind.directory / f"{kind.plural}.yaml",
                                kind, items)
                continue
            by_namespace: dict[str, list[dict[str, Any]]] = {}
            for item in items:
                by_namespace.setdefault(item["metadata"]["namespace"], []).append(item)
            for namespace, namespaced in by_namespace.items():
                dump.write_list(root / "namespaces" / namespace / kind.directory / f"{kind.plural}.yaml",
                                kind, namespaced)


def _list(kube: Kube, dump: Dump, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
    try:
        return kube.get(kind.path(namespace)).json().get("items") or []
    except (httpx2.HTTPError, OSError, ValueError) as error:
        dump.fail(f"{kind.plural}.{kind.group or 'core'}" + (f" in {namespace}" if namespace else ""), error)
        return []


def _clean(kind: Kind, item: dict[str, Any]) -> dict[str, Any]:
    """The object with its kind (lists omit it), without managedFields, and a Secret without values."""
    metadata = {k: v for k, v in item["metadata"].items() if k != "managedFields"}
    if kind.kind == "Secret" and not kind.group:
        annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != LAST_APPLIED}
        metadata = {**metadata, "annotations": annotations} if annotations else \
            {k: v for k, v in metadata.items() if k != "annotations"}
        keys = sorted({*(item.get("data") or {}), *(item.get("stringData") or {})})
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": item.get("type"), "keys": keys}
    rest = {k: v for k, v in item.items() if k not in ("apiVersion", "kind", "metadata")}
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata, **rest}


def _reason(error: Exception) -> str:
    if isinstance(error, httpx2.HTTPStatusError):
        try:
            return error.response.json().get("message") or str(error)
        except ValueError:
            return f"HTTP {error.response.status_code}: {error.response.text.strip()[:200]}"
    return str(error) or type(error).__name__
