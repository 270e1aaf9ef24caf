"""Log hygiene: no request objects, query strings or exception locals reach the log stream.

Query strings can carry identifiers (``?identifier=system|value``) and request reprs carry the full
path, so both are cut before a record is formatted.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\"]*")


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for attribute in ("request", "scope"):
            if hasattr(record, attribute):
                setattr(record, attribute, "[redacted]")
        message = record.getMessage()
        redacted = _QUERY.sub(r"\1?[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
