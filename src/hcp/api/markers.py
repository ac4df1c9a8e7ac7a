"""Kubernetes schema markers for pydantic models.

These are the Python counterparts of kubebuilder's `+kubebuilder:validation:XValidation`,
`+listType`, `+mapType` and `+nullable` markers. A model or field declares them
through `json_schema_extra`; the structural-schema converter copies them into the CRD
unchanged, so the models stay the single source of truth for the generated CRDs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

VALIDATIONS = "x-kubernetes-validations"


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


def kube_schema(
    *,
    rules: Sequence[Rule] = (),
    list_type: Literal["atomic", "set", "map"] | None = None,
    list_map_keys: Sequence[str] = (),
    map_type: Literal["atomic", "granular"] | None = None,
    nullable: bool = False,
) -> dict[str, Any]:
    """Build the `json_schema_extra` dict carrying Kubernetes-specific schema markers."""
    extra: dict[str, Any] = {}
    if rules:
        extra[VALIDATIONS] = [r.as_dict() for r in rules]
    if list_type:
        extra["x-kubernetes-list-type"] = list_type
    if list_map_keys:
        extra["x-kubernetes-list-map-keys"] = list(list_map_keys)
    if map_type:
        extra["x-kubernetes-map-type"] = map_type
    if nullable:
        extra["nullable"] = True
    return extra


def omit_default_from_schema(schema: dict[str, Any]) -> None:
    """`json_schema_extra` hook for defaults that are a Python convenience only.

    apiVersion and kind default to the right values when a model is built in Python,
    but the API server must not default them.
    """
    schema.pop("default", None)
