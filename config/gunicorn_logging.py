"""gunicorn's access log, redacted as every other log line is (config.logging.redact).

gunicorn formats its access line from "atoms" (the path, the query string, the request line, the Referer
and every other header and environ value). Whatever ``access_log_format`` an operator picks, each atom is
cleaned before formatting: the query string and credential headers are dropped outright, every other
value loses its query string and secret path segments (a share link's token, an account key).
"""

from __future__ import annotations

import datetime
from typing import Any

from gunicorn.glogging import Logger

from config.logging import REDACTED, RedactFilter, redact

# Atoms that are nothing but a query string or a credential.
_DROPPED = frozenset(
    {
        "q",
        "{query_string}e",
        "{authorization}i",
        "{proxy-authorization}i",
        "{cookie}i",
        "{set-cookie}o",
        "{http_authorization}e",
        "{http_cookie}e",
        "{http_proxy_authorization}e",
    }
)


class RedactingLogger(Logger):
    """gunicorn's logger with every access-log atom, and its own error lines, passed through the redaction."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # gunicorn's error lines can quote a request line (a malformed request, a worker timeout).
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactFilter) for existing in log.filters):
                log.addFilter(RedactFilter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if not isinstance(value, str):
                continue
            if key in _DROPPED:
                atoms[key] = REDACTED if value else value
            else:
                atoms[key] = redact(value)
        return atoms
