"""Sharing with a clinician: a time-limited link with a QR code opens a read-only summary; each use is logged."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from phr.models import Person, RecordAccess, ShareLink, User
from tests.conftest import grant_proxy_to, sign_in
from tests.portal.test_records_fixtures import seed_record


def _make_link(client: Client, label: str = "港診療所 田中先生") -> str:
    response = client.post("/me/records/share/", {"label": label, "days": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="qr__image"' in page and "<svg" in page
    match = re.search(r'value="https?://[^"/]+(/share/[^"]+/)"', page)
    assert match, "no link shown"
    return match.group(1)


def test_a_person_makes_a_link_and_a_clinician_opens_the_summary_without_signing_in(
    client: Client, alice: Person
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    path = _make_link(client)
    clinician = Client()

    response = clinician.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "ペニシリン" in page and "本態性高血圧症" in page and "血糖" in page
    assert response["Referrer-Policy"] == "no-referrer"
    access = RecordAccess.objects.get(person=alice)
    assert access.route == "share_link" and access.actor is None
    assert access.actor_label == "港診療所 田中先生"


def test_only_a_digest_of_the_token_is_stored(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    path = _make_link(client)
    token = path.split("/")[2]

    link = ShareLink.objects.get(person=alice)

    assert token not in link.token_digest and len(link.token_digest) == 64


def test_an_ended_expired_or_unknown_link_opens_nothing(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    ended, expired = _make_link(client, "A"), _make_link(client, "B")
    link_a = ShareLink.objects.get(label="A")
    assert client.post(f"/me/records/share/{link_a.pk}/revoke/").status_code == 302
    now = timezone.now()
    ShareLink.objects.filter(label="B").update(
        created_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1)
    )
    clinician = Client()

    assert clinician.get(ended).status_code == 404
    assert clinician.get(expired).status_code == 404
    assert clinician.get("/share/not-a-token/").status_code == 404
    assert not RecordAccess.objects.exists()


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


def test_the_share_link_use_appears_in_the_access_log(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    Client().get(_make_link(client))

    page = client.get("/me/records/access-log/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "港診療所 田中先生" in page and "Through a share link" in page
