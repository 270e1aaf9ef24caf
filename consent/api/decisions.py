"""``GET /api/v1/decisions`` and ``POST /api/v1/decisions:batch``: may this project use this person's data?

Thin views: parse and authorise, then decide and audit. A single decision takes the short path — the
caller's token and the project from per-process caches (:mod:`consent.api.auth`, :mod:`consent.reference`),
the person's identifier, state and notices in one statement, one audit insert — because hospitals call it
once per patient at the point of care; a batch goes through :func:`consent.bulk.decisions.decide_identifiers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.auth import ApiTokenAuthentication, ClientRateThrottle, HasScope
from consent.api.negotiation import JSONFirstNegotiation
from consent.api.parsers import BoundedJSONParser
from consent.api.problems import ProblemDetailsMixin, ProblemSerializer, problem_response, problem_type
from consent.api.serializers import HospitalReasonSerializer, ObligationSerializer
from consent.api.views import request_language
from consent.bulk.decisions import decide_identifiers
from consent.bulk.identifiers import IdentifierRef, InvalidIdentifier, accepted_systems, checked, parse_token
from consent.decision_log import record_decision
from consent.disclosure import NOT_RELEASABLE_BASIS, hospital_wire, hospital_wires
from consent.engine import decide
from consent.linkage import Caller
from consent.models import DecisionChannel, Project
from consent.reference import ProjectEntry, cached_project
from consent.selectors import snapshot_for_identifier
from phr.crypto.blind_index import blind_index
from phr.ids import parse_uuid
from phr.models import Organisation

BATCH_MAX = 10_000


# -- shared helpers ----------------------------------------------------------------------------------------


def caller_organisation(request: Request) -> Organisation:
    return request.user.organisation  # type: ignore[union-attr]


def caller_client_id(request: Request) -> str:
    client = getattr(request.user, "client", None)
    return str(getattr(client, "client_id", "") or "")


def project_for_check(value: object) -> Project | Response:
    """The project a check names (any project: the engine denies one that is not approved), or the problem:
    400 for a malformed id, 404 for an unknown one. Read fresh: releases go by it."""
    project_id = parse_uuid(value) if isinstance(value, str) else None
    if project_id is None:
        return malformed_project()
    project = Project.objects.filter(pk=project_id).first()
    return project if project is not None else unknown_project()


def project_entry_for_check(value: object) -> ProjectEntry | Response:
    """As :func:`project_for_check`, from the per-process reference cache (no query on a hit)."""
    project_id = parse_uuid(value) if isinstance(value, str) else None
    if project_id is None:
        return malformed_project()
    entry = cached_project(project_id)
    return entry if entry is not None else unknown_project()


def bad_request(detail: str, errors: list[dict[str, str]] | None = None) -> Response:
    return problem_response(
        status=400,
        type_uri=problem_type("invalid-request"),
        title="The request is invalid",
        detail=detail,
        errors=errors or [],
    )


def malformed_project() -> Response:
    return bad_request("The project must be a project id (a UUID).", [{"pointer": "/project", "detail": "not a UUID"}])


def unknown_project() -> Response:
    return problem_response(status=404, type_uri=problem_type("unknown-project"), detail="No project has this id.")


# -- schema ----------------------------------------------------------------------------------------------


class CategoryDecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=["permit", "deny"])
    basis = serializers.CharField(
        help_text="A permit's ground (`statutory`, `consent`, `opt_out`); a deny about the request (`invalid`, "
        f"`prohibited`), or `{NOT_RELEASABLE_BASIS}` when the deny depends on the person."
    )


class DecisionBodySerializer(serializers.Serializer[Any]):
    project = serializers.UUIDField()
    decision = serializers.ChoiceField(choices=["permit", "deny"])
    categories = serializers.DictField(child=CategoryDecisionSerializer())
    reasons = HospitalReasonSerializer(many=True)
    obligations = ObligationSerializer(many=True, help_text="Conditions of a permit (empty on a deny).")
    consent_version = serializers.IntegerField(allow_null=True, help_text="null for an unknown person.")
    evaluated_at = serializers.DateTimeField()


class DecisionSerializer(DecisionBodySerializer):
    identifier = serializers.CharField(help_text="SYSTEM|VALUE, as asked.")


class IdentifierSerializer(serializers.Serializer[Any]):
    system = serializers.CharField()
    value = serializers.CharField()


class BatchDecisionSerializer(DecisionBodySerializer):
    identifier = IdentifierSerializer()


class BatchRequestSerializer(serializers.Serializer[Any]):
    project = serializers.UUIDField()
    identifiers = IdentifierSerializer(many=True, help_text=f"At most {BATCH_MAX:,}.")
    categories = serializers.ListField(child=serializers.CharField(), required=False)


PROBLEMS = {
    (400, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Invalid request."),
    (401, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="No valid token."),
    (403, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Scope missing."),
    (404, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Unknown project."),
    (429, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Rate limited."),
}


# -- views -----------------------------------------------------------------------------------------------


class DecisionView(ProblemDetailsMixin, APIView):
    """``GET /api/v1/decisions``: one person's decision for one project."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("consent.check"),)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONFirstNegotiation

    @extend_schema(
        operation_id="decisions_retrieve",
        summary="Decide whether a project may use a person's data",
        description="Identifiers are in the caller's patient-number system or the linkage system. A person not "
        "linked to the caller's organisation (no patient number of it, no connection to its FHIR endpoints) gets "
        "exactly the answer of an unknown one: a deny with `unknown-person`. Reasons that depend on the person "
        "are given as one `not-releasable`; reasons about the request (project not approved or out of its "
        "period, unknown category) as they are. The check is shown to the person with the full reasons.",
        tags=["decisions"],
        parameters=[
            OpenApiParameter("identifier", OpenApiTypes.STR, required=True, description="SYSTEM|VALUE"),
            OpenApiParameter("project", OpenApiTypes.UUID, required=True),
            OpenApiParameter("category", OpenApiTypes.STR, many=True, description="Default: the project's."),
        ],
        responses={200: DecisionSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        organisation = caller_organisation(request)
        token = request.query_params.get("identifier", "")
        try:
            ref = parse_token(token, accepted_systems(organisation))
        except InvalidIdentifier as error:
            return bad_request(str(error), [{"pointer": "/identifier", "detail": str(error)}])
        if "project" not in request.query_params:
            return bad_request("The project parameter is required.", [{"pointer": "/project", "detail": "required"}])
        entry = project_entry_for_check(request.query_params["project"])
        if isinstance(entry, Response):
            return entry
        categories = [c for value in request.query_params.getlist("category") for c in value.split(",") if c]
        decision_request = entry.request_for(categories)
        at = timezone.now()
        person_id, snapshot = snapshot_for_identifier(
            ref.system, blind_index(ref.system, ref.value), decision_request, at, Caller.of(organisation)
        )
        decision = decide(snapshot, decision_request, at)
        if person_id is not None:  # unknown or not linked to the caller: about nobody it may ask about
            record_decision(
                organisation_id=organisation.pk,
                client_id=caller_client_id(request),
                person_id=person_id,
                project_id=entry.project.pk,
                channel=DecisionChannel.SINGLE,
                decision=decision,
            )
        wire = hospital_wire(decision, request_language(request))
        return Response({"identifier": str(ref), "project": str(entry.project.pk), **wire})


class BatchParser(BoundedJSONParser):
    max_bytes = 8 * 1024 * 1024


def parse_batch(data: object, organisation: Organisation) -> tuple[Any, list[IdentifierRef], list[str] | None]:
    """(project id, identifiers, categories) or raises InvalidBatch with every problem's pointer."""
    errors: list[dict[str, str]] = []
    if not isinstance(data, dict):
        raise InvalidBatch([{"pointer": "", "detail": "The body must be a JSON object."}])
    identifiers = data.get("identifiers")
    if not isinstance(identifiers, list):
        errors.append({"pointer": "/identifiers", "detail": "A list of {system, value} is required."})
        identifiers = []
    if len(identifiers) > BATCH_MAX:
        raise BatchTooLarge
    categories = data.get("categories")
    if categories is not None and (
        not isinstance(categories, list) or not all(isinstance(c, str) and c for c in categories)
    ):
        errors.append({"pointer": "/categories", "detail": "A list of category names is expected."})
    if "project" not in data:
        errors.append({"pointer": "/project", "detail": "The project is required."})
    accepted = accepted_systems(organisation)
    refs: list[IdentifierRef] = []
    for index, item in enumerate(identifiers):
        try:
            if not isinstance(item, dict):
                raise InvalidIdentifier("Each identifier is an object {system, value}.")
            refs.append(checked(item.get("system"), item.get("value"), accepted))
        except InvalidIdentifier as error:
            errors.append({"pointer": f"/identifiers/{index}", "detail": str(error)})
    if errors:
        raise InvalidBatch(errors)
    return data["project"], refs, categories


class InvalidBatch(Exception):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid batch")
        self.errors = errors


class BatchTooLarge(Exception):
    pass


@dataclass(frozen=True)
class BatchInput:
    """A batch body read and checked: who asks, for which project, about whom, for which categories."""

    organisation: Organisation
    project: Project
    refs: list[IdentifierRef]
    categories: list[str] | None


def read_batch(request: Request, *, too_large: str) -> BatchInput | Response:
    """The batch of a decisions or releases request, or the problem response that answers it."""
    organisation = caller_organisation(request)
    try:
        project_id, refs, categories = parse_batch(request.data, organisation)
    except InvalidBatch as error:
        return bad_request(f"{len(error.errors)} problem(s) found.", error.errors)
    except BatchTooLarge:
        return problem_response(status=413, type_uri=problem_type("batch-too-large"), detail=too_large)
    project = project_for_check(project_id)
    if isinstance(project, Response):
        return project
    return BatchInput(organisation=organisation, project=project, refs=refs, categories=categories)


class BatchDecisionView(ProblemDetailsMixin, APIView):
    """``POST /api/v1/decisions:batch``: up to 10,000 persons' decisions for one project, in order."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("consent.check"),)
    throttle_classes = (ClientRateThrottle,)
    parser_classes = (BatchParser,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="decisions_batch",
        summary="Decide for many persons at once",
        description=f"At most {BATCH_MAX:,} identifiers (more is a 413). A malformed identifier is a 400 whose "
        "errors point at its index. Results come in input order, each as `GET /api/v1/decisions` answers it "
        "(persons not linked to your organisation as unknown ones, person-specific reasons as `not-releasable`).",
        tags=["decisions"],
        request=BatchRequestSerializer,
        responses={
            200: inline_serializer(
                "BatchDecisions", {"project": serializers.UUIDField(), "results": BatchDecisionSerializer(many=True)}
            ),
            (413, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Too many."),
            **PROBLEMS,
        },
    )
    def post(self, request: Request) -> Response:
        batch = read_batch(
            request, too_large=f"A batch holds at most {BATCH_MAX:,} identifiers; use bulk checks for more."
        )
        if isinstance(batch, Response):
            return batch
        organisation, project, refs, categories = batch.organisation, batch.project, batch.refs, batch.categories
        decisions = decide_identifiers(
            refs=refs,
            project=project,
            categories=categories,
            organisation=organisation,
            client_id=caller_client_id(request),
            channel=DecisionChannel.BATCH,
        )
        language = request_language(request)
        project_id = str(project.pk)
        results = [
            {"identifier": ref.to_wire(), "project": project_id, **answer}
            for ref, answer in zip(refs, hospital_wires(decisions, language), strict=True)
        ]
        return Response({"project": str(project.pk), "results": results})
