"""An upload's Patient is matched against the person's identifiers; someone else's file is refused whole."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from phr import services as party_services
from phr.models import FhirResource, Person, SyncRun
from phr.models.records import SyncRunStatus
from phr.records import uploads
from tests.conftest import sign_in
from tests.phr.records.conftest import PATIENT, bundle, observation, raw_of, to_json

INSURANCE = "urn:oid:1.2.392.100495.20.3.51.11312345678"
HOSPITAL = "urn:oid:1.2.392.100495.20.3.21.1312345678"


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture(autouse=True)
def _reports_in_english(alice) -> None:
    """Reports are written in the person's language; these tests read them in English (one reads Japanese)."""
    Person.objects.filter(pk=alice.pk).update(preferred_language="en")


@pytest.fixture
def alice_numbered(alice):
    party_services.link_identifier(person=alice, system=INSURANCE, value="00012345", actor=None)
    return alice


def patient(*identifiers: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {
        **PATIENT,
        "identifier": [{"system": system, "value": value} for system, value in identifiers],
        "birthDate": "1980-04-01",
        **extra,
    }


def upload(client, person, data: bytes) -> SyncRun:
    sign_in(client, person.user.email)
    response = client.post("/me/records/upload/", {"file": SimpleUploadedFile("r.json", data)}, HTTP_ACCEPT="text/html")
    assert response.status_code in (202, 302), response.content[:300]
    run = SyncRun.objects.filter(person=person).order_by("-created_at").first()
    assert run is not None
    uploads.process_upload(run_id=run.id)
    run.refresh_from_db()
    return run


def test_a_patient_with_the_persons_own_identifier_is_imported_without_warnings(client, alice_numbered) -> None:
    # Full-width digits are the same number (the blind index folds them).
    run = upload(client, alice_numbered, bundle(patient((INSURANCE, "０００１２３４５")), observation("o1")))

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert run.created_count == 2
    assert run.warnings == []


def test_another_value_in_a_system_the_person_has_refuses_the_upload_and_stores_nothing(client, alice_numbered) -> None:
    kept = upload(client, alice_numbered, bundle(PATIENT, observation("kept", value="7.20")))
    assert kept.status == SyncRunStatus.SUCCEEDED

    run = upload(client, alice_numbered, bundle(patient((INSURANCE, "99999999")), observation("o2")))

    assert run.status == SyncRunStatus.FAILED
    assert "someone else" in run.error and INSURANCE in run.error
    assert (run.created_count, run.updated_count) == (0, 0)
    assert set(FhirResource.objects.filter(person=alice_numbered).values_list("resource_id", flat=True)) == {
        "p1",
        "kept",
    }
    assert b"7.20" in raw_of(FhirResource.objects.get(person=alice_numbered, resource_id="kept"))
    assert not uploads.upload_path(run).exists()
    page = client.get(f"/me/records/uploads/{run.id}/")
    assert "someone else" in page.content.decode()


def test_an_identifier_that_belongs_to_another_person_refuses_the_upload(client, alice, bob) -> None:
    party_services.link_identifier(person=bob, system=HOSPITAL, value="A-778", actor=None)

    run = upload(client, alice, bundle(patient((HOSPITAL, "A-778")), observation("o1")))

    assert run.status == SyncRunStatus.FAILED
    assert "another person" in run.error
    assert not FhirResource.objects.filter(person=alice).exists()


def test_a_patient_without_identifiers_is_accepted_with_a_warning_in_the_report(client, alice) -> None:
    run = upload(client, alice, bundle(PATIENT, observation("o1")))

    assert run.status == SyncRunStatus.SUCCEEDED
    assert run.created_count == 2
    assert run.warnings == [
        "The file's patient has no identifier, so it could not be checked that the records are yours."
    ]
    page = client.get(f"/me/records/uploads/{run.id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "could not be checked" in page.content.decode()


def test_a_file_without_a_patient_is_accepted_with_a_warning(client, alice) -> None:
    lines = b"\n".join(to_json(observation(f"o{n}")) for n in range(3)) + b"\n"

    run = upload(client, alice, lines)

    assert run.status == SyncRunStatus.SUCCEEDED
    assert run.created_count == 3
    assert run.warnings == ["The file has no Patient, so it could not be checked that the records are yours."]


def test_an_unknown_identifier_with_another_name_and_birth_date_is_a_soft_warning(client, alice) -> None:
    stranger = patient(("urn:oid:1.2.392.999", "1"), name=[{"family": "鈴木"}], birthDate="1955-01-02")

    run = upload(client, alice, bundle(stranger, observation("o1")))

    assert run.status == SyncRunStatus.SUCCEEDED, "name and birth date only warn"
    assert run.warnings == [
        "The birth date in the file differs from yours. Check that the records are yours.",
        "The family name in the file differs from yours. Check that the records are yours.",
    ]


def test_a_birth_year_alone_that_matches_is_no_warning(client, alice_numbered) -> None:
    run = upload(client, alice_numbered, bundle(patient((INSURANCE, "00012345"), birthDate="1980")))

    assert run.warnings == []


def test_the_warning_is_written_in_the_persons_language(client, alice) -> None:
    Person.objects.filter(pk=alice.pk).update(preferred_language="ja")

    run = upload(client, alice, bundle(PATIENT, observation("o1")))

    assert run.warnings == ["ファイルの患者情報に識別子がないため、あなたの記録であることを確認できませんでした。"]
