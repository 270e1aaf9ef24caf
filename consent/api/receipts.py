"""``POST /api/v1/receipts/verify`` and ``GET /api/v1/receipts/keys``: public, no personal data needed."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.parsers import BoundedJSONParser
from consent.api.problems import ProblemDetailsMixin, ProblemSerializer, problem_response, problem_type
from consent.receipts.signing import public_jwks, verify_document

VerificationSerializer = inline_serializer(
    "ReceiptVerification",
    {
        "valid": serializers.BooleanField(),
        "record_id": serializers.CharField(allow_null=True),
        "key_id": serializers.CharField(allow_null=True),
        "problem": serializers.CharField(allow_null=True, help_text="Why the receipt is not valid."),
    },
)


def _is_document(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and set(data) == {"receipt", "signature"}
        and isinstance(data["receipt"], dict)
        and isinstance(data["signature"], dict)
    )


class ReceiptVerifyView(ProblemDetailsMixin, APIView):
    """Check a receipt's signature against every key Mamori ever published."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (BoundedJSONParser,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="receipts_verify",
        summary="Verify a consent receipt",
        description="Send the receipt JSON exactly as downloaded. A well-formed receipt answers 200 with "
        "``valid`` true or false; anything that is not a receipt document is a 400 problem.",
        tags=["receipts"],
        request=inline_serializer(
            "ReceiptDocument", {"receipt": serializers.DictField(), "signature": serializers.DictField()}
        ),
        responses={
            200: VerificationSerializer,
            (400, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Not a receipt."),
            (413, "application/problem+json"): OpenApiResponse(ProblemSerializer, description="Body too large."),
        },
    )
    def post(self, request: Request) -> Response:
        if not _is_document(request.data):
            return problem_response(
                status=400,
                type_uri=problem_type("invalid-receipt"),
                title="Not a receipt document",
                detail="Send the receipt JSON as downloaded: an object with 'receipt' and 'signature'.",
            )
        result = verify_document(request.data)
        return Response(
            {"valid": result.valid, "record_id": result.record_id, "key_id": result.key_id, "problem": result.problem}
        )


class ReceiptKeysView(ProblemDetailsMixin, APIView):
    """Every receipt-signing public key, current and retired, as a JWK Set (OKP Ed25519, RFC 8037)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="receipts_keys",
        summary="Receipt-signing public keys",
        tags=["receipts"],
        responses={
            200: inline_serializer("ReceiptKeys", {"keys": serializers.ListField(child=serializers.DictField())})
        },
    )
    def get(self, request: Request) -> Response:
        return Response(public_jwks(), headers={"Cache-Control": "public, max-age=300"})
