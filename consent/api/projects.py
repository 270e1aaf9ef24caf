"""``GET /api/v1/projects``: the public register of approved projects, as JSON (no personal data, no auth)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.problems import ProblemDetailsMixin
from consent.models import Project, ProjectStatus


class RegisteredProjectSerializer(serializers.ModelSerializer[Project]):
    organisation = serializers.CharField(source="organisation.name")
    organisation_en = serializers.CharField(source="organisation.name_en")

    class Meta:
        model = Project
        fields = [
            "id",
            "organisation",
            "organisation_en",
            "title_ja",
            "title_en",
            "summary_ja",
            "summary_en",
            "purpose_class",
            "duo_purpose",
            "data_categories",
            "commercial",
            "ethics_approval",
            "ethics_reference",
            "publication_commitment",
            "regions",
            "period_start",
            "period_end",
            "processing_mode",
        ]


class RegisterResponseSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    projects = RegisteredProjectSerializer(many=True)


def approved_projects() -> Any:
    """Approved projects with their organisation, newest first (one query)."""
    return (
        Project.objects.filter(status=ProjectStatus.APPROVED)
        .select_related("organisation")
        .order_by("-period_start", "id")
    )


class ProjectRegisterView(ProblemDetailsMixin, APIView):
    """The public register: every approved project, what it uses and why."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="projects_register",
        summary="The public register of approved projects",
        tags=["projects"],
        responses={200: RegisterResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        projects = RegisteredProjectSerializer(approved_projects(), many=True).data
        return Response({"count": len(projects), "projects": projects})
