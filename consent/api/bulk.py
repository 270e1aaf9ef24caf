"""Bulk checks: ``POST /api/v1/bulk-checks`` (a file of identifiers) and reading the job and its results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.auth import ApiTokenAuthentication, ClientRateThrottle, HasScope
from consent.api.decisions import PROBLEMS, bad_request, caller_client_id, caller_organisation, project_for_check
from consent.api.problems import ProblemDetailsMixin, ProblemSerializer, problem_response, problem_type
from consent.api.views import request_language
from consent.bulk.jobs import (
    UploadTooLarge,
    bulk_check_for_organisation,
    create_bulk_check,
    max_upload_bytes,
    stream_file,
)
from consent.models import BulkCheck, BulkCheckFormat, BulkCheckStatus

MEDIA_TYPES = {"text/csv": BulkCheckFormat.CSV, "application/x-ndjson": BulkCheckFormat.NDJSON}


class _UploadParser(BaseParser):
    """Declares the accepted media types; the view streams the body itself and never calls parse."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        raise NotImplementedError


class CsvParser(_UploadParser):
    media_type = "text/csv"


class NdjsonParser(_UploadParser):
    media_type = "application/x-ndjson"


class BulkCheckSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    project = serializers.UUIDField()
    status = serializers.ChoiceField(choices=BulkCheckStatus.choices)
    total = serializers.IntegerField(help_text="Lines uploaded (a CSV header not counted).")
    processed = serializers.IntegerField()
    permitted = serializers.IntegerField()
    progress = serializers.FloatField(help_text="processed / total, 0 to 1.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    error = serializers.CharField(allow_blank=True)
    permitted_url = serializers.CharField()
    results_url = serializers.CharField()


def job_to_wire(job: BulkCheck) -> dict[str, Any]:
    base = f"/api/v1/bulk-checks/{job.pk}"
    return {
        "id": str(job.pk),
        "project": str(job.project_id),
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "permitted": job.permitted,
        "progress": round(job.processed / job.total, 4) if job.total else 1.0,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat(),
        "error": job.error,
        "permitted_url": f"{base}/permitted",
        "results_url": f"{base}/results.ndjson",
    }


def no_such_job() -> Response:
    return problem_response(status=404, type_uri=problem_type("unknown-bulk-check"), detail="No such bulk check.")


class BulkAPIView(ProblemDetailsMixin, APIView):
    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("consent.bulk"),)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (JSONRenderer,)


class BulkCheckCreateView(BulkAPIView):
    """Upload a file of identifiers; it is stored as it streams in and checked by a worker."""

    parser_classes = (CsvParser, NdjsonParser)

    @extend_schema(
        operation_id="bulk_checks_create",
        summary="Start a bulk check",
        description="One identifier a line: CSV `system,value` (optional header `system,value`) or `SYSTEM|VALUE`, "
        'or NDJSON `{"system": …, "value": …}`. The body is streamed to disk; beyond the size limit it is a 413. '
        "Answers 202 with the job's Location.",
        tags=["bulk-checks"],
        parameters=[OpenApiParameter("project", OpenApiTypes.UUID, required=True)],
        request={"text/csv": OpenApiTypes.STR, "application/x-ndjson": OpenApiTypes.STR},
        responses={
            202: BulkCheckSerializer,
            (413, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Too large."),
            (415, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Not CSV/NDJSON."),
            **PROBLEMS,
        },
    )
    def post(self, request: Request) -> Response:
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        fmt = MEDIA_TYPES.get(media_type)
        if fmt is None:
            return problem_response(status=415, detail="Send text/csv or application/x-ndjson.")
        if "project" not in request.query_params:
            return bad_request("The project parameter is required.", [{"pointer": "/project", "detail": "required"}])
        project = project_for_check(request.query_params["project"])
        if isinstance(project, Response):
            return project
        too_large = problem_response(
            status=413,
            type_uri=problem_type("upload-too-large"),
            detail=f"A bulk check file may hold at most {max_upload_bytes():,} bytes.",
        )
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > max_upload_bytes():
            return too_large
        try:
            job = create_bulk_check(
                organisation=caller_organisation(request),
                client_id=caller_client_id(request),
                project=project,
                fmt=fmt,
                language=request_language(request),
                stream=request._request,
            )
        except UploadTooLarge:
            return too_large
        return Response(job_to_wire(job), status=202, headers={"Location": f"/api/v1/bulk-checks/{job.pk}"})


class BulkCheckDetailView(BulkAPIView):
    @extend_schema(
        operation_id="bulk_checks_retrieve",
        summary="A bulk check's status and progress",
        tags=["bulk-checks"],
        responses={200: BulkCheckSerializer, **PROBLEMS},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = bulk_check_for_organisation(caller_organisation(request), job_id)
        return no_such_job() if job is None else Response(job_to_wire(job))


def _finished_or_problem(request: Request, job_id: str) -> BulkCheck | Response:
    job = bulk_check_for_organisation(caller_organisation(request), job_id)
    if job is None:
        return no_such_job()
    if job.status != BulkCheckStatus.DONE:
        return problem_response(
            status=409,
            type_uri=problem_type("bulk-check-not-done"),
            detail=f"The bulk check is {job.status}; results are served once it is done.",
        )
    return job


NOT_DONE = {(409, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Not done yet.")}


class BulkCheckPermittedView(BulkAPIView):
    @extend_schema(
        operation_id="bulk_checks_permitted",
        summary="The permitted identifiers, in input order",
        description="In the upload's format (CSV `system,value` or NDJSON), streamed.",
        tags=["bulk-checks"],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR),
            **NOT_DONE,
            **PROBLEMS,
        },
    )
    def get(self, request: Request, job_id: str) -> Any:
        job = _finished_or_problem(request, job_id)
        if isinstance(job, Response):
            return job
        content_type = "text/csv" if job.format == BulkCheckFormat.CSV else "application/x-ndjson"
        return StreamingHttpResponse(
            stream_file(job, "permitted", job.permitted_bytes), content_type=f"{content_type}; charset=utf-8"
        )


class BulkCheckResultsView(BulkAPIView):
    @extend_schema(
        operation_id="bulk_checks_results",
        summary="Every line's decision and reasons (NDJSON)",
        tags=["bulk-checks"],
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR), **NOT_DONE, **PROBLEMS},
    )
    def get(self, request: Request, job_id: str) -> Any:
        job = _finished_or_problem(request, job_id)
        if isinstance(job, Response):
            return job
        return StreamingHttpResponse(
            stream_file(job, "results.ndjson", job.results_bytes), content_type="application/x-ndjson"
        )
