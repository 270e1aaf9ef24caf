"""FHIR Consent: the export validates with fhir.resources R4B and round-trips through import; import refuses
clearly what directives cannot represent, and then imports nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B.consent import Consent

from consent import selectors, services
from consent.errors import ConsentNotAllowed, FhirConsentUnsupported
from consent.fhir import export_consents, import_fhir_consent
from consent.models import ConsentEvent, ConsentState, PurposeClass
from phr.categories import DataCategory

TERMS = {
    "permission": "DS",
    "diseases": ["C00-C97"],
    "modifiers": ["NCU", "MOR"],
    "parameters": {"MOR": "2027-04-01"},
    "consented_at": "2026-01-15",
}


@pytest.fixture
def chosen(alice, study, hospital, university):
    """Alice with one directive of every kind that FHIR Consent carries."""
    user = alice.user
    services.set_global_opt_out(person=alice, actor=user, opted_out=True)
    services.set_category_choice(person=alice, actor=user, category="genomics", purpose_class="", value="deny")
    services.set_category_choice(
        person=alice, actor=user, category="lab_results", purpose_class="academic_research", value="permit"
    )
    services.set_category_choice(person=alice, actor=user, category="", purpose_class="commercial_rnd", value="deny")
    services.set_organisation_block(
        person=alice, actor=user, organisation=hospital, blocked=True, purpose_class="primary_care"
    )
    services.set_organisation_block(person=alice, actor=user, organisation=university, blocked=True)
    services.decide_project(person=alice, actor=user, project=study, accept=True, categories=["diagnoses"])
    services.set_duo_terms(person=alice, actor=user, terms=TERMS)
    return alice


def comparable(person) -> list[dict[str, Any]]:
    """The state without directive ids and times, which an import renews."""
    entries = ConsentState.objects.get(person=person).directives
    return sorted(
        ({k: v for k, v in e.items() if k not in ("id", "at")} for e in entries), key=lambda e: repr(sorted(e.items()))
    )


def test_the_export_is_one_valid_r4_consent_per_purpose_class(chosen) -> None:
    resources = export_consents(chosen)
    assert [r["category"][1]["coding"][0]["code"] for r in resources] == [
        "primary_care",
        "academic_research",
        "commercial_rnd",
        "public_health",
    ]
    for resource in resources:
        Consent.model_validate(resource)
        assert resource["policy"][0]["uri"].startswith("urn:mamori:regime:")
    research = resources[1]
    assert research["scope"]["coding"][0]["code"] == "research"
    assert research["provision"]["type"] == "deny"
    assert "type" not in resources[0]["provision"]  # the opt-out does not touch primary care
    kinds = {tuple(sorted(p)) for p in research["provision"]["provision"]}
    assert any("actor" in k for k in kinds) and any("extension" in k for k in kinds)


def test_a_person_without_choices_exports_four_consents_with_no_exceptions(alice) -> None:
    resources = export_consents(alice)
    assert len(resources) == 4
    for resource in resources:
        Consent.model_validate(resource)
        assert "provision" not in resource["provision"]


def test_the_export_round_trips_through_import(chosen) -> None:
    before = comparable(chosen)
    event = import_fhir_consent(person=chosen, actor=chosen.user, resources=export_consents(chosen))
    assert event.channel == "fhir_import"
    assert event.action == "fhir.imported"
    assert comparable(chosen) == before
    assert event.receipt.signature


def test_the_round_trip_keeps_every_decision_and_when_each_choice_was_made(chosen, study, trial) -> None:
    def answers():
        at = timezone.now()
        requests = [selectors.project_request(study), selectors.project_request(trial)] + [
            selectors.adhoc_request(purpose_class=p, categories=list(DataCategory.values)) for p in PurposeClass.values
        ]
        return [
            selectors.decide_for_person(chosen, r, at).to_wire("en") | {"evaluated_at": None, "consent_version": None}
            for r in requests
        ]

    before = answers()
    times = sorted(e["at"] for e in ConsentState.objects.get(person=chosen).directives if e["kind"] != "contact")
    import_fhir_consent(person=chosen, actor=chosen.user, resources=export_consents(chosen))
    assert answers() == before
    assert sorted(e["at"] for e in ConsentState.objects.get(person=chosen).directives) == times
    assert any(d["decision"] == "permit" for d in before)


def test_the_export_imports_into_another_person_once_the_patient_is_dropped(chosen, bob) -> None:
    resources = export_consents(chosen)
    for resource in resources:
        del resource["patient"]
    import_fhir_consent(person=bob, actor=bob.user, resources=resources)
    assert comparable(bob) == comparable(chosen)


def _one(alice, **provision: Any) -> dict[str, Any]:
    resource = export_consents(alice)[1]
    resource["provision"] = {"purpose": resource["provision"]["purpose"], **provision}
    return resource


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"status": "draft"}, "status"),
        ({"patient": {"identifier": {"system": "urn:mamori:person", "value": "someone-else"}}}, "patient"),
    ],
)
def test_import_refuses_another_status_or_patient(alice, change, element) -> None:
    resource = {**export_consents(alice)[1], **change}
    with pytest.raises(FhirConsentUnsupported) as raised:
        import_fhir_consent(person=alice, actor=alice.user, resources=[resource])
    assert any(element in problem for problem in raised.value.problems)


@pytest.mark.parametrize(
    ("provision", "element"),
    [
        ({"type": "permit"}, "blanket permit"),
        ({"type": "deny", "dataPeriod": {"start": "2020-01-01"}}, "dataPeriod"),
        ({"provision": [{"type": "deny", "securityLabel": [{"code": "R"}]}]}, "securityLabel"),
        ({"provision": [{"type": "deny", "action": [{"text": "use"}]}]}, "action"),
        (
            {
                "provision": [
                    {"type": "deny", "data": [{"meaning": "instance", "reference": {"reference": "Condition/1"}}]}
                ]
            },
            "data",
        ),
        ({"provision": [{"type": "deny", "provision": [{"type": "permit"}]}]}, "provision[0].provision"),
        (
            {
                "provision": [
                    {"type": "deny", "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Condition"}]}
                ]
            },
            "class",
        ),
        (
            {
                "provision": [
                    {"type": "deny", "code": [{"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}]}
                ]
            },
            "code",
        ),
        (
            {
                "provision": [
                    {
                        "type": "deny",
                        "period": {"start": "2026-01-01", "end": "2026-12-31"},
                        "code": [{"coding": [{"system": "urn:mamori:data-category", "code": "genomics"}]}],
                    }
                ]
            },
            "period.end",
        ),
        ({"provision": [{"type": "deny"}]}, "neither"),
        ({"provision": [{"code": [{"coding": [{"system": "urn:mamori:data-category", "code": "genomics"}]}]}]}, "type"),
    ],
)
def test_import_refuses_clearly_what_cannot_be_represented(alice, provision, element) -> None:
    with pytest.raises(FhirConsentUnsupported) as raised:
        import_fhir_consent(person=alice, actor=alice.user, resources=[_one(alice, **provision)])
    assert any(element in problem for problem in raised.value.problems), raised.value.problems
    assert not ConsentEvent.objects.filter(person=alice).exists()


def test_import_refuses_an_opt_out_of_primary_care(alice) -> None:
    resource = export_consents(alice)[0]
    resource["provision"]["type"] = "deny"
    with pytest.raises(FhirConsentUnsupported, match="primary care"):
        import_fhir_consent(person=alice, actor=alice.user, resources=[resource])


def test_import_refuses_contradictory_provisions(alice) -> None:
    genomics = {"code": [{"coding": [{"system": "urn:mamori:data-category", "code": "genomics"}]}]}
    resource = _one(alice, provision=[{"type": "deny", **genomics}, {"type": "permit", **copy.deepcopy(genomics)}])
    with pytest.raises(FhirConsentUnsupported, match="contradicts"):
        import_fhir_consent(person=alice, actor=alice.user, resources=[resource])


def test_import_refuses_something_that_is_not_a_consent(alice) -> None:
    with pytest.raises(FhirConsentUnsupported):
        import_fhir_consent(person=alice, actor=alice.user, resources=[{"resourceType": "Patient"}])
    with pytest.raises(FhirConsentUnsupported, match="valid FHIR"):
        import_fhir_consent(person=alice, actor=alice.user, resources=[{"resourceType": "Consent", "status": 3}])


def test_importing_for_someone_else_is_not_allowed(alice, bob) -> None:
    with pytest.raises(ConsentNotAllowed):
        import_fhir_consent(person=alice, actor=bob.user, resources=export_consents(alice))


def test_a_category_refusal_from_elsewhere_is_imported(alice) -> None:
    genomics = {"code": [{"coding": [{"system": "urn:mamori:data-category", "code": "genomics"}]}]}
    purpose = {"purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH"}]}
    import_fhir_consent(
        person=alice, actor=alice.user, resources=[_one(alice, provision=[{"type": "deny", **genomics, **purpose}])]
    )
    assert comparable(alice) == [
        {"kind": "category", "value": "deny", "category": "genomics", "purpose_class": "academic_research"}
    ]
