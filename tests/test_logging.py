"""Logs carry no query strings (which can hold identifiers) and no request objects."""

from __future__ import annotations

import io
import json
import logging

from django.test import Client

from config.logging import RedactFilter, redact


def _handler(stream: io.StringIO) -> logging.Handler:
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactFilter())
    return handler


def test_query_strings_and_request_objects_are_cut() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("mamori.test.redact")
    logger.addHandler(_handler(stream))
    try:
        logger.warning(
            "Not Found: %s",
            "/api/v1/decisions?identifier=urn:h1|12345",
            extra={"request": "GET /x?identifier=urn:h1|12345"},
        )
    finally:
        logger.handlers.clear()
    line = json.loads(stream.getvalue())
    assert "12345" not in stream.getvalue()
    assert line["message"] == "Not Found: /api/v1/decisions?[redacted]"


def test_a_not_found_with_an_identifier_in_the_query_leaves_no_identifier_in_the_log(client: Client, db) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("django.request")
    handler = _handler(stream)
    logger.addHandler(handler)
    try:
        client.get("/no-such-page/?identifier=urn:h1|98765")
    finally:
        logger.removeHandler(handler)
    assert "Not Found" in stream.getvalue()
    assert "98765" not in stream.getvalue()


def test_a_mistyped_share_link_leaves_no_token_in_the_request_log(client: Client, db) -> None:
    stream = io.StringIO()
    logger = logging.getLogger("django.request")
    handler = _handler(stream)
    logger.addHandler(handler)
    try:
        client.get("/share/kT3vQ9xZ2mW7pL4vN8rT3sY6uB1cE5hJ/print/")
    finally:
        logger.removeHandler(handler)
    assert "Not Found: /share/[redacted]/print/" in stream.getvalue()
    assert "kT3vQ9xZ2mW7pL4vN8rT3sY6uB1cE5hJ" not in stream.getvalue()


def test_account_keys_in_email_links_are_cut_but_the_page_they_lead_to_is_kept() -> None:
    assert redact("GET /accounts/confirm-email/MTI:1uA2bC:xyz/ 200") == "GET /accounts/confirm-email/[redacted]/ 200"
    assert redact("/accounts/password/reset/key/3-abc-def/") == "/accounts/password/reset/key/[redacted]/"
    assert redact("/accounts/password/reset/key/done/") == "/accounts/password/reset/key/done/"
