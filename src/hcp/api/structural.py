"""Convert a pydantic model's JSON Schema into a Kubernetes structural schema.

A CRD's openAPIV3Schema must be *structural*: every node has a type, there are no
`$ref`s, and unions are limited to int-or-string. pydantic emits JSON Schema
2020-12 with `$defs`, titles and `anyOf: [..., {type: null}]` for Optional fields.
The conversion is driven only by the schema and the markers models attach
(see `hcp.api.markers`); it knows nothing about individual fields.

- `$ref`s are inlined; keywords next to a `$ref` (field description, default,
  validations) override the referenced schema's, and CEL rules accumulate.
- `Optional[X]` becomes X; it is `nullable` only when the field is also required
  (Go's `+nullable` on a required field), otherwise the field is simply optional.
- Titles, `default: null` and `additionalProperties: true` (from extra="allow",
  which in Kubernetes is pruning) are dropped.
- Anything Kubernetes would reject (other unions, `const`, JSON Schema 2020-12
  exclusive bounds, `uniqueItems`, ...) raises `UnsupportedSchema`, so a model
  that cannot become a CRD fails at generation time, not at install time.
"""

import copy
from typing import Any

from pydantic import BaseModel

from hcp.api.markers import VALIDATIONS

_ALLOWED_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "description",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "enum",
        "default",
        "nullable",
        "anyOf",
        "minimum",
        "maximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    }
)
_KUBERNETES_EXTENSION = "x-kubernetes-"
_INT_OR_STRING = "x-kubernetes-int-or-string"


class UnsupportedSchema(ValueError):
    """A model uses a construct that has no Kubernetes structural-schema equivalent."""


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The openAPIV3Schema of a CRD for `model`."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return _Converter(definitions).convert(raw, model.__name__, nullable_allowed=False)


class _Converter:
    def __init__(self, definitions: dict[str, dict[str, Any]]):
        self._definitions = definitions

    def convert(self, node: dict[str, Any], path: str, *, nullable_allowed: bool) -> dict[str, Any]:
        # A fresh copy per use: shared sub-objects would turn into YAML anchors and aliasing bugs.
        node = copy.deepcopy(node)
        node.pop("title", None)
        if "default" in node and node["default"] is None:
            del node["default"]

        if "$ref" in node:
            target = self._definitions[node.pop("$ref").rsplit("/", 1)[-1]]
            return _overlay(
                self.convert(target, path, nullable_allowed=False),
                self.convert(node, path, nullable_allowed=False),
            )

        if "anyOf" in node and not node.get(_INT_OR_STRING):
            return self._optional(node, path, nullable_allowed=nullable_allowed)

        if node.get("additionalProperties") is True:
            del node["additionalProperties"]
        if "properties" in node:
            self._convert_properties(node, path)
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = self.convert(
                node["additionalProperties"], f"{path}{{}}", nullable_allowed=False
            )
        if "items" in node:
            node["items"] = self.convert(node["items"], f"{path}[]", nullable_allowed=False)
        if "anyOf" in node:
            node["anyOf"] = [self.convert(b, path, nullable_allowed=False) for b in node["anyOf"]]

        _reject_unsupported(node, path)
        return node

    def _optional(self, node: dict[str, Any], path: str, *, nullable_allowed: bool) -> dict[str, Any]:
        branches = node.pop("anyOf")
        present = [b for b in branches if b.get("type") != "null"]
        if len(present) != 1:
            raise UnsupportedSchema(
                f"{path}: only Optional[X] and IntOrString unions can be expressed in a structural schema"
            )
        result = _overlay(
            self.convert(present[0], path, nullable_allowed=False),
            self.convert(node, path, nullable_allowed=False),
        )
        if nullable_allowed and len(present) < len(branches):
            result["nullable"] = True
        return result

    def _convert_properties(self, node: dict[str, Any], path: str) -> None:
        required = sorted(node.pop("required", []))
        node["properties"] = {
            name: self.convert(schema, f"{path}.{name}", nullable_allowed=name in required)
            for name, schema in node["properties"].items()
        }
        if not node["properties"]:
            del node["properties"]
        if required:
            node["required"] = required


def _overlay(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Keywords written at a field override its type's; CEL rules from both apply."""
    result = dict(base)
    for key, value in overlay.items():
        if key == VALIDATIONS:
            result[key] = [*result.get(key, []), *value]
        else:
            result[key] = value
    return result


def _reject_unsupported(node: dict[str, Any], path: str) -> None:
    for key in node:
        if key not in _ALLOWED_KEYWORDS and not key.startswith(_KUBERNETES_EXTENSION):
            raise UnsupportedSchema(f"{path}: JSON Schema keyword {key!r} has no Kubernetes equivalent")
