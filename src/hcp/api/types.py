"""Scalar types of the Kubernetes API with their OpenAPI shapes.

Go's int32/int64, resource.Quantity, intstr.IntOrString, metav1.Time and
metav1.Duration each have a fixed representation in a CRD schema. These annotated
types give pydantic both the Python validation and that schema, so a model field
only has to name its type.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

# The pattern Kubernetes publishes for resource.Quantity.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)

_DURATION_UNITS = {
    "ns": timedelta(microseconds=0.001),
    "us": timedelta(microseconds=1),
    "µs": timedelta(microseconds=1),
    "μs": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
}
_DURATION = re.compile(r"^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _quantity(value: object) -> object:
    """Quantities arrive as numbers (8) or strings ("8Gi"); keep them as strings."""
    if isinstance(value, bool):
        raise ValueError("a quantity must be a number or a string such as 8Gi")
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 500m, 8Gi, 100)")
    return value


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration string ("90s", "1h30m", "0") as used by metav1.Duration."""
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration (for example 30s, 5m, 1h30m)")
    sign = -1 if text.startswith("-") else 1
    total = sum(
        (float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text)),
        timedelta(),
    )
    return sign * total


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


def _format_time(value: datetime) -> str:
    """metav1.Time is RFC 3339 in UTC with second precision."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Int32 = Annotated[int, Field(json_schema_extra={"format": "int32"})]
"""Go int32."""

Int64 = Annotated[int, Field(json_schema_extra={"format": "int64"})]
"""Go int64."""

Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""resource.Quantity such as "8Gi" or "500m"; numbers are accepted and kept as strings."""

IntOrString = Annotated[
    int | str,
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}),
]
"""intstr.IntOrString: an absolute number (5) or a percentage ("10%")."""

Time = Annotated[datetime, PlainSerializer(_format_time, when_used="json")]
"""metav1.Time."""

Duration = Annotated[str, AfterValidator(_check_duration)]
"""metav1.Duration in Go syntax ("0s", "5m", "1h30m"); see `parse_duration`."""
