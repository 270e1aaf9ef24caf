"""Contract of POST /api/v1/duo/match: public, JSON in and out, every error a problem+json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from consent.api.serializers import ConsentTermsSerializer, ResearchPurposeSerializer
from consent.duo import wire
from tests.consent.test_duo_wire import DESIGN_EXAMPLE, example

URL = "/api/v1/duo/match"


def post(client: Client, document: object, language: str | None = None) -> Any:
    headers = {"Accept-Language": language} if language else {}
    return client.post(URL, data=json.dumps(document), content_type="application/json", headers=headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    return body


def test_it_permits_the_design_example_with_a_moratorium_obligation(client: Client):
    response = post(client, DESIGN_EXAMPLE)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "decision": "permit",
        "reasons": [],
        "obligations": [{"code": "MOR", "until": "2027-04-01"}],
    }


def test_it_denies_with_every_reason_in_japanese_by_default(client: Client):
    response = post(client, example(purpose__commercial=True, purpose__regions=["US"]))
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "deny"
    assert body["obligations"] == []
    assert body["reasons"] == [
        {"code": "NCU", "message": "商業目的の利用は認められていません。"},
        {"code": "GS", "message": "利用できる地域はJPに限られています。USでの処理は認められていません。"},
    ]
    assert response["Content-Language"] == "ja"


def test_it_answers_in_english_when_asked(client: Client):
    response = post(client, example(purpose__commercial=True), language="en-GB,en;q=0.8")
    assert response.json()["reasons"] == [{"code": "NCU", "message": "Commercial use is not allowed."}]
    assert response["Content-Language"] == "en"


def test_it_falls_back_to_japanese_for_other_languages(client: Client):
    response = post(client, example(purpose__commercial=True), language="fr")
    assert response.json()["reasons"][0]["message"] == "商業目的の利用は認められていません。"


def test_it_denies_a_broader_disease_than_consented(client: Client):
    response = post(client, example(consent__diseases=["C34"], purpose__diseases=["C00-C97"]), language="en")
    assert response.json()["decision"] == "deny"
    assert [reason["code"] for reason in response.json()["reasons"]] == ["DS"]


def test_it_rejects_an_unknown_term_as_a_problem(client: Client):
    body = assert_problem(post(client, example(consent__modifiers=["NCU", "XYZ"]), language="en"), 400)
    assert body["type"] == "tag:mamori,2026:problem/invalid-request"
    assert body["errors"][0]["pointer"] == "/consent/modifiers/1"
    assert "not a DUO term" in body["errors"][0]["detail"]
    assert "decision" not in body


def test_it_rejects_a_bad_icd10_code(client: Client):
    body = assert_problem(post(client, example(purpose__diseases=["C34.99"]), language="en"), 400)
    assert body["errors"] == [
        {
            "pointer": "/purpose/diseases/0",
            "detail": "'C34.99' is not an ICD-10 code, block or chapter (for example C34, C34.1, C30-C39 or II).",
        }
    ]


def test_it_rejects_an_unknown_field(client: Client):
    body = assert_problem(post(client, example(purpose__is_nice=True)), 400)
    assert body["errors"][0]["pointer"] == "/purpose/is_nice"
    assert body["title"] == "入力に誤りがあります"
    assert body["errors"][0]["detail"].startswith("「is_nice」という項目はありません")


def test_it_lists_every_problem_with_its_pointer(client: Client):
    document = example(consent__permission="XYZ", purpose__at="someday")
    body = assert_problem(post(client, document, language="en"), 400)
    assert [error["pointer"] for error in body["errors"]] == ["/consent/permission", "/purpose/at"]
    assert body["detail"] == "2 problem(s) found."


def test_it_rejects_malformed_json_as_a_problem(client: Client):
    response = client.post(URL, data="{not json", content_type="application/json")
    assert "JSON" in assert_problem(response, 400)["detail"]


def test_it_rejects_form_data_as_unsupported(client: Client):
    assert_problem(client.post(URL, data="consent=GRU", content_type="application/x-www-form-urlencoded"), 415)


def test_it_refuses_get_with_a_problem(client: Client):
    response = client.get(URL)
    assert_problem(response, 405)
    assert "POST" in response["Allow"]


def test_it_refuses_a_body_over_the_limit(client: Client):
    document = example(purpose__topics=["x" * 200] * 400)
    assert_problem(post(client, document), 413)


def test_it_needs_no_authentication_and_no_csrf_token():
    response = post(Client(enforce_csrf_checks=True), DESIGN_EXAMPLE)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("serializer", "required", "optional"),
    [
        (ConsentTermsSerializer, wire.CONSENT_REQUIRED, wire.CONSENT_OPTIONAL),
        (ResearchPurposeSerializer, wire.PURPOSE_REQUIRED, wire.PURPOSE_OPTIONAL),
    ],
)
def test_the_documented_fields_are_the_fields_the_parser_accepts(serializer, required, optional):
    fields = serializer().fields
    assert set(fields) == required | optional
    assert {name for name, field in fields.items() if field.required} == required


def test_the_openapi_schema_documents_the_endpoint(client: Client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    operation = response.json()["paths"][URL]["post"]
    assert operation["operationId"] == "duo_match"
    assert "application/problem+json" in operation["responses"]["400"]["content"]
    assert operation["security"] == [{}]
