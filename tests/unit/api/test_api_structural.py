"""The pydantic-to-structural-schema conversion, on small models independent of the HyperShift API."""

from typing import Annotated

import pytest
from pydantic import ConfigDict, Field, ValidationError

from hcp.api.base import KubeModel
from hcp.api.markers import Checked, Rule, immutable, kube_schema
from hcp.api.structural import UnsupportedSchema, structural_schema
from hcp.api.types import Int32, IntOrString, Time


class Inner(KubeModel):
    """Inner's own description."""

    model_config = ConfigDict(json_schema_extra=kube_schema(rules=[Rule("self.size != ''", "size must be set")]))

    size: str = "8Gi"
    """The size."""
    label: str | None = None


class Outer(KubeModel):
    """An outer object."""

    inner: Inner = Field(default=Inner(), json_schema_extra=kube_schema(rules=[immutable("inner")]))
    """Field description wins over the type's."""
    optional_inner: Inner | None = None
    required_nullable: Time | None
    count: Int32 | None = Field(default=None, ge=0)
    surge: IntOrString | None = None
    items: list[Inner] | None = Field(default=None, max_length=3, json_schema_extra=kube_schema(list_type="atomic"))
    tags: dict[str, str] | None = None


@pytest.fixture(scope="module")
def schema() -> dict:
    return structural_schema(Outer)


def test_refs_are_inlined_and_field_keywords_win(schema):
    inner = schema["properties"]["inner"]
    assert "$ref" not in inner
    assert inner["description"] == "Field description wins over the type's."
    assert inner["properties"]["size"] == {"type": "string", "default": "8Gi", "description": "The size."}
    assert inner["default"] == {"size": "8Gi"}


def test_type_rules_and_field_rules_accumulate(schema):
    assert schema["properties"]["inner"]["x-kubernetes-validations"] == [
        {"rule": "self.size != ''", "message": "size must be set"},
        {"rule": "self == oldSelf", "message": "inner is immutable"},
    ]
    assert schema["properties"]["optionalInner"]["x-kubernetes-validations"] == [
        {"rule": "self.size != ''", "message": "size must be set"}
    ]


def test_optional_fields_become_plain_optional_properties(schema):
    optional = schema["properties"]["optionalInner"]
    assert optional["type"] == "object"
    assert "nullable" not in optional
    assert "default" not in optional
    assert "label" not in optional.get("required", [])
    assert schema["properties"]["count"] == {"type": "integer", "format": "int32", "minimum": 0}


def test_required_optional_field_becomes_nullable(schema):
    assert schema["properties"]["requiredNullable"] == {"type": "string", "format": "date-time", "nullable": True}
    assert schema["required"] == ["requiredNullable"]


def test_int_or_string_keeps_its_union(schema):
    assert schema["properties"]["surge"] == {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
    }


def test_lists_and_maps(schema):
    items = schema["properties"]["items"]
    assert items["type"] == "array"
    assert items["maxItems"] == 3
    assert items["x-kubernetes-list-type"] == "atomic"
    assert items["items"]["type"] == "object"
    assert schema["properties"]["tags"] == {"type": "object", "additionalProperties": {"type": "string"}}


def test_no_titles_or_extra_allow_artifacts(schema):
    text = repr(schema)
    assert "'title'" not in text
    assert "additionalProperties': True" not in text


def test_other_unions_are_rejected():
    class Union(KubeModel):
        value: int | bool

    with pytest.raises(UnsupportedSchema, match="value"):
        structural_schema(Union)


def test_exclusive_bounds_are_rejected():
    class Exclusive(KubeModel):
        value: int = Field(gt=0)

    with pytest.raises(UnsupportedSchema, match="exclusiveMinimum"):
        structural_schema(Exclusive)


Short = Annotated[str, Field(max_length=5), Checked(Rule("self != 'bad'", "must not be bad"), lambda v: v != "bad")]


class WithChecked(KubeModel):
    plain: Short | None = None
    immutable_too: Short = Field(default="ok", json_schema_extra=kube_schema(rules=[immutable("immutableToo")]))
    values: dict[str, Short] | None = None


def test_checked_puts_its_rule_in_the_schema_and_field_rules_add_to_it():
    schema = structural_schema(WithChecked)
    assert schema["properties"]["plain"] == {
        "type": "string", "maxLength": 5,
        "x-kubernetes-validations": [{"rule": "self != 'bad'", "message": "must not be bad"}],
    }
    assert messages(schema["properties"]["immutableToo"]) == ["must not be bad", "immutableToo is immutable"]
    assert messages(schema["properties"]["values"]["additionalProperties"]) == ["must not be bad"]


def test_checked_refuses_in_python_with_the_rules_message():
    assert WithChecked(plain="good", values={"a": "fine"}).plain == "good"
    for bad in ({"plain": "bad"}, {"values": {"a": "bad"}}, {"immutable_too": "bad"}):
        with pytest.raises(ValidationError, match="must not be bad"):
            WithChecked(**bad)


def test_a_checked_rule_stays_with_its_own_field():
    """Rules are added to a copy: a type's schema shared by other fields (or models) is left alone."""
    structural_schema(WithChecked)
    assert messages(structural_schema(WithChecked)["properties"]["plain"]) == ["must not be bad"]
    assert "x-kubernetes-validations" not in structural_schema(Outer)["properties"]["surge"]


def messages(node: dict) -> list[str]:
    return [v["message"] for v in node.get("x-kubernetes-validations", [])]
