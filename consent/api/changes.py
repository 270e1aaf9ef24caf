"""``GET /api/v1/consent-changes``: persons linked to the caller whose decisions may have changed."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.auth import ApiTokenAuthentication, ClientRateThrottle, HasScope
from consent.api.decisions import PROBLEMS, IdentifierSerializer, bad_request, caller_organisation
from consent.api.problems import ProblemDetailsMixin, problem_response
from consent.bulk.changes import START, ForeignCursor, InvalidCursor, changes_for, decode_cursor, encode_cursor

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class ChangeSerializer(serializers.Serializer[Any]):
    identifier = IdentifierSerializer(allow_null=True, help_text="Your patient number; null: everyone linked.")
    kind = serializers.ChoiceField(choices=["consent", "notice", "link", "regime"])
    changed_at = serializers.DateTimeField()


class ChangesPageSerializer(serializers.Serializer[Any]):
    changes = ChangeSerializer(many=True)
    next = serializers.CharField(help_text="Pass as `after` for the next page (also when this one is empty).")
    has_more = serializers.BooleanField()


class ConsentChangesView(ProblemDetailsMixin, APIView):
    """The feed hospitals poll to re-check only the persons whose decisions may have changed."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("consent.changes"),)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="consent_changes",
        summary="Persons whose decisions may have changed",
        description="Consent changes, delivered notices and newly linked identifiers of persons holding your "
        "patient numbers, and regime changes (identifier null: re-check everyone), oldest first. Cursors "
        "belong to your organisation; no change is skipped or repeated across pages.",
        tags=["changes"],
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="The `next` of the previous page."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
        ],
        responses={200: ChangesPageSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        organisation = caller_organisation(request)
        try:
            limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            return bad_request(f"limit must be 1 to {MAX_LIMIT}.", [{"pointer": "/limit", "detail": "out of range"}])
        after = request.query_params.get("after")
        try:
            position = decode_cursor(organisation, after) if after else START
        except InvalidCursor as error:
            return bad_request(str(error), [{"pointer": "/after", "detail": str(error)}])
        except ForeignCursor:
            return problem_response(status=404, detail="No such cursor.")
        page = changes_for(organisation, position, limit)
        return Response(
            {
                "changes": [
                    {
                        "identifier": {"system": c.system, "value": c.value} if c.system else None,
                        "kind": c.kind,
                        "changed_at": c.at.isoformat(),
                    }
                    for c in page.changes
                ],
                "next": encode_cursor(organisation, page.next),
                "has_more": page.more,
            }
        )
