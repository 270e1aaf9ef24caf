"""Request parsers for the API: JSON bodies bounded in size and in nesting depth."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import renderers, status
from rest_framework.parsers import BaseParser

from consent.api.problems import Problem
from phr.json_limits import TooDeep, check_depth


class RequestTooLarge(Problem):
    """413: the body is larger than the endpoint accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    type_slug = "request-too-large"
    default_code = "request_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The request body may hold at most {max_bytes:,} bytes.")


class JsonTooDeep(Problem):
    """400: the JSON nests deeper than MAMORI_JSON_MAX_DEPTH."""

    status_code = status.HTTP_400_BAD_REQUEST
    type_slug = "json-too-deep"
    default_code = "json_too_deep"


class InvalidJson(Problem):
    """400: the body is not JSON."""

    status_code = status.HTTP_400_BAD_REQUEST
    type_slug = "invalid-json"
    default_code = "parse_error"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(BaseParser):
    """JSON, refused with 413 beyond ``max_bytes`` and with 400 when nested deeper than MAMORI_JSON_MAX_DEPTH.

    Not a subclass of DRF's JSONParser on purpose: DRF reads a JSONParser's body through ``request.body``,
    which raises Django's RequestDataTooBig (an HTML 400) past DATA_UPLOAD_MAX_MEMORY_SIZE before any limit
    of ours is consulted. Given the raw stream, the parser counts the bytes it reads itself (a Content-Length
    may lie) and checks the nesting on those bytes before ``json`` recurses into them.
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer
    max_bytes = 64 * 1024

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        body = stream.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise RequestTooLarge(self.max_bytes)
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            check_depth(body)
            return json.loads(body.decode(encoding), parse_constant=_refuse_constant)
        except TooDeep as error:
            raise JsonTooDeep(str(error)) from error
        except (ValueError, LookupError) as error:  # UnicodeDecodeError is a ValueError; LookupError: a bad charset
            raise InvalidJson(f"JSON parse error - {error}") from error
