"""What `hcp install --uninstall` (and `hcp uninstall`) takes off a management cluster, in a safe order.

Hosted clusters first, or not at all: removing the operator while HostedClusters
exist would strand their control planes (and the finalizers that clean them up
would never run), so uninstall refuses while any exist unless forced. Forced, it
deletes them and waits until the still-running operator has removed them, their
NodePools and their control planes; only then does it delete the install in the
reverse of its apply order: the operator's Deployment before the rights it holds,
the rights before the admission policy that confines them, the namespace, and
the CRDs last.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lightkube import ApiError
from lightkube.codecs import resource_registry

from hcp.api import HostedCluster, HostedControlPlane, NodePool
from hcp.kube.apply import resource_of
from hcp.operator.install import InstallError, NAMESPACE

Log = Callable[[str], None]
POLL = 2.0
REPORT_EVERY = 15.0


def hosted_clusters(client: Any) -> list[str]:
    """`namespace/name` of every HostedCluster; none when the CRD is not installed."""
    return _names(client, resource_of(HostedCluster))


def _names(client: Any, resource: Any) -> list[str]:
    try:
        return sorted(f"{o.metadata.namespace}/{o.metadata.name}" for o in client.list(resource, namespace="*"))
    except ApiError as error:
        if error.status.code == 404:
            return []
        raise


def refusal(names: list[str]) -> str:
    """The one line uninstall answers with while hosted clusters exist."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    what = "HostedCluster exists" if len(names) == 1 else "HostedClusters exist"
    return (f"{len(names)} {what} ({shown}); delete them first (`hcp destroy cluster`), or pass --force to "
            f"delete them and wait for their control planes to be removed before the operator is")


def uninstall(client: Any, documents: list[dict], log: Log, *, force: bool = False,
              timeout: float = 900.0) -> None:
    """Remove the install `documents` (as `hcp.operator.install.render` made them) from the cluster."""
    names = hosted_clusters(client)
    if names and not force:
        raise InstallError(refusal(names))
    if names:
        _delete_hosted_clusters(client, names, log, timeout)
    for document in reversed(documents):
        _delete(client, document, log)
    _wait_gone(client, documents, log, timeout)


def _delete_hosted_clusters(client: Any, names: list[str], log: Log, timeout: float) -> None:
    resource = resource_of(HostedCluster)
    for name in names:
        namespace, _, short = name.partition("/")
        log(f"deleting HostedCluster {name}")
        try:
            client.delete(resource, short, namespace=namespace)
        except ApiError as error:
            if error.status.code != 404:
                raise
    kinds = {"HostedCluster": resource, "NodePool": resource_of(NodePool),
             "HostedControlPlane": resource_of(HostedControlPlane)}
    deadline = time.monotonic() + timeout
    reported = 0.0
    while True:
        left = {kind: found for kind, r in kinds.items() if (found := _names(client, r))}
        if not left:
            log("hosted clusters removed")
            return
        summary = "; ".join(f"{len(found)} {kind}{'s' if len(found) > 1 else ''} ({', '.join(found[:3])})"
                            for kind, found in left.items())
        if time.monotonic() > deadline:
            raise InstallError(f"still there after {timeout:.0f}s: {summary}; the operator removes them: see "
                               f"`kubectl -n {NAMESPACE} logs deployment/operator`; the operator is left installed")
        if time.monotonic() - reported >= REPORT_EVERY:
            log(f"waiting for the operator to remove {summary}")
            reported = time.monotonic()
        time.sleep(POLL)


def _resource(document: dict) -> Any:
    return resource_registry.load(document["apiVersion"], document["kind"])


def _delete(client: Any, document: dict, log: Log) -> None:
    metadata = document["metadata"]
    try:
        client.delete(_resource(document), metadata["name"], namespace=metadata.get("namespace"))
    except ApiError as error:
        if error.status.code == 404:
            return
        raise
    where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    log(f"deleted {document['kind']} {where}{metadata['name']}")


def _wait_gone(client: Any, documents: list[dict], log: Log, timeout: float) -> None:
    """The namespace and the CRDs terminate asynchronously: done when they are gone."""
    pending = [d for d in documents if d["kind"] in ("Namespace", "CustomResourceDefinition")]
    deadline = time.monotonic() + timeout
    while pending:
        still = []
        for document in pending:
            try:
                client.get(_resource(document), document["metadata"]["name"])
                still.append(document)
            except ApiError as error:
                if error.status.code != 404:
                    raise
        pending = still
        if not pending:
            break
        if time.monotonic() > deadline:
            names = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in pending)
            raise InstallError(f"still terminating after {timeout:.0f}s: {names}; see `kubectl get` of them")
        time.sleep(POLL)
    log("hcp is uninstalled")
