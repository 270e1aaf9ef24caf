"""Documents: rendered from Composition sections, their narrative cleaned with nh3."""

from __future__ import annotations

from django.test import Client

from phr.models import Person, ResourceIndex
from phr.records.documents import clean_narrative
from tests.conftest import sign_in
from tests.portal.test_records_fixtures import seed_record


def _document_pk(person: Person) -> str:
    return str(ResourceIndex.objects.get(person=person, category="documents").pk)


def test_a_referral_letter_is_rendered_from_its_sections(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get(f"/me/records/documents/{_document_pk(alice)}/").content.decode()

    assert "診療情報提供書" in page
    assert "紹介目的" in page and "腹痛精査お願いします。" in page
    assert "現病歴" in page and "上腹部痛" in page
    assert "港診療所 田中医師" in page


def test_a_script_in_a_narrative_is_removed(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get(f"/me/records/documents/{_document_pk(alice)}/").content.decode()

    assert "pwned" not in page
    assert "<script>document" not in page
    assert "onerror" not in page
    assert "javascript:" not in page


def test_nh3_keeps_tables_and_drops_handlers_styles_and_script_urls() -> None:
    cleaned = clean_narrative(
        '<div><table><tr><td style="color:red" onclick="x()">1</td></tr></table>'
        '<a href="javascript:alert(1)">a</a><a href="https://example.test/">b</a><iframe src="x"></iframe></div>'
    )

    assert "<td>1</td>" in cleaned
    assert "onclick" not in cleaned and "style" not in cleaned and "iframe" not in cleaned
    assert "javascript" not in cleaned
    assert 'href="https://example.test/"' in cleaned


def test_a_bad_or_foreign_document_id_is_not_found(client: Client, alice: Person, bob: Person) -> None:
    seed_record(bob)
    sign_in(client, alice.user.email)

    assert client.get("/me/records/documents/not-a-uuid/").status_code == 404
    assert client.get(f"/me/records/documents/{_document_pk(bob)}/").status_code == 404
