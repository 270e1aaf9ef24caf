"""FHIR R4 read side for hospitals: ``/fhir/r4/metadata`` and a search of a person's Consent resources.

A Consent shows every restriction a person made, so only an organisation linked to the person reads it
(:mod:`consent.linkage`), and each read is recorded where the person sees who checked their choices."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import selectors
from consent.api.auth import ApiTokenAuthentication, ClientRateThrottle, HasScope
from consent.api.decisions import PROBLEMS, bad_request, caller_client_id, caller_organisation
from consent.api.problems import ProblemDetailsMixin
from consent.bulk.identifiers import InvalidIdentifier, accepted_systems, parse_token, person_ids_for
from consent.decision_log import record_consent_read
from consent.fhir import export_consents
from consent.linkage import Caller
from phr.models import Person

FHIR_VERSION = "4.0.1"


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


def capability_statement() -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": "Mamori",
        "kind": "instance",
        "implementation": {"description": "Mamori consent service", "url": f"{settings.MAMORI_BASE_URL}/fhir/r4"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "SMART Backend Services; scope system/Consent.rs.",
                },
                "resource": [
                    {
                        "type": "Consent",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            {
                                "name": "patient.identifier",
                                "type": "token",
                                "documentation": "SYSTEM|VALUE: your patient number or the linkage id.",
                            }
                        ],
                    }
                ],
            }
        ],
    }


class FhirMetadataView(ProblemDetailsMixin, APIView):
    """``GET /fhir/r4/metadata``: the server's CapabilityStatement (public)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (FhirJSONRenderer, JSONRenderer)

    @extend_schema(
        operation_id="fhir_metadata",
        summary="FHIR CapabilityStatement",
        tags=["fhir"],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(capability_statement())


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    base = f"{settings.MAMORI_BASE_URL}/fhir/r4"
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{base}/Consent/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources
        ],
    }


class FhirConsentSearchView(ProblemDetailsMixin, APIView):
    """``GET /fhir/r4/Consent?patient.identifier=SYSTEM|VALUE``: the person's consent, as a searchset Bundle."""

    authentication_classes = (ApiTokenAuthentication,)
    permission_classes = (HasScope("system/Consent.rs"),)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (FhirJSONRenderer, JSONRenderer)

    @extend_schema(
        operation_id="fhir_consent_search",
        summary="Search a person's Consent resources",
        description="One Consent per purpose class, only for a person linked to your organisation (your patient "
        "number, or a connection to your FHIR endpoints); anyone else, like an unknown identifier, gives an empty "
        "Bundle. The patient is named by the identifier searched for. Every read is shown to the person.",
        tags=["fhir"],
        parameters=[
            OpenApiParameter("patient.identifier", OpenApiTypes.STR, required=True, description="SYSTEM|VALUE")
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="searchset Bundle"), **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        organisation = caller_organisation(request)
        try:
            ref = parse_token(request.query_params.get("patient.identifier", ""), accepted_systems(organisation))
        except InvalidIdentifier as error:
            return bad_request(str(error), [{"pointer": "/patient.identifier", "detail": str(error)}])
        [person_id] = person_ids_for([ref], Caller.of(organisation))
        person = Person.objects.filter(pk=person_id).first() if person_id is not None else None
        if person is None:  # nobody, or a person not linked to the caller: the same empty searchset
            return Response(searchset([]))
        at = timezone.now()
        with transaction.atomic():
            resources = export_consents(person, at)
            record_consent_read(
                organisation_id=organisation.pk,
                client_id=caller_client_id(request),
                person_id=person.pk,
                consent_version=selectors.current_version(person),
                at=at,
            )
        for resource in resources:
            resource["patient"] = {"identifier": ref.to_wire()}
        return Response(searchset(resources))
