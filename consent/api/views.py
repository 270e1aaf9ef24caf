"""API views of the consent app. Thin: parse, call the engine, shape the answer."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language_from_request
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.parsers import BoundedJSONParser
from consent.api.problems import ProblemDetailsMixin, ProblemSerializer, problem_response, problem_type
from consent.api.serializers import MatchRequestSerializer, MatchResultSerializer
from consent.duo.fields import WireProblem
from consent.duo.matching import match
from consent.duo.results import Language
from consent.duo.wire import WireError, parse_match_request, result_to_wire

_EXAMPLE = {
    "consent": {
        "permission": "DS",
        "diseases": ["C00-C97"],
        "modifiers": ["NCU", "IRB", "GS", "TS", "MOR"],
        "parameters": {"GS": ["JP"], "TS": 24, "MOR": "2027-04-01"},
        "consented_at": "2026-01-15",
    },
    "purpose": {
        "type": "DS",
        "diseases": ["C34"],
        "commercial": False,
        "for_profit": False,
        "genetic": False,
        "ethics_approval": True,
        "publication": True,
        "returns_data": False,
        "regions": ["JP"],
        "at": "2026-11-21",
    },
}


def request_language(request: Request) -> Language:
    """Japanese unless the client prefers English (Accept-Language, or the language cookie)."""
    return "en" if get_language_from_request(request._request).startswith("en") else "ja"


def invalid_request(problems: Iterable[WireProblem], language: Language) -> Response:
    """400 problem listing every input problem with its JSON Pointer."""
    problems = list(problems)
    ja = language == "ja"
    return problem_response(
        status=400,
        type_uri=problem_type("invalid-request"),
        title="入力に誤りがあります" if ja else "The request is invalid",
        detail=f"{len(problems)}件の誤りがあります。" if ja else f"{len(problems)} problem(s) found.",
        errors=[{"pointer": problem.pointer, "detail": problem.message(language)} for problem in problems],
    )


class DuoMatchView(ProblemDetailsMixin, APIView):
    """``POST /api/v1/duo/match``: match DUO consent terms against a research purpose.

    Public and without personal data, so it needs no authentication (and no CSRF token).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (BoundedJSONParser,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="duo_match",
        summary="Match DUO consent terms against a research purpose",
        description="Permit or deny, with every reason (in the Accept-Language language: ja by default, or en) "
        "and the obligations of a permit. Any unknown term, ICD-10 code or field is a 400 problem, never a permit.",
        tags=["duo"],
        request=MatchRequestSerializer,
        responses={
            200: MatchResultSerializer,
            (400, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Invalid input."),
            (413, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Body too large."),
        },
        examples=[OpenApiExample("Lung cancer study under cancer-only terms", value=_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        language = request_language(request)
        try:
            parsed = parse_match_request(request.data)
        except WireError as error:
            return invalid_request(error.problems, language)
        return Response(result_to_wire(match(parsed.consent, parsed.purpose), language))
