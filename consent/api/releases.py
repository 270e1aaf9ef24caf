"""``POST /api/v1/releases``: re-check every person and record the permitted ones in the releases ledger."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.auth import ApiTokenAuthentication, ClientRateThrottle, HasScope
from consent.api.decisions import (
    BATCH_MAX,
    PROBLEMS,
    BatchParser,
    BatchRequestSerializer,
    IdentifierSerializer,
    bad_request,
    caller_client_id,
    caller_organisation,
    read_batch,
)
from consent.api.problems import ProblemDetailsMixin, ProblemSerializer, problem_response, problem_type
from consent.api.serializers import HospitalReasonSerializer
from consent.api.views import request_language
from consent.bulk.releases import IdempotencyConflict, record_release, release_for_organisation, release_to_wire

MAX_KEY_LENGTH = 255


class RefusedSerializer(serializers.Serializer[Any]):
    identifier = IdentifierSerializer()
    reasons = HospitalReasonSerializer(many=True)


class ReleaseSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    accepted = serializers.IntegerField(help_text="Persons recorded in the ledger.")
    refused = RefusedSerializer(many=True)


class ReleaseCreateView(ProblemDetailsMixin, APIView):
    """Record a release; the answer is kept per Idempotency-Key so a retry never releases twice."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("release.write"),)
    throttle_classes = (ClientRateThrottle,)
    parser_classes = (BatchParser,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="releases_create",
        summary="Release persons' data to a project",
        description=f"Re-checks each of at most {BATCH_MAX:,} persons now; permitted ones are appended to the "
        "hash-chained ledger. Refused ones are listed with the reasons a decision gives (a person not linked to "
        "your organisation as `unknown-person`, reasons that depend on the person as `not-releasable`). "
        "`Idempotency-Key` is required: the same key and body give the same answer, the same key with another "
        "body is a 422.",
        tags=["releases"],
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        request=BatchRequestSerializer,
        responses={
            201: ReleaseSerializer,
            (413, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Too many."),
            (422, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Key reused."),
            **PROBLEMS,
        },
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return bad_request(
                f"The Idempotency-Key header is required (1 to {MAX_KEY_LENGTH} characters).",
                [{"pointer": "/headers/Idempotency-Key", "detail": "required"}],
            )
        batch = read_batch(request, too_large=f"A release holds at most {BATCH_MAX:,} identifiers.")
        if isinstance(batch, Response):
            return batch
        organisation, project, refs, categories = batch.organisation, batch.project, batch.refs, batch.categories
        try:
            release, created = record_release(
                organisation=organisation,
                client_id=caller_client_id(request),
                project=project,
                refs=refs,
                categories=categories,
                idempotency_key=key,
                language=request_language(request),
            )
        except IdempotencyConflict:
            return problem_response(
                status=422,
                type_uri=problem_type("idempotency-key-reused"),
                detail="This Idempotency-Key was used with another request body.",
            )
        headers = {"Location": f"/api/v1/releases/{release.pk}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(release_to_wire(release), status=201, headers=headers)


class ReleaseDetailView(ProblemDetailsMixin, APIView):
    """``GET /api/v1/releases/{id}``: a release the caller's organisation made (others: 404)."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("release.write"),)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="releases_retrieve",
        summary="A release and its answer",
        tags=["releases"],
        responses={200: ReleaseSerializer, **PROBLEMS},
    )
    def get(self, request: Request, release_id: str) -> Response:
        release = release_for_organisation(caller_organisation(request), release_id)
        if release is None:
            return problem_response(status=404, detail="No such release.")
        return Response(release_to_wire(release))
