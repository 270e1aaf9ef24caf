"""The notice a person reads when their record was opened in an emergency: its words reach the page escaped
once, so an apostrophe reads as an apostrophe, on the page and in the mail."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.test import Client

from phr import break_glass, services
from phr.models import Organisation, Person, PersonNotice
from phr.models.parties import Role
from phr.notices.mail import mail_notice
from tests.conftest import make_user, sign_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def opened(alice: Person, operator: Organisation, hospital: Organisation) -> PersonNotice:
    """Alice's record opened under emergency access, for a reason whose label holds an apostrophe."""
    staff = make_user("frank@example.test")
    services.add_membership(user=staff, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    found = break_glass.Found(person=alice, system=hospital.patient_number_system or "", masked="••••5678")
    break_glass.open_grant(staff=staff, found=found, reason_category="safeguarding", reason="意識不明で搬送。" * 3)
    return PersonNotice.objects.get(person=alice)


def test_the_notice_on_the_persons_page_shows_each_apostrophe_once(
    client: Client, alice: Person, opened: PersonNotice
) -> None:
    sign_in(client, alice.user.email)

    page = client.get("/me/", headers=EN).content.decode()

    assert "&amp;#" not in page and "&amp;amp;" not in page
    shown = html.unescape(page)
    assert "a member of Mamori's operator staff opened your health record" in shown
    assert "for this reason: Risk to the person's life or safety." in shown


def test_the_mailed_notice_is_plain_text_with_its_apostrophe(alice: Person, opened: PersonNotice) -> None:
    alice.preferred_language = "en"
    alice.save(update_fields=["preferred_language"])

    assert mail_notice(str(opened.pk))

    [message] = mail.outbox
    assert "a member of Mamori's operator staff opened your health record" in message.body
    assert "&#" not in message.body and "&amp;" not in message.body
