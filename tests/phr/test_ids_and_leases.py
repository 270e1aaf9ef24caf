"""Ids read from the outside, and job leases: shared by every fetch-and-authorise lookup and background job."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from phr.ids import parse_uuid, uuid_or_404
from phr.leases import take_lease
from phr.models import ExportJob, Person
from phr.models.exports import ExportStatus
from phr.records import export_jobs

LEASE = timedelta(minutes=5)


@pytest.mark.parametrize("value", ["", "not-a-uuid", "1234", None, 42, "../etc/passwd"])
def test_a_malformed_id_is_nothing_and_a_404(value: object) -> None:
    assert parse_uuid(value) is None
    with pytest.raises(Http404):
        uuid_or_404(value)


def test_a_uuid_reads_in_any_of_its_forms() -> None:
    key = uuid.uuid4()
    assert parse_uuid(key) == parse_uuid(str(key)) == parse_uuid(key.hex) == uuid_or_404(str(key).upper()) == key


def test_one_worker_holds_the_lease_until_it_lapses(alice: Person) -> None:
    assert alice.user is not None
    job = export_jobs.request_export(person=alice, actor=alice.user, fmt="bundle")

    def take() -> bool:
        return take_lease(ExportJob, job.pk, queued=ExportStatus.QUEUED, running=ExportStatus.RUNNING, lease=LEASE)

    assert take() is True
    assert take() is False  # held by the first worker

    ExportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # it died
    assert take() is True
    assert ExportJob.objects.get(pk=job.pk).attempts == 2

    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.READY, finished_at=timezone.now())
    assert take() is False  # an ended job is never taken again
