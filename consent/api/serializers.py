"""OpenAPI schema of the DUO match endpoint, and the reasons hospitals are given.

These serializers document the wire form for drf-spectacular; they do not validate it.
:mod:`consent.duo.wire` is the one parser (it also reads fixtures and imports, and reports
problems by JSON Pointer), and tests/consent/api/test_duo_match.py keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from consent.disclosure import REQUEST_REASONS
from consent.duo.results import Decision
from consent.duo.terms import PurposeType


class ConsentTermsSerializer(serializers.Serializer[Any]):
    """A person's DUO data-use terms."""

    permission = serializers.CharField(
        allow_null=True, help_text="DUO permission as shorthand or CURIE: GRU, HMB, DS, POA, NRES (null: none)."
    )
    diseases = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="ICD-10 codes, blocks or chapters (C34, C30-C39, II); required for DS, not allowed otherwise.",
    )
    modifiers = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="DUO modifiers as shorthands or CURIEs (NCU, IRB, …)."
    )
    parameters = serializers.DictField(
        required=False,
        help_text="By modifier: GS regions (ISO 3166), TS months (24 or P2Y), MOR date, "
        "US/PS/IS/RS/COL lists of names.",
    )
    consented_at = serializers.DateField()


class ResearchPurposeSerializer(serializers.Serializer[Any]):
    """A proposed use of the data."""

    type = serializers.ChoiceField(choices=[kind.value for kind in PurposeType])
    diseases = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="ICD-10; required for DS, allowed for MDS."
    )
    commercial = serializers.BooleanField()
    for_profit = serializers.BooleanField()
    genetic = serializers.BooleanField()
    ethics_approval = serializers.BooleanField()
    publication = serializers.BooleanField()
    returns_data = serializers.BooleanField()
    collaborators = serializers.ListField(child=serializers.CharField(), required=False)
    regions = serializers.ListField(child=serializers.CharField(), required=False, help_text="ISO 3166 codes.")
    topics = serializers.ListField(child=serializers.CharField(), required=False)
    user = serializers.CharField(allow_null=True, required=False)
    project = serializers.CharField(allow_null=True, required=False)
    institution = serializers.CharField(allow_null=True, required=False)
    at = serializers.DateField(help_text="The date of the use.")


class MatchRequestSerializer(serializers.Serializer[Any]):
    """Consent terms and a research purpose to match."""

    consent = ConsentTermsSerializer()
    purpose = ResearchPurposeSerializer()


class ReasonSerializer(serializers.Serializer[Any]):
    """Why a use is denied, in the request's language."""

    code = serializers.CharField(help_text="The DUO shorthand of the term that caused the deny, or a check's code.")
    message = serializers.CharField()


class HospitalReasonSerializer(serializers.Serializer[Any]):
    """Why a person's data may not be used, as a hospital is told (consent.disclosure)."""

    code = serializers.CharField(
        help_text="`not-releasable` for any reason that depends on the person (which choice or notice it was is "
        "not told: EHDS Art 8); otherwise a reason about the request: "
        + ", ".join(f"`{code}`" for code in sorted(REQUEST_REASONS))
        + "."
    )
    message = serializers.CharField()


class ObligationSerializer(serializers.Serializer[Any]):
    """A condition of a permit."""

    code = serializers.CharField()
    until = serializers.DateField()


class MatchResultSerializer(serializers.Serializer[Any]):
    """The answer: permit or deny, with every reason and obligation."""

    decision = serializers.ChoiceField(choices=[decision.value for decision in Decision])
    reasons = ReasonSerializer(many=True)
    obligations = ObligationSerializer(many=True)
