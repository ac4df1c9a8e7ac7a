"""A live object as a typed model, or the reasons the models refuse it.

Controllers read objects the API server admitted, possibly under an older
schema; one the models refuse must become a condition that quotes why, not an
exception on every pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from hcp.api.base import KubeObject

Model = TypeVar("Model", bound=KubeObject)
SHOWN_ERRORS = 5


def parse(model: type[Model], obj: Mapping[str, Any]) -> tuple[Model | None, str]:
    """The object as `model`, or None and why the models refuse it (the first few errors, by field path)."""
    try:
        return model.model_validate(obj), ""
    except ValidationError as error:
        return None, validation_message(error)


def validation_message(error: ValidationError) -> str:
    """One line: each error as `field.path: message` (the path left out for rules of a whole object)."""
    shown = []
    for detail in error.errors()[:SHOWN_ERRORS]:
        message = detail["msg"].removeprefix("Value error, ")
        path = ".".join(str(part) for part in detail["loc"])
        shown.append(f"{path}: {message}" if path else message)
    more = error.error_count() - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
