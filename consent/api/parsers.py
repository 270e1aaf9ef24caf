"""Request parsers for the API."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    """413: the body is larger than the endpoint accepts."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class BoundedJSONParser(JSONParser):
    """JSON, refused with 413 beyond ``max_bytes``.

    DRF reads the body as a stream, which DATA_UPLOAD_MAX_MEMORY_SIZE does not limit; a public
    endpoint needs its own cap, counted on the bytes read rather than a Content-Length that may lie.
    """

    max_bytes = 64 * 1024

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        body = stream.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise RequestTooLarge
        return super().parse(io.BytesIO(body), media_type, parser_context)
