"""Contract of GET /api/v1/consent-changes: linked persons' changes, oldest first, gapless cursors."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from consent.models import Basis, PurposeClass, Regime
from tests.conftest import make_citizen, requires_postgres
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    OTHER_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    decline,
    hospital,
    link,
    other_hospital,
    patients,
)

__all__ = ["auth", "hospital", "other_hospital", "patients"]

URL = "/api/v1/consent-changes"

# Each write commits on its own, as in production: on PostgreSQL the feed holds back rows of transactions
# still running, which inside a test-wide transaction would be every row.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def page(client, headers, after=None, limit=None):
    params = {k: v for k, v in {"after": after, "limit": limit}.items() if v is not None}
    response = client.get(URL, params, headers=headers)
    assert response.status_code == 200, response.content
    return response.json()


def drain(client, headers, after=None, limit=2):
    seen = []
    while True:
        body = page(client, headers, after, limit)
        seen.extend(body["changes"])
        after = body["next"]
        if not body["has_more"]:
            return seen, after


def values(changes):
    """(patient number, kind) of each person's change; regime changes (re-seeded regimes) left out."""
    return [(c["identifier"]["value"], c["kind"]) for c in changes if c["identifier"]]


def test_it_lists_linked_persons_changes_oldest_first(client, auth, patients, study):
    accept(patients["alice"], study)
    decline(patients["bob"], study)
    changes, _ = drain(client, auth)
    assert values(changes) == [
        ("P-0001", "link"),
        ("P-0002", "link"),
        ("P-0001", "link"),  # alice's linkage id
        ("P-0001", "consent"),
        ("P-0002", "consent"),
    ]
    assert all(c["identifier"]["system"] == HOSPITAL_SYSTEM for c in changes if c["identifier"])


def test_it_leaves_out_persons_not_linked_to_the_caller(client, auth, patients, study, other_hospital):
    stranger = make_citizen("s@example.test", "山田", "太郎")
    link(stranger, OTHER_SYSTEM, "X-1")
    accept(stranger, study)
    changes, _ = drain(client, auth)
    assert {value for value, _ in values(changes)} == {"P-0001", "P-0002"}


def test_a_cursor_resumes_without_gap_or_repeat(client, auth, patients, study):
    first, cursor = drain(client, auth, limit=1)
    accept(patients["alice"], study)
    more = page(client, auth, after=cursor)
    assert values(more["changes"]) == [("P-0001", "consent")]
    assert page(client, auth, after=more["next"])["changes"] == []
    assert len(values(first)) == 3


def test_a_regime_change_concerns_everyone(client, auth, patients, db):
    _, cursor = drain(client, auth)
    Regime.objects.create(
        purpose_class=PurposeClass.ACADEMIC_RESEARCH,
        tier=3,
        version=999,
        basis=Basis.OPT_IN,
        effective_from=timezone.now() + timedelta(days=365),
    )
    changes = page(client, auth, after=cursor)["changes"]
    assert [(c["identifier"], c["kind"]) for c in changes] == [(None, "regime")]


def test_another_organisations_cursor_is_404(client, auth, other_hospital, patients):
    cursor = page(client, auth)["next"]
    assert_problem(client.get(URL, {"after": cursor}, headers=bearer(other_hospital)), 404)


def test_a_forged_cursor_is_400(client, auth):
    assert_problem(client.get(URL, {"after": "1.2.3"}, headers=auth), 400)


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_a_bad_limit_is_400(client, auth, limit):
    assert_problem(client.get(URL, {"limit": limit}, headers=auth), 400)


def test_it_needs_the_changes_scope(client, hospital):
    assert_problem(client.get(URL, headers=bearer(hospital, "consent.check")), 403)


@requires_postgres()
def test_a_writer_committing_late_is_not_skipped(client, study, alice, bob):
    """A change written before an earlier-read page but committed after it still reaches the reader."""
    from tests.consent.api.hospital import make_hospital

    hospital = make_hospital("東京総合病院", HOSPITAL_SYSTEM)
    headers = bearer(hospital)
    link(alice, HOSPITAL_SYSTEM, "P-0001")
    link(bob, HOSPITAL_SYSTEM, "P-0002")
    started, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                accept(alice, study)
                started.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(10)
    decline(bob, study)  # commits after alice's change was written, before it commits
    before = drain(client, headers)
    release.set()
    thread.join()
    after, _ = drain(client, headers, after=before[1])
    everything = values(before[0]) + values(after)
    assert sorted(everything) == sorted(
        [("P-0001", "link"), ("P-0002", "link"), ("P-0001", "consent"), ("P-0002", "consent")]
    )
    assert connection.vendor == "postgresql"
