"""Server-side apply of whole objects and of status, for built-in kinds and custom resources alike.

Controllers render the complete desired object on every pass and apply it
under hcp's single field manager with force, so hcp owns exactly the fields it
sets and a field it stops setting is removed; an unchanged object is a no-op
on the server. Kinds are resolved to lightkube resources: built-in ones from
lightkube's models, hcp's own from its API package, any other from the CRD
that defines it in the cluster (looked up once, then registered).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightkube import ApiError, AsyncClient, LoadResourceError
from lightkube.codecs import resource_registry
from lightkube.core import resource as lk
from lightkube.generic_resource import create_global_resource, create_namespaced_resource, create_resources_from_crd
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.types import PatchType

from hcp.api import KINDS
from hcp.api.base import KubeModel, KubeObject
from hcp.kube.client import FIELD_MANAGER
from hcp.kube.objects import as_dict

Object = Mapping[str, Any] | KubeModel


def resource_of(model: type[KubeObject]) -> type[lk.Resource]:
    """The lightkube (generic) resource of one of hcp's kinds, e.g. HostedCluster."""
    group, _, version = model.model_fields["api_version"].default.rpartition("/")
    kind = model.model_fields["kind"].default
    create = create_namespaced_resource if model.resource.scope == "Namespaced" else create_global_resource
    return create(group, version, kind, model.resource.plural)


async def resource_for(client: AsyncClient, api_version: str, kind: str) -> type[lk.Resource]:
    """The lightkube resource for apiVersion/kind, creating a generic resource for custom kinds."""
    try:
        return resource_registry.load(api_version, kind)
    except LoadResourceError:
        pass
    for model in KINDS:
        if (model.model_fields["api_version"].default, model.model_fields["kind"].default) == (api_version, kind):
            return resource_of(model)
    group, _, version = api_version.rpartition("/")
    async for crd in client.list(CustomResourceDefinition):
        spec = crd.spec
        if spec.group == group and spec.names.kind == kind and any(v.name == version for v in spec.versions):
            create_resources_from_crd(crd)
            return resource_registry.load(api_version, kind)
    raise LoadResourceError(f"unknown kind {kind} in {api_version}: neither built in nor defined by a CRD")


async def apply(client: AsyncClient, obj: Object) -> Any:
    """Server-side apply `obj` as hcp (force: hcp takes over fields others set); returns the live object."""
    body = as_dict(obj)
    resource = await resource_for(client, body["apiVersion"], body["kind"])
    metadata = body["metadata"]
    return await client.patch(
        resource, metadata["name"], body, namespace=metadata.get("namespace"),
        patch_type=PatchType.APPLY, field_manager=FIELD_MANAGER, force=True,
    )


async def apply_status(
    client: AsyncClient,
    kind: type[lk.Resource] | type[KubeObject],
    name: str,
    namespace: str | None,
    status: Object,
    *,
    field_manager: str = FIELD_MANAGER,
) -> Any:
    """Server-side apply `status` on the status subresource (the main endpoint ignores status).

    Status fields that another controller writes alone (a HostedCluster's last backup) are
    applied under a `field_manager` of their own: the main manager's applies, which leave
    them out, then neither remove nor overwrite them.
    """
    resource = resource_of(kind) if issubclass(kind, KubeObject) else kind
    info = lk.api_info(resource).resource
    metadata = {"name": name, "namespace": namespace} if namespace else {"name": name}
    body = {"apiVersion": info.api_version, "kind": info.kind, "metadata": metadata, "status": as_dict(status)}
    return await client.patch(
        resource.Status, name, body, namespace=namespace,
        patch_type=PatchType.APPLY, field_manager=field_manager, force=True,
    )


async def get_or_none(client: AsyncClient, resource: Any, name: str, namespace: str | None = None) -> Any | None:
    """The object, or None if there is none."""
    try:
        return await client.get(resource, name, namespace=namespace)
    except ApiError as error:
        if error.status.code == 404:
            return None
        raise


async def delete_if_exists(
    client: AsyncClient, resource: type[lk.Resource], name: str, namespace: str | None = None
) -> bool:
    """Delete an object; False if it was already gone."""
    try:
        await client.delete(resource, name, namespace=namespace)
    except ApiError as error:
        if error.status.code == 404:
            return False
        raise
    return True


def owner_reference(obj: Any, *, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to `obj` (which must exist: it needs its uid), for objects in its namespace.

    With controller=True (the default) the owner is the object's managing
    controller; the garbage collector deletes the dependent with its owner, and
    foreground deletion of the owner waits for it.
    """
    body = as_dict(obj)
    metadata = body.get("metadata") or {}
    if not metadata.get("uid"):
        raise ValueError(f"{body.get('kind')} {metadata.get('name')} has no uid; owners must be read from the server")
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }
