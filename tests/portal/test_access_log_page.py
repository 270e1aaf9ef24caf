"""“Who looked at my record”: every route by which someone else read the record shows there (who, when, what,
why), paged; operator staff reading a person's record data on a staff page leave a row too."""

from __future__ import annotations

import re

from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from phr import break_glass, services
from phr.models import Organisation, Person, RecordAccess, User
from phr.models.access_log import AccessRoute
from phr.models.parties import ProxyScope, Role
from phr.records.access_log import ACCESSES_PER_PAGE, record_access
from tests.conftest import TOTP_SECRET, grant_proxy_to, make_user, sign_in, sign_in_with_totp
from tests.portal.test_records_fixtures import seed_record

REASON = "救急搬送。意識がなく、服薬歴とアレルギーの確認が必要。"


def _share_link_path(client: Client) -> str:
    response = client.post(
        "/me/records/share/",
        {"label": "港診療所 田中先生", "days": "1", "categories": ["lab_results"], "passcode_choice": "none"},
    )
    match = re.search(r'value="https?://[^"/]+(/share/[^"]+/)"', response.content.decode())
    assert match, "no link shown"
    return match.group(1)


def test_proxy_share_link_staff_and_break_glass_reads_are_all_listed_with_who_what_and_why(
    client: Client, alice: Person, carol: User, erin: User, operator: Organisation, hospital: Organisation
) -> None:
    seed_record(alice)
    services.link_identifier(person=alice, system=hospital.patient_number_system or "", value="55501234", actor=None)
    sign_in(client, alice.user.email)
    # A proxy reads the timeline.
    grant_proxy_to(alice, carol)
    proxy = Client()
    sign_in(proxy, carol.email)
    assert proxy.get(f"/people/{alice.pk}/records/timeline/").status_code == 200
    # A clinician opens a share link.
    assert Client().get(_share_link_path(client)).status_code == 200
    # An operator administrator opens the person's uploads on the staff path.
    staff = Client()
    sign_in_with_totp(staff, erin.email)
    assert staff.get(f"/people/{alice.pk}/records/upload/").status_code == 200
    # A staff member opens the record in an emergency.
    frank = make_user("frank@example.test")
    services.add_membership(user=frank, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    TOTP.activate(frank, TOTP_SECRET)
    found = break_glass.find_person(staff=frank, system=hospital.patient_number_system or "", value="55501234")
    assert found is not None
    break_glass.open_grant(staff=frank, found=found, reason_category="patient_unconscious", reason=REASON)
    emergency = Client()
    sign_in_with_totp(emergency, frank.email)
    assert emergency.get(f"/people/{alice.pk}/records/labs/").status_code == 200

    routes = set(RecordAccess.objects.filter(person=alice).values_list("route", flat=True))
    assert routes == {AccessRoute.PROXY, AccessRoute.SHARE_LINK, AccessRoute.STAFF, AccessRoute.BREAK_GLASS}
    page = client.get("/me/records/access-log/").content.decode()
    for who in (carol.email, "港診療所 田中先生", erin.email, frank.email):
        assert who in page, who
    assert "代理人として" in page and "共有リンクから" in page and "運営スタッフとして" in page
    assert "緊急時" in page and REASON in page
    assert "タイムライン" in page and "検査結果" in page


def test_the_persons_own_upload_page_is_not_logged_as_a_staff_read(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    assert client.get("/me/records/upload/").status_code == 200
    assert not RecordAccess.objects.exists()


def test_a_proxy_opening_the_dependents_upload_page_is_logged_as_a_proxy_read(
    client: Client, alice: Person, carol: User
) -> None:
    proxy = grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)  # a view-only proxy may not upload
    sign_in(client, carol.email)
    assert client.get(f"/people/{alice.pk}/records/upload/").status_code == 200
    [row] = RecordAccess.objects.filter(person=alice)
    assert (row.route, row.proxy_id, row.actor_id, row.page) == (
        AccessRoute.PROXY,
        proxy.pk,
        carol.pk,
        "records.uploads",
    )


def test_the_log_is_paged_newest_first(client: Client, alice: Person, carol: User) -> None:
    for number in range(ACCESSES_PER_PAGE + 5):
        record_access(person=alice, actor=carol, route=AccessRoute.STAFF, page="records.timeline", subject=f"s{number}")
    sign_in(client, alice.user.email)

    first = client.get("/me/records/access-log/").content.decode()
    second = client.get("/me/records/access-log/?page=2").content.decode()

    assert first.count(carol.email) == ACCESSES_PER_PAGE and second.count(carol.email) == 5
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert client.get("/me/records/access-log/?page=abc").status_code == 200


def test_the_log_page_loads_in_a_fixed_number_of_queries(
    client: Client, alice: Person, carol: User, django_assert_max_num_queries
) -> None:
    proxy = grant_proxy_to(alice, carol)
    for _ in range(30):
        record_access(person=alice, actor=carol, route=AccessRoute.PROXY, page="records.dashboard", proxy=proxy)
    sign_in(client, alice.user.email)

    with django_assert_max_num_queries(14):
        assert client.get("/me/records/access-log/").status_code == 200
