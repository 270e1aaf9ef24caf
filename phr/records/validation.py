"""Validating one resource with ``fhir.resources`` (R4B models, which read R4 JSON).

A rejection keeps where and why (``loc``, ``msg``, ``type`` of each pydantic error) and never the input
value: pydantic's ``input`` and ``ctx`` can carry health data and are dropped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

MAX_ERRORS = 5


@lru_cache(maxsize=256)
def model_for(resource_type: str) -> type[Resource] | None:
    """The model of a FHIR resource type, or None for anything that is not a resource type."""
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return None
    if not (isinstance(model, type) and issubclass(model, Resource)):
        return None
    return model


def validation_problems(model: type[Resource], resource: dict[str, Any]) -> list[dict[str, str]]:
    """Empty when the resource validates; otherwise up to MAX_ERRORS {loc, msg, type}, no input values."""
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [
            {
                "loc": ".".join(str(part) for part in error["loc"])[:200],
                "msg": str(error["msg"])[:200],
                "type": str(error["type"])[:60],
            }
            for error in exc.errors(include_input=False, include_url=False, include_context=False)[:MAX_ERRORS]
        ]
    return []
