"""Log hygiene: no request objects, query strings, secret path segments or exception locals reach the log stream.

Query strings can carry identifiers (``?identifier=system|value``) and search terms, request reprs carry the
full path, and some paths carry a secret: a share link's token, an email confirmation or password reset key.
:func:`redact` cuts all of them from a line of text; every log line passes through it, whether an
application logger wrote it (:class:`RedactFilter`, configured in ``LOGGING``), the development server
(its ``django.server`` logger goes to the same handler) or gunicorn (``config.gunicorn_logging``).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\"]*")
# A path segment that is itself a credential: whoever holds the URL can use it. Keep in step with
# portal/urls.py (share/<token>/) and allauth's account URLs; tests/test_request_logs.py walks the URLconf.
_SECRET_SEGMENT = re.compile(
    r"(/share/|/accounts/confirm-email/|/accounts/password/reset/key/(?!done/))[^/\s?#'\"]+",
)


def redact(text: str) -> str:
    """``text`` with every query string and every secret path segment replaced by ``[redacted]``."""
    text = _SECRET_SEGMENT.sub(rf"\1{REDACTED}", text)
    return _QUERY.sub(rf"\1?{REDACTED}", text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for attribute in ("request", "scope"):
            if hasattr(record, attribute):
                setattr(record, attribute, REDACTED)
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
