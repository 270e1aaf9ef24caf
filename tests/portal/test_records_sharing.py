"""Sharing with a clinician: a time-limited link with a QR code opens a read-only summary of the chosen
categories, behind an optional passcode; each opening and each wrong passcode is logged."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from phr.models import AuditEvent, Person, RecordAccess, ShareLink, User
from phr.records import sharing
from tests.conftest import grant_proxy_to, sign_in
from tests.portal.test_records_export import owner
from tests.portal.test_records_fixtures import condition, seed_record

DEFAULT = ["allergies", "drug_contraindications", "diagnoses", "prescriptions", "lab_results", "documents"]
# What each category of the seeded record shows, and what must never appear when it is not shared.
SHOWN_BY = {
    "allergies": "そば",
    "drug_contraindications": "ペニシリン",
    "diagnoses": "本態性高血圧症",
    "prescriptions": "アムロジピン錠5mg",
    "lab_results": "血糖",
    "documents": "診療情報提供書",
    "sensitive_diagnoses": "うつ病",
}
DEPRESSION = condition("c3", code="F32", display="うつ病")


def _make_link(
    client: Client,
    label: str = "港診療所 田中先生",
    *,
    categories: list[str] | None = None,
    passcode_choice: str = "none",
    passcode: str = "",
) -> tuple[str, str]:
    """Make a link through the share page; its path and the passcode shown (if any)."""
    data = {
        "label": label,
        "days": "1",
        "categories": DEFAULT if categories is None else categories,
        "passcode_choice": passcode_choice,
        "passcode": passcode,
    }
    response = client.post("/me/records/share/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="qr__image"' in page and "<svg" in page
    match = re.search(r'value="https?://[^"/]+(/share/[^"]+/)"', page)
    assert match, "no link shown"
    shown = re.search(r'id="share-passcode"[^>]*>([^<]+)<', page)
    return match.group(1), shown.group(1) if shown else ""


@pytest.fixture
def signed_in(client: Client, alice: Person) -> Client:
    seed_record(alice, extra=(DEPRESSION,))
    sign_in(client, alice.user.email)
    return client


def test_a_person_makes_a_link_and_a_clinician_opens_the_summary_without_signing_in(
    signed_in: Client, alice: Person
) -> None:
    path, _ = _make_link(signed_in)
    clinician = Client()

    response = clinician.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "ペニシリン" in page and "本態性高血圧症" in page and "血糖" in page
    assert response["Referrer-Policy"] == "same-origin"
    access = RecordAccess.objects.get(person=alice)
    assert access.route == "share_link" and access.actor is None and access.page == "records.shared"
    assert access.actor_label == "港診療所 田中先生"


def test_sensitive_diagnoses_are_left_out_unless_the_person_ticks_them(signed_in: Client) -> None:
    form_page = signed_in.get("/me/records/share/").content.decode()
    assert re.search(r'<input[^>]*value="allergies"[^>]*checked', form_page)
    assert not re.search(r'<input[^>]*value="sensitive_diagnoses"[^>]*checked', form_page)

    default, _ = _make_link(signed_in, "A")
    ticked, _ = _make_link(signed_in, "B", categories=[*DEFAULT, "sensitive_diagnoses"])

    assert "うつ病" not in Client().get(default).content.decode()
    assert "うつ病" in Client().get(ticked).content.decode()


@pytest.mark.parametrize("chosen", [["allergies"], ["lab_results"], ["diagnoses", "prescriptions"]])
def test_only_the_chosen_categories_are_shown(signed_in: Client, chosen: list[str]) -> None:
    path, _ = _make_link(signed_in, categories=chosen)
    clinician = Client()

    pages = [clinician.get(path).content.decode(), clinician.get(path + "print/").content.decode()]
    tampered = clinician.get(path + "?category=sensitive_diagnoses&categories=diagnoses").content.decode()

    for page in [*pages, tampered]:
        for category, text in SHOWN_BY.items():
            if category in chosen:
                assert text in page, (category, text)
            else:
                assert text not in page, (category, text)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.sets(st.sampled_from(sharing.SHAREABLE_CATEGORIES), min_size=1))
def test_the_shared_view_never_holds_an_entry_of_a_category_not_chosen(alice_with_record: Person, chosen) -> None:
    link, _token = sharing.create_share_link(
        person=alice_with_record, actor=owner(alice_with_record), label="x", days=1, categories=chosen
    )

    summary = sharing.shared_summary(link)

    listed = [*summary.allergies, *summary.conditions, *summary.prescriptions, *summary.documents]
    listed += [group.latest.entry for group in summary.labs]
    assert {entry.category for entry in listed} <= set(chosen)
    assert bool(summary.labs) == ("lab_results" in chosen)


@pytest.fixture
def alice_with_record(alice: Person) -> Person:
    seed_record(alice, extra=(DEPRESSION,))
    return alice


def test_a_link_shares_at_least_one_known_category(alice: Person) -> None:
    with pytest.raises(ValueError, match="at least one"):
        sharing.create_share_link(person=alice, actor=owner(alice), label="x", days=1, categories=[])
    with pytest.raises(ValueError, match="genomics"):
        sharing.create_share_link(person=alice, actor=owner(alice), label="x", days=1, categories=["genomics"])
    assert not ShareLink.objects.exists()


def test_the_form_refuses_no_category_or_a_short_passcode_and_makes_no_link(signed_in: Client) -> None:
    none_ticked = signed_in.post(
        "/me/records/share/", {"label": "A", "days": "1", "passcode_choice": "none"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    short = signed_in.post(
        "/me/records/share/",
        {"label": "港診療所", "days": "1", "categories": DEFAULT, "passcode_choice": "own", "passcode": "123"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    missing = signed_in.post(
        "/me/records/share/",
        {"label": "港診療所", "days": "1", "categories": DEFAULT, "passcode_choice": "own"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "Choose at least one kind of record to share." in none_ticked.content.decode()
    assert "at least 6 characters" in short.content.decode()
    assert 'value="港診療所"' in short.content.decode()  # what was typed is kept
    assert "Type the passcode you want" in missing.content.decode()
    assert not ShareLink.objects.exists()


def test_only_a_digest_of_the_token_and_a_slow_hash_of_the_passcode_are_stored(
    signed_in: Client, alice: Person
) -> None:
    path, _ = _make_link(signed_in, passcode_choice="own", passcode="sakura-2026")
    token = path.split("/")[2]

    link = ShareLink.objects.get(person=alice)

    assert token not in link.token_digest and len(link.token_digest) == 64
    assert "sakura-2026" not in link.passcode_hash
    assert identify_hasher(link.passcode_hash).algorithm  # a Django password hash, not the passcode
    created = AuditEvent.objects.get(action="records.share_link_created")
    assert created.detail["passcode"] is True and "sakura-2026" not in str(created.detail)


def test_a_link_with_a_passcode_shows_nothing_until_the_passcode_is_entered(signed_in: Client, alice: Person) -> None:
    path, _ = _make_link(signed_in, passcode_choice="own", passcode="sakura-2026")
    clinician = Client(enforce_csrf_checks=True)

    asked = clinician.get(path)
    page = asked.content.decode()
    assert asked.status_code == 200 and 'type="password"' in page and "csrfmiddlewaretoken" in page
    for text in SHOWN_BY.values():
        assert text not in page
    assert not RecordAccess.objects.exists()
    assert clinician.post(path, {"passcode": "sakura-2026"}).status_code == 403  # no CSRF token: refused

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf
    opened = clinician.post(path, {"passcode": "sakura-2026", "csrfmiddlewaretoken": csrf.group(1)})

    assert opened.status_code == 302 and opened["Location"] == path
    assert "ペニシリン" in clinician.get(path).content.decode()
    assert list(RecordAccess.objects.values_list("page", flat=True)) == ["records.shared"]


def test_a_generated_passcode_is_shown_once_and_opens_the_link(signed_in: Client) -> None:
    path, passcode = _make_link(signed_in, passcode_choice="generate")
    assert re.fullmatch(r"\d{8}", passcode)
    assert passcode not in signed_in.get("/me/records/share/").content.decode()
    clinician = Client()

    clinician.post(path, {"passcode": passcode})

    assert "ペニシリン" in clinician.get(path).content.decode()


def test_a_wrong_passcode_is_refused_and_logged(signed_in: Client, alice: Person) -> None:
    path, _ = _make_link(signed_in, passcode_choice="own", passcode="sakura-2026")
    clinician = Client()

    refused = clinician.post(path, {"passcode": "sakura-2025"}, HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 403
    assert "That passcode is not right" in refused.content.decode()
    assert "ペニシリン" not in clinician.get(path).content.decode()
    access = RecordAccess.objects.get(person=alice)
    assert access.route == "share_link" and access.page == "records.shared_passcode_refused"
    assert access.subject == "refused" and access.actor_label == "港診療所 田中先生"


def test_five_wrong_passcodes_lock_the_link_and_the_person_sees_it(signed_in: Client, alice: Person) -> None:
    path, _ = _make_link(signed_in, passcode_choice="own", passcode="sakura-2026")
    clinician = Client()

    statuses = [clinician.post(path, {"passcode": f"guess-{n:04d}"}).status_code for n in range(5)]
    right_but_locked = clinician.post(path, {"passcode": "sakura-2026"}, HTTP_ACCEPT_LANGUAGE="en")

    assert statuses == [403] * 5
    assert right_but_locked.status_code == 403
    assert "This link is locked for now" in right_but_locked.content.decode()
    assert "ペニシリン" not in clinician.get(path).content.decode()
    refused = RecordAccess.objects.filter(page="records.shared_passcode_refused")
    assert refused.count() == 6
    assert list(refused.order_by("at").values_list("subject", flat=True))[-2:] == ["locked", "locked"]
    share_page = signed_in.get("/me/records/share/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "after wrong passcodes" in share_page

    ShareLink.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    clinician.post(path, {"passcode": "sakura-2026"})
    assert "ペニシリン" in clinician.get(path).content.decode()


def test_wrong_passcodes_spread_over_more_than_the_window_do_not_lock(alice: Person) -> None:
    link, _ = sharing.create_share_link(
        person=alice, actor=owner(alice), label="x", days=1, categories=DEFAULT, passcode="sakura-2026"
    )
    start = timezone.now()

    outcomes = [
        sharing.check_passcode(link=link, passcode="wrong-one", actor=None, at=start + n * timedelta(minutes=4))
        for n in range(8)
    ]

    assert set(outcomes) == {sharing.PasscodeCheck.REFUSED}
    assert sharing.check_passcode(link=link, passcode="sakura-2026", actor=None) is sharing.PasscodeCheck.ACCEPTED


def test_an_accepted_passcode_opens_only_that_link_and_only_for_a_while(signed_in: Client) -> None:
    first, _ = _make_link(signed_in, "A", passcode_choice="own", passcode="sakura-2026")
    second, _ = _make_link(signed_in, "B", passcode_choice="own", passcode="sakura-2026")
    clinician = Client()
    clinician.post(first, {"passcode": "sakura-2026"})

    assert "ペニシリン" in clinician.get(first).content.decode()
    assert "ペニシリン" not in clinician.get(second).content.decode()
    assert "ペニシリン" not in Client().get(first).content.decode()

    session = clinician.session
    key = next(k for k, _value in session.items() if k.startswith("share-open:"))
    session[key] = (timezone.now() - sharing.OPEN_FOR - timedelta(seconds=1)).timestamp()
    session.save()
    assert "ペニシリン" not in clinician.get(first).content.decode()


def test_an_ended_expired_or_unknown_link_opens_nothing(signed_in: Client) -> None:
    ended, _ = _make_link(signed_in, "A", passcode_choice="own", passcode="sakura-2026")
    expired, _ = _make_link(signed_in, "B")
    clinician = Client()
    clinician.post(ended, {"passcode": "sakura-2026"})
    link_a = ShareLink.objects.get(label="A")
    assert signed_in.post(f"/me/records/share/{link_a.pk}/revoke/").status_code == 302
    now = timezone.now()
    ShareLink.objects.filter(label="B").update(
        created_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1)
    )
    opened_before = RecordAccess.objects.count()

    assert clinician.get(ended).status_code == 404
    assert clinician.get(ended + "print/").status_code == 404
    assert clinician.post(ended, {"passcode": "sakura-2026"}).status_code == 404
    assert clinician.get(expired).status_code == 404
    assert clinician.get("/share/not-a-token/").status_code == 404
    assert RecordAccess.objects.count() == opened_before


def test_nobody_else_makes_or_ends_a_persons_links(client: Client, alice: Person, bob: Person, carol: User) -> None:
    sign_in(client, alice.user.email)
    _make_link(client)
    link = ShareLink.objects.get(person=alice)
    grant_proxy_to(alice, carol)
    other = Client()
    sign_in(other, bob.user.email)

    assert other.post(f"/me/records/share/{link.pk}/revoke/").status_code == 404
    assert other.post("/me/records/share/not-a-uuid/revoke/").status_code == 404
    ShareLink.objects.get(pk=link.pk, revoked_at__isnull=True)
    proxy = Client()
    sign_in(proxy, carol.email)
    assert proxy.get("/me/records/share/").status_code == 404


def test_the_share_page_lists_categories_passcode_expiry_and_openings(signed_in: Client) -> None:
    path, _ = _make_link(signed_in, "港診療所", categories=["allergies", "lab_results"], passcode_choice="generate")
    clinician = Client()
    clinician.get(path)  # asks for the passcode: not an opening

    page = signed_in.get("/me/records/share/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = re.search(r"<th scope=\"row\">港診療所</th>(.*?)</tr>", page, re.S)

    assert row
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1)))
    assert "Allergies、Lab results" in cells and "Yes" in cells and "0 times" in cells and "Active" in cells


def test_the_share_link_use_appears_in_the_access_log(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    path, _ = _make_link(client)
    Client().get(path)

    page = client.get("/me/records/access-log/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "港診療所 田中先生" in page and "Through a share link" in page
    share_page = client.get("/me/records/share/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 time" in share_page


def test_the_printable_summary_through_a_link_is_logged_and_names_the_clinician(
    signed_in: Client, alice: Person
) -> None:
    path, _ = _make_link(signed_in)

    page = Client().get(path + "print/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Health summary of" in page and "港診療所 田中先生" in page and "Printed on" in page
    assert RecordAccess.objects.get(person=alice).page == "records.shared_print"


def test_the_share_page_reads_as_many_queries_for_many_links(client: Client, alice: Person) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(client, alice.user.email)
    sharing.create_share_link(person=alice, actor=owner(alice), label="A", days=1, categories=DEFAULT)
    with CaptureQueriesContext(connection) as one:
        client.get("/me/records/share/")
    for n in range(6):
        _link, token = sharing.create_share_link(
            person=alice, actor=owner(alice), label=f"L{n}", days=7, categories=DEFAULT, passcode="sakura-2026"
        )
        Client().get(f"/share/{token}/")

    with CaptureQueriesContext(connection) as seven:
        page = client.get("/me/records/share/").content.decode()

    assert page.count("table__actions") == 7
    assert len(seven) <= len(one)
