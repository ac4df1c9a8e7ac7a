"""Kubernetes schema markers for pydantic models.

These are the Python counterparts of kubebuilder's `+kubebuilder:validation:XValidation`,
`+listType`, `+mapType` and `+nullable` markers. A model or field declares them
through `json_schema_extra`; the structural-schema converter copies them into the CRD
unchanged, so the models stay the single source of truth for the generated CRDs.

A rule that the API server checks with CEL must also be checked by the model, so
that what the operator can read is exactly what the API server admits. `Checked`
ties a CEL rule to the Python predicate that decides the same thing: one marker
puts the rule in the CRD and runs the predicate when the model is validated.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

VALIDATIONS = "x-kubernetes-validations"

JsonSchemaExtra = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Rule:
    """A CEL validation rule evaluated by the API server; `message` tells the user what to fix."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def immutable(field: str) -> Rule:
    """The field may not change once set (a CEL transition rule)."""
    return Rule("self == oldSelf", f"{field} is immutable")


def immutable_once_set(field: str) -> Rule:
    """The field may be filled in later (e.g. by a controller), but never changed after that."""
    return Rule('oldSelf == "" || self == oldSelf', f"{field} is immutable")


def cel_string(text: str) -> str:
    """`text` as a single-quoted CEL string literal (e.g. a regular expression for `matches`)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def kube_schema(
    *,
    rules: Sequence[Rule] = (),
    list_type: Literal["atomic", "set", "map"] | None = None,
    list_map_keys: Sequence[str] = (),
    map_type: Literal["atomic", "granular"] | None = None,
    nullable: bool = False,
    keywords: dict[str, Any] | None = None,
) -> JsonSchemaExtra:
    """The `json_schema_extra` hook carrying Kubernetes-specific schema markers.

    CEL rules are appended to those the field's type already carries (a plain dict
    would replace them), so a field can add rules to a type that has its own.
    `keywords` are further OpenAPI keywords (e.g. pattern) for the schema only.
    """
    extra: dict[str, Any] = dict(keywords or {})
    if list_type:
        extra["x-kubernetes-list-type"] = list_type
    if list_map_keys:
        extra["x-kubernetes-list-map-keys"] = list(list_map_keys)
    if map_type:
        extra["x-kubernetes-map-type"] = map_type
    if nullable:
        extra["nullable"] = True
    added = [r.as_dict() for r in rules]

    def apply(schema: dict[str, Any]) -> None:
        schema.update(extra)
        if added:
            schema[VALIDATIONS] = [*schema.get(VALIDATIONS, []), *added]

    return apply


@dataclass(frozen=True)
class Checked:
    """A CEL rule and the Python predicate deciding the same thing, as one `Annotated` marker.

    `Annotated[str, Checked(rule, holds)]` puts `rule` in the CRD schema of every field of
    that type and makes the model refuse a value for which `holds(value)` is false, with
    the rule's message. Both sides must agree: the predicate mirrors the CEL expression.
    """

    rule: Rule
    holds: Callable[[Any], bool]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # A copy: the schema may be shared (a WithJsonSchema value, a model's $defs entry), and the
        # rule belongs to this use only. Next to a $ref it is merged in by the structural converter.
        json_schema = dict(handler(schema))
        json_schema[VALIDATIONS] = [*json_schema.get(VALIDATIONS, []), self.rule.as_dict()]
        return json_schema

    def _check(self, value: Any) -> Any:
        if not self.holds(value):
            raise ValueError(self.rule.message)
        return value


def omit_default_from_schema(schema: dict[str, Any]) -> None:
    """`json_schema_extra` hook for defaults that are a Python convenience only.

    apiVersion and kind default to the right values when a model is built in Python,
    but the API server must not default them.
    """
    schema.pop("default", None)
