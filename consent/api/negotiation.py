"""Content negotiation for JSON-only endpoints: the common case answered without parsing the Accept header."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

_ANY = frozenset({"", "*/*", "application/json", "application/*"})


class JSONFirstNegotiation(DefaultContentNegotiation):
    """An ``Accept`` of nothing, ``*/*`` or ``application/json`` (what clients send) picks the first renderer
    at once; anything else goes through DRF's full negotiation (which answers 406 when nothing fits)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str] | Any:
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        if accept in _ANY and not format_suffix:
            first = next(iter(renderers), None)
            if first is not None:
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
