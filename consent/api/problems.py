"""RFC 9457 problem details: every API error is ``application/problem+json``.

Views return :func:`problem_response` for errors they find themselves, and mix in
:class:`ProblemDetailsMixin` so that what DRF raises (malformed JSON, a wrong method or media type,
throttling) takes the same shape, keeping DRF's ``Retry-After`` and ``WWW-Authenticate`` headers.
A problem carries ``type``, ``title``, ``status`` and ``detail``, and for invalid input an ``errors``
list of ``{"pointer", "detail"}`` with a JSON Pointer (RFC 6901) into the request body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are identifiers, not links: a tag URI (RFC 4151) names them without promising a page.
PROBLEM_TYPE_PREFIX = "tag:mamori,2026:problem/"


def problem_type(slug: str) -> str:
    """The type URI of one of Mamori's problem types, e.g. ``problem_type("invalid-request")``."""
    return PROBLEM_TYPE_PREFIX + slug


def problem_response(
    *,
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_uri: str = "about:blank",
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response; ``title`` defaults to the HTTP status phrase, as RFC 9457 asks of about:blank."""
    body: dict[str, Any] = {"type": type_uri, "title": title or HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [dict(error) for error in errors]
    return Response(body, status=status, headers=dict(headers or {}), content_type=PROBLEM_CONTENT_TYPE)


class Problem(APIException):
    """An APIException answered with Mamori's problem type ``type_slug`` rather than about:blank."""

    type_slug = ""


def _pointed_errors(data: object, pointer: str = "") -> list[dict[str, str]]:
    """DRF validation details ({"field": ["msg"]}, nested) as a flat list of pointer and detail."""
    if isinstance(data, Mapping):
        return [error for key, value in data.items() for error in _pointed_errors(value, f"{pointer}/{key}")]
    if isinstance(data, list):
        if all(not isinstance(item, (Mapping, list)) for item in data):
            return [{"pointer": pointer, "detail": str(item)} for item in data]
        return [error for index, item in enumerate(data) for error in _pointed_errors(item, f"{pointer}/{index}")]
    return [{"pointer": pointer, "detail": str(data)}]


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's own handling (status, headers, rollback), re-shaped as a problem; None lets Django answer 500."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own cap on a body read whole (a form: the token endpoint); unhandled it is an HTML 400.
        return problem_response(
            status=413,
            type_uri=problem_type("request-too-large"),
            detail=f"The request body may hold at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
        )
    response = exception_handler(exc, dict(context))
    if response is None:
        return None
    data = response.data
    if isinstance(data, Mapping) and set(data) == {"detail"}:
        detail, errors = str(data["detail"]), []
    else:
        detail, errors = None, _pointed_errors(data)
    headers = {name: response[name] for name in ("Retry-After", "WWW-Authenticate") if response.has_header(name)}
    type_uri = problem_type(exc.type_slug) if isinstance(exc, Problem) and exc.type_slug else "about:blank"
    return problem_response(
        status=response.status_code, type_uri=type_uri, detail=detail, errors=errors, headers=headers
    )


@csrf_exempt
def unknown_path(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """404 problem for a path under /api/v1/ or /fhir/r4/ that names nothing, whatever the method."""
    body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No such API path."}
    return HttpResponse(json.dumps(body), status=404, content_type=PROBLEM_CONTENT_TYPE)


class ProblemDetailsMixin:
    """Mix into an APIView so that every exception DRF handles answers as problem+json."""

    def get_exception_handler(self) -> Callable[[Exception, Mapping[str, Any]], Response | None]:
        return problem_exception_handler


class ProblemErrorSerializer(serializers.Serializer[Any]):
    """Schema of one entry of a problem's ``errors``."""

    pointer = serializers.CharField(help_text="JSON Pointer (RFC 6901) into the request body.")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer[Any]):
    """Schema of an RFC 9457 problem (``application/problem+json``)."""

    type = serializers.CharField(help_text="URI identifying the problem type; about:blank for plain HTTP errors.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    # DRF's metaclass pops declared fields off the class, so this does not shadow Serializer.errors.
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
