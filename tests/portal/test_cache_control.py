"""No copy of a page with personal data stays in a browser or a shared cache: ``Cache-Control: no-store`` on
the person's pages, their proxy's view of them, the share-link pages and exports; a public answer that asks to
be cached keeps its own header."""

from __future__ import annotations

from django.test import Client

from phr.models import Person, ResourceIndex
from phr.records.sharing import create_share_link
from tests.conftest import grant_proxy_to, make_user, sign_in
from tests.portal.test_records_fixtures import seed_record


def _document(person: Person) -> str:
    return str(ResourceIndex.objects.filter(person=person, category="documents").values_list("pk", flat=True)[0])


def test_the_persons_record_pages_are_not_stored(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    paths = [
        "/me/",
        "/me/records/",
        "/me/records/timeline/",
        "/me/records/labs/",
        "/me/records/documents/",
        f"/me/records/documents/{_document(alice)}/",
        "/me/records/access-log/",
        "/me/choices/",
        "/me/profile/",
    ]

    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path


def test_a_proxy_reading_the_persons_records_gets_no_stored_copy(client: Client, alice: Person) -> None:
    seed_record(alice)
    proxy = make_user("proxy@example.test")
    grant_proxy_to(alice, proxy)
    sign_in(client, proxy.email)

    for path in (f"/people/{alice.pk}/", f"/people/{alice.pk}/records/", f"/people/{alice.pk}/records/labs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path


def test_the_share_link_pages_and_an_export_are_not_stored(client: Client, alice: Person) -> None:
    seed_record(alice)
    assert alice.user is not None
    _, token = create_share_link(person=alice, actor=alice.user, label="港診療所", days=1, categories=["allergies"])
    clinician = Client()
    for path in (f"/share/{token}/", f"/share/{token}/print/"):
        response = clinician.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path

    sign_in(client, alice.user.email)
    export = client.get("/me/records/export/download/bundle/")
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    assert export["Cache-Control"] == "no-store"


def test_a_redirect_after_a_form_and_an_error_page_are_not_stored_either(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    assert client.get("/me/records/documents/not-a-uuid/")["Cache-Control"] == "no-store"
    assert client.get("/staff/")["Cache-Control"] == "no-store"


def test_a_public_answer_that_asks_to_be_cached_keeps_its_own_header(client: Client, db: None) -> None:
    response = client.get("/api/v1/receipts/keys")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
