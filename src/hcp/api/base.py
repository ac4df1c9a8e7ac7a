"""Base classes shared by every API model.

Python attributes are snake_case; the wire format uses the exact JSON names of the
Kubernetes/HyperShift Go types (camelCase by default, explicit aliases where Go
differs, e.g. clusterID, issuerURL). Serialization follows Go's `omitempty`: an
optional field that is None is left out, while a required field that is None is
sent as null (for the few `+nullable` required fields).
"""

from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)
from pydantic.alias_generators import to_camel

from hcp.api.markers import omit_default_from_schema
from hcp.api.resource import ResourceInfo
from hcp.api.types import Int64, Time

_Value = TypeVar("_Value")

TypeMeta = Annotated[_Value, WithJsonSchema({"type": "string"}), Field(json_schema_extra=omit_default_from_schema)]
"""Type of apiVersion and kind: `TypeMeta[Literal["HostedCluster"]]` accepts only that value in
Python, while the CRD declares a plain string that the API server does not default."""


class KubeModel(BaseModel):
    """Base of all API structs.

    Unknown fields are kept (extra="allow") so that a read-modify-write by an older
    controller never drops fields written by a newer one.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="allow",
        use_attribute_docstrings=True,
        validate_assignment=True,
    )

    @model_serializer(mode="wrap")
    def _omit_empty_optionals(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """Go's omitempty: optional fields that are None are not sent; required ones are sent as null."""
        data = handler(self)
        if not isinstance(data, dict):
            return data
        for name, field in type(self).model_fields.items():
            if not field.is_required() and getattr(self, name) is None:
                data.pop(field.alias if info.by_alias and field.alias else name, None)
        return data


class OwnerReference(KubeModel):
    """metav1.OwnerReference: lets the garbage collector delete dependents with their owner."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(KubeModel):
    """The subset of metav1.ObjectMeta that hcp reads and writes; other keys are kept as extras."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: Int64 | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    owner_references: list[OwnerReference] | None = None


class KubeObject(KubeModel):
    """A top-level API object: apiVersion, kind, metadata, spec, status.

    Subclasses define `api_version`, `kind`, `spec`, `status` and `resource`, the
    CRD-level facts (names, printer columns, subresources) used to generate the CRD.
    """

    resource: ClassVar[ResourceInfo]

    # Standard object metadata. The API server validates it itself and rejects a CRD whose
    # schema says anything about metadata beyond its type, so it carries no docstring either.
    metadata: Annotated[ObjectMeta, WithJsonSchema({"type": "object"})] = Field(default_factory=ObjectMeta)

    def model_post_init(self, context: Any) -> None:
        # apiVersion and kind identify the object; dumps with exclude_unset must keep them.
        self.model_fields_set.update({"api_version", "kind"})


def to_dict(obj: KubeModel, *, exclude_unset: bool = False) -> dict[str, Any]:
    """Dump a model as the JSON-compatible dict sent to the API server.

    Uses the API's JSON names and drops optional fields that are None. With
    `exclude_unset`, also drops fields that were never given a value (useful for
    server-side apply, where every sent field becomes owned by the field manager).
    """
    return obj.model_dump(mode="json", by_alias=True, exclude_unset=exclude_unset)
