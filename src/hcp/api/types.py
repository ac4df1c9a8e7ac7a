"""Scalar types of the Kubernetes API with their OpenAPI shapes.

Go's int32/int64, resource.Quantity, intstr.IntOrString, metav1.Time and
metav1.Duration each have a fixed representation in a CRD schema. These annotated
types give pydantic both the Python validation and that schema, so a model field
only has to name its type. Where the API server cannot check a value with the
schema alone, the type carries a CEL rule and the Python check that mirrors it
(see `hcp.api.markers.Checked`), so the model accepts what the API server admits.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from hcp.api.markers import Checked, Rule, cel_string, kube_schema

# The pattern Kubernetes publishes for resource.Quantity.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
# What resource.ParseQuantity accepts: the published pattern, with a whole-number exponent.
_PARSED_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)

_DURATION = re.compile(r"[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_GO_NANOSECONDS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                   "h": 3600 * 10**9}

NON_NEGATIVE_DURATION_PATTERN = r"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
"""A Go duration (time.ParseDuration) without a sign: "0", "90s", "1h30m", "1.5h", "250ms"."""
MAX_GO_DURATION = "2562047h47m16.854775807s"
"""The longest duration Go represents (2^63-1 nanoseconds); longer ones do not parse."""
MAX_DURATION_LENGTH = 64


def _quantity(value: object) -> object:
    """Quantities arrive as numbers (8) or strings ("8Gi"); keep them as strings."""
    if isinstance(value, bool):
        raise ValueError("a quantity must be a number or a string such as 8Gi")
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and not _QUANTITY.fullmatch(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 500m, 8Gi, 100)")
    return value


def quantity_sign(text: str) -> int:
    """-1, 0 or 1: the sign of a quantity, which its suffix or exponent cannot change."""
    match = _PARSED_QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (for example 500m, 8Gi, 100)")
    if Decimal(match["number"]) == 0:
        return 0
    return -1 if match["sign"] == "-" else 1


def _is_non_negative_quantity(text: str) -> bool:
    try:
        return quantity_sign(text) >= 0
    except ValueError:
        return False


def _is_positive_quantity(text: str) -> bool:
    try:
        return quantity_sign(text) > 0
    except ValueError:
        return False


def _is_whole_number(text: str) -> bool:
    return re.fullmatch(WHOLE_NUMBER.strip("^$"), text) is not None


def _go_nanoseconds(text: str) -> int:
    """The nanoseconds of a Go duration string, exactly as time.ParseDuration computes them."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration (for example 30s, 5m, 1h30m)")
    negative = text.startswith("-")
    total = sum(int(Decimal(number) * _GO_NANOSECONDS[unit]) for number, unit in _DURATION_PART.findall(text))
    if total > (2**63 if negative else 2**63 - 1):
        raise ValueError(f"{text!r} is longer than the longest duration, {MAX_GO_DURATION}")
    return -total if negative else total


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration string ("90s", "1h30m", "0", "-5m") as time.ParseDuration does."""
    return timedelta(microseconds=_go_nanoseconds(text) / 1000)


def _check_non_negative_duration(text: str) -> str:
    if not _DURATION.fullmatch(text) or text.startswith(("-", "+")):
        raise ValueError(f"{text!r} is not a non-negative duration (for example 0s, 90s, 5m, 1h30m)")
    _go_nanoseconds(text)
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

# An int-or-string value is an int or a string in CEL: string(self) covers both. A value the
# pattern refuses makes isQuantity false, so the rule adds no evaluation error to the pattern's.
NON_NEGATIVE_QUANTITY_RULE = Rule(
    "isQuantity(string(self)) && !quantity(string(self)).isLessThan(quantity('0'))",
    "must be a non-negative quantity such as 0, 4, 500m or 16Gi",
)
POSITIVE_QUANTITY_RULE = Rule(
    "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))",
    "must be a positive quantity such as 1Gi or 8Gi",
)
# Plain digits rather than quantity().isInteger(), which also refuses "1.0" but admits "1k": what a count is
# is then plain to the user, and the same in Python. 18 digits always fit Go's int64.
WHOLE_NUMBER = r"^[0-9]{1,18}$"
WHOLE_NUMBER_RULE = Rule(f"string(self).matches({cel_string(WHOLE_NUMBER)})", "must be a whole number such as 110")

NonNegativeQuantity = Annotated[Quantity, Checked(NON_NEGATIVE_QUANTITY_RULE, _is_non_negative_quantity)]
"""A quantity that cannot be negative, e.g. a capacity: Kubernetes refuses negative resources."""

PositiveQuantity = Annotated[Quantity, Checked(POSITIVE_QUANTITY_RULE, _is_positive_quantity)]
"""A quantity that must be above zero, e.g. the size of a volume: Kubernetes refuses an empty claim."""

NonNegativeCount = Annotated[NonNegativeQuantity, Checked(WHOLE_NUMBER_RULE, _is_whole_number)]
"""A quantity that counts things (pods): a whole number written in digits, as Kubernetes requires a count to be."""

IntOrString = Annotated[
    int | str,
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}),
]
"""intstr.IntOrString: an absolute number (5) or a percentage ("10%")."""

Time = Annotated[datetime, PlainSerializer(_format_time, when_used="json")]
"""metav1.Time."""

# The pattern decides the syntax; the rule only refuses what overflows Go's int64 nanoseconds, and is
# skipped when the pattern already failed so that the user sees one error, not two.
_DURATION_RANGE_RULE = Rule(
    f"!self.matches({cel_string(NON_NEGATIVE_DURATION_PATTERN)}) || duration(self) <= duration('{MAX_GO_DURATION}')",
    f"must be at most {MAX_GO_DURATION}, the longest duration Go represents",
)

Duration = Annotated[
    str,
    Field(
        max_length=MAX_DURATION_LENGTH,
        json_schema_extra=kube_schema(rules=[_DURATION_RANGE_RULE], keywords={"pattern": NON_NEGATIVE_DURATION_PATTERN}),
    ),
    AfterValidator(_check_non_negative_duration),
]
"""metav1.Duration in Go syntax ("0s", "5m", "1h30m"), never negative: every duration of the API is a timeout.

The API server admits exactly what `parse_duration` reads (without a sign), so a
duration the model accepts is one the operator can use.
"""
