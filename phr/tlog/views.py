"""Public endpoints of the tamper-evident logs: the newest signed checkpoint, the verifier keys, inclusion and
consistency proofs, all as text in the C2SP formats (golang.org/x/mod/sumdb/note and sumdb/tlog read them).
Errors are problem+json: 404 for an unknown log, entry or size, 400 for a malformed number.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from phr.tlog.proofs import ProofUnavailable, consistency_proof, inclusion_proof, log_named, newest_checkpoint
from phr.tlog.signing import verifier_keys

TEXT = "text/plain; charset=utf-8"
View = Callable[..., str]


def _as_text(view: View) -> Callable[..., HttpResponse]:
    """Answer the view's text as text/plain, and ProofUnavailable as a problem."""

    @wraps(view)
    def wrapper(request: HttpRequest, name: str) -> HttpResponse:
        try:
            return HttpResponse(view(request, log_named(name)), content_type=TEXT)
        except ProofUnavailable as error:
            body = {"type": "about:blank", "title": HTTPStatus(error.status).phrase, "status": error.status}
            return JsonResponse(
                {**body, "detail": str(error)}, status=error.status, content_type="application/problem+json"
            )

    return never_cache(require_GET(wrapper))


def _number(request: HttpRequest, name: str) -> int:
    raw = request.GET.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ProofUnavailable(400, f"Give {name} as a whole number, e.g. ?{name}=0.")
    return int(raw)


@_as_text
def checkpoint(request: HttpRequest, log: str) -> str:
    """The newest signed checkpoint of the log (a C2SP tlog-checkpoint signed note)."""
    return newest_checkpoint(log).note


@_as_text
def verifier(request: HttpRequest, log: str) -> str:
    """The log's verifier keys, one a line, the signing one first (older ones stay after a rotation)."""
    return "".join(f"{key}\n" for key in verifier_keys(log))


@_as_text
def inclusion(request: HttpRequest, log: str) -> str:
    """A C2SP tlog-proof@v1 inclusion proof of entry ``index`` in the newest checkpoint."""
    return inclusion_proof(log, _number(request, "index"))


@_as_text
def consistency(request: HttpRequest, log: str) -> str:
    """A consistency proof from tree size ``old`` to ``new`` (default: the newest checkpoint's size)."""
    new = _number(request, "new") if "new" in request.GET else None
    return consistency_proof(log, _number(request, "old"), new)
