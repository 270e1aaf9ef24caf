"""Loading the engine's inputs: batch decisions in a fixed number of queries, equal to single ones."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from consent import selectors, services
from consent.engine import Verdict
from consent.models import Notice, NoticeChannel, NoticeStatus, Regime
from tests.conftest import make_citizen
from tests.consent.conftest import long_ago, notify


def test_a_notified_person_without_objection_is_permitted_after_the_window(alice, study) -> None:
    notify(alice, study, at=long_ago())
    decision = selectors.decide_for_person(alice, selectors.project_request(study))
    assert decision.verdict is Verdict.PERMIT
    assert decision.consent_version == 0


def test_a_person_not_yet_notified_is_denied(alice, study) -> None:
    decision = selectors.decide_for_person(alice, selectors.project_request(study))
    assert [r.code for r in decision.reasons] == ["not-notified"]


def test_a_public_notice_counts_where_the_person_has_no_channel(alice, study) -> None:
    Notice.objects.create(
        person=alice,
        project=study,
        channel=NoticeChannel.PUBLIC,
        status=NoticeStatus.DELIVERED,
        delivered_at=long_ago(),
    )
    assert selectors.decide_for_person(alice, selectors.project_request(study)).permitted


def test_a_failed_notice_does_not_count(alice, study) -> None:
    Notice.objects.create(person=alice, project=study, channel=NoticeChannel.EMAIL, status=NoticeStatus.FAILED)
    assert not selectors.decide_for_person(alice, selectors.project_request(study)).permitted


def test_an_ad_hoc_request_reads_the_regime_notice(alice, university) -> None:
    regime = Regime.objects.get(purpose_class="academic_research", tier=1, version=1)
    request = selectors.adhoc_request(
        purpose_class="academic_research", categories=["diagnoses"], organisation=university
    )
    assert not selectors.decide_for_person(alice, request).permitted
    Notice.objects.create(
        person=alice,
        regime=regime,
        channel=NoticeChannel.POSTAL,
        status=NoticeStatus.DELIVERED,
        delivered_at=long_ago(),
    )
    assert selectors.decide_for_person(alice, request).permitted


def test_the_commercial_notice_must_state_the_commercial_use(alice, trial) -> None:
    notify(alice, trial, at=long_ago(), commercial=False)
    assert not selectors.decide_for_person(alice, selectors.project_request(trial)).permitted
    notify(alice, trial, at=long_ago(), commercial=True)
    assert selectors.decide_for_person(alice, selectors.project_request(trial)).permitted


def test_a_regime_version_decides_from_its_start(alice, study, erin) -> None:
    notify(alice, study, at=long_ago())
    start = timezone.now() + timedelta(days=10)
    services.create_regime_version(
        actor=erin, purpose_class="academic_research", tier=1, basis="prohibited", effective_from=start
    )
    request = selectors.project_request(study, ["diagnoses"])
    assert selectors.decide_for_person(alice, request).permitted
    later = selectors.decide_for_person(alice, request, start + timedelta(minutes=1))
    assert [r.code for r in later.reasons] == ["prohibited"]


def test_batch_decisions_take_a_fixed_number_of_queries_and_equal_single_ones(
    alice, bob, study, django_assert_num_queries
) -> None:
    people = [alice, bob] + [make_citizen(f"p{i}@example.test", "山田", f"{i}") for i in range(20)]
    for index, person in enumerate(people):
        if index % 3 == 0:
            notify(person, study, at=long_ago())
        if index % 4 == 0:
            services.decide_project(person=person, actor=person.user, project=study, accept=index % 8 == 0)
        if index % 5 == 0:
            services.set_global_opt_out(person=person, actor=person.user, opted_out=True)
    request = selectors.project_request(study)
    ids = [p.pk for p in people] + [uuid.uuid4(), "not-a-uuid"]
    at = timezone.now()
    with django_assert_num_queries(2):
        batch = selectors.decide_for_persons(ids, request, at)
    assert batch[-2].person_id is None and batch[-1].person_id is None
    assert [r.code for r in batch[-1].reasons] == ["unknown-person"]
    assert batch[:-2] == [selectors.decide_for_person(p, request, at) for p in people]
    assert {d.verdict for d in batch[:-2]} == {Verdict.PERMIT, Verdict.DENY}


def test_a_project_that_is_not_approved_is_denied(alice, study) -> None:
    study.status = "submitted"
    study.save(update_fields=["status"])
    notify(alice, study, at=long_ago())
    decision = selectors.decide_for_person(alice, selectors.project_request(study))
    assert [r.code for r in decision.reasons] == ["project-not-approved"]


def test_a_proxy_decision_counts_like_the_persons(alice, parent, study) -> None:
    services.decide_project(person=alice, actor=parent, project=study, accept=False)
    notify(alice, study, at=long_ago())
    decision = selectors.decide_for_person(alice, selectors.project_request(study))
    assert [r.code for r in decision.reasons] == ["project-declined"]
    assert decision.consent_version == 1
