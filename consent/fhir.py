"""A person's consent state as FHIR R4 Consent resources, and FHIR Consent imported into directives.

Export gives one Consent per purpose class (all four, so the state is complete even with no choice):

- ``scope``: treatment (primary care), research (academic, commercial) or patient-privacy (public health);
- ``category``: LOINC 59284-0 "Patient Consent" and the Mamori purpose class;
- ``policy``: the regime versions in force for that purpose class (``urn:mamori:regime:…``), whose basis
  decides whatever the person did not;
- ``provision``: the base says ``deny`` when the person opted out of secondary use, and has no type
  otherwise (the regime decides); nested exceptions are the person's directives that bear on the purpose
  class: category allows/refusals (``code`` = Mamori data category, ``class`` = FHIR resource types),
  organisation blocks (``actor`` with role IRCP), project decisions (``purpose`` names the project,
  ``actor`` its organisation, ``period`` ends with the project) and DUO terms (``purpose`` = DUO codes,
  ``code`` = ICD-10 diseases, and the exact wire form in an extension). Each nested provision's ``id``
  is its directive's id, so a directive that applies to every purpose class appears in each resource and
  is imported once. Contact preferences are not consent and are not exported.

Import accepts what this export writes and the same shapes from elsewhere. It refuses, naming the
element, anything directives cannot represent: a status other than active, another patient, a blanket
base permit, an opt-out of primary care, exceptions nested deeper than one level, ``data``,
``dataPeriod``, ``securityLabel``, ``action``, an end date on a standing choice, resource classes without
a Mamori category, unknown code systems, unknown organisations or projects, and contradictory
provisions. Nothing is imported unless everything is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from fhir.resources.R4B.consent import Consent
from pydantic import ValidationError

from consent import selectors
from consent.duo.vocabulary import vocabulary
from consent.errors import FhirConsentUnsupported, InvalidDirective
from consent.models import Channel, ConsentEvent, Directive, DirectiveKind, DirectiveValue, Project, PurposeClass
from consent.models.choices import SECONDARY_PURPOSES
from consent.services import Change, authorise, record_change, validate_duo_terms
from phr.categories import DataCategory
from phr.models import Organisation, Person, User

PURPOSE_SYSTEM = "urn:mamori:purpose-class"
CATEGORY_SYSTEM = "urn:mamori:data-category"
PROJECT_SYSTEM = "urn:mamori:project"
PERSON_SYSTEM = "urn:mamori:person"
ORGANISATION_SYSTEM = "urn:mamori:organisation"
DUO_SYSTEM = "http://purl.obolibrary.org/obo/duo.owl"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
DUO_TERMS_EXTENSION = "urn:mamori:fhir:StructureDefinition:duo-terms"
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
PURPOSE_OF_USE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
RESOURCE_TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"

SCOPES = {
    "primary_care": "treatment",
    "academic_research": "research",
    "commercial_rnd": "research",
    "public_health": "patient-privacy",
}
PURPOSE_OF_USE = {"primary_care": "TREAT", "academic_research": "HRESCH", "public_health": "PUBHLTH"}
FROM_PURPOSE_OF_USE = {code: purpose_class for purpose_class, code in PURPOSE_OF_USE.items()}
RESOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "diagnoses": ("Condition",),
    "allergies": ("AllergyIntolerance",),
    "drug_contraindications": ("AllergyIntolerance",),
    "infections": ("Observation", "Condition"),
    "lab_results": ("Observation",),
    "prescriptions": ("MedicationRequest", "MedicationStatement", "MedicationDispense"),
    "documents": ("Composition", "DocumentReference"),
    "vital_signs": ("Observation",),
    "immunizations": ("Immunization",),
    "procedures": ("Procedure",),
    "encounters": ("Encounter",),
    "imaging": ("ImagingStudy", "DiagnosticReport"),
    "care_plans": ("CarePlan",),
    "lifelog": ("Observation",),
    "genomics": ("Observation", "MolecularSequence", "DiagnosticReport"),
    "sensitive_diagnoses": ("Condition",),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _purpose_coding(purpose_class: str) -> list[dict[str, str]]:
    codings = [{"system": PURPOSE_SYSTEM, "code": purpose_class, "display": str(PurposeClass(purpose_class).label)}]
    if purpose_class in PURPOSE_OF_USE:
        codings.append({"system": PURPOSE_OF_USE_SYSTEM, "code": PURPOSE_OF_USE[purpose_class]})
    return codings


def _categories(codes: Iterable[str]) -> dict[str, Any]:
    codes = list(codes)
    types = sorted({t for code in codes for t in RESOURCE_TYPES[code]})
    return {
        "code": [{"coding": [{"system": CATEGORY_SYSTEM, "code": code}]} for code in codes],
        "class": [{"system": RESOURCE_TYPES_SYSTEM, "code": t} for t in types],
    }


def _recipient(organisation: Organisation) -> list[dict[str, Any]]:
    return [
        {
            "role": {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "IRCP", "display": "information recipient"}]},
            "reference": {
                "identifier": {"system": ORGANISATION_SYSTEM, "value": str(organisation.pk)},
                "display": organisation.name,
            },
        }
    ]


def _exception(directive: Directive, purpose_class: str) -> dict[str, Any] | None:
    """The nested provision of one directive in the resource of ``purpose_class``, if it bears on it."""
    kind = directive.kind
    base: dict[str, Any] = {"id": f"d-{directive.pk}", "period": {"start": _iso(directive.made_at)}}
    if kind == DirectiveKind.CATEGORY and directive.purpose_class in ("", purpose_class):
        return {
            **base,
            "type": directive.value,
            **({"purpose": _purpose_coding(directive.purpose_class)} if directive.purpose_class else {}),
            **(_categories([directive.category]) if directive.category else {}),
        }
    if kind == DirectiveKind.ORGANISATION_BLOCK and directive.purpose_class in ("", purpose_class):
        assert directive.organisation is not None
        return {
            **base,
            "type": "deny",
            "actor": _recipient(directive.organisation),
            **({"purpose": _purpose_coding(directive.purpose_class)} if directive.purpose_class else {}),
        }
    if kind == DirectiveKind.PROJECT and directive.project is not None:
        project = directive.project
        if project.purpose_class != purpose_class:
            return None
        base["period"]["end"] = project.period_end.isoformat()
        return {
            **base,
            "type": directive.value,
            "purpose": [
                *_purpose_coding(purpose_class),
                {"system": PROJECT_SYSTEM, "code": str(project.pk), "display": project.title_ja},
            ],
            "actor": _recipient(project.organisation),
            **_categories(directive.categories),
        }
    if kind == DirectiveKind.DUO_TERMS and purpose_class in SECONDARY_PURPOSES:
        terms = directive.terms or {}
        codes = [terms.get("permission"), *terms.get("modifiers", [])]
        exception: dict[str, Any] = {
            **base,
            "type": "permit",
            "purpose": [
                {"system": DUO_SYSTEM, "code": vocabulary().lookup(str(code)).curie, "display": str(code)}
                for code in codes
                if code
            ],
            "extension": [
                {"url": DUO_TERMS_EXTENSION, "valueString": json.dumps(terms, sort_keys=True, ensure_ascii=False)}
            ],
        }
        if terms.get("diseases"):
            exception["code"] = [{"coding": [{"system": ICD10_SYSTEM, "code": d}]} for d in terms["diseases"]]
        return exception
    return None


def export_consents(person: Person, at: datetime | None = None) -> list[dict[str, Any]]:
    """The person's current state as four FHIR R4 Consent resources (JSON), one per purpose class."""
    at = at or timezone.now()
    choices = selectors.choices_of(person)
    directives = [*choices.categories, *choices.organisation_blocks, *choices.projects]
    if choices.duo_terms is not None:
        directives.append(choices.duo_terms)
    regimes = selectors.regimes_in_force(at)
    operator = Organisation.objects.filter(is_operator=True).first()
    opted_out = choices.global_opt_out
    resources = []
    for purpose_class in PurposeClass.values:
        provision: dict[str, Any] = {"purpose": _purpose_coding(purpose_class)}
        if opted_out is not None and purpose_class in SECONDARY_PURPOSES:
            provision.update(type="deny", period={"start": _iso(opted_out.made_at)})
        exceptions = [e for d in directives if (e := _exception(d, purpose_class)) is not None]
        if exceptions:
            provision["provision"] = exceptions
        resource: dict[str, Any] = {
            "resourceType": "Consent",
            "id": f"{person.pk}-{purpose_class.replace('_', '-')}",
            "status": "active",
            "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": SCOPES[purpose_class]}]},
            "category": [
                {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]},
                {"coding": [{"system": PURPOSE_SYSTEM, "code": purpose_class}]},
            ],
            "patient": {"identifier": {"system": PERSON_SYSTEM, "value": str(person.pk)}},
            "dateTime": _iso(at),
            "policy": [
                {"authority": settings.MAMORI_BASE_URL, "uri": r.policy_uri}
                for r in regimes
                if r.purpose_class == purpose_class
            ],
            "provision": provision,
        }
        if operator is not None:
            resource["organization"] = [
                {"identifier": {"system": ORGANISATION_SYSTEM, "value": str(operator.pk)}, "display": operator.name}
            ]
        if not resource["policy"]:
            resource["policyRule"] = {"text": "No regime is in force; every non-statutory use is denied."}
            del resource["policy"]
        resources.append(resource)
    return resources


# -- import ----------------------------------------------------------------------------------------------

_BASE_KEYS = frozenset({"id", "type", "purpose", "period", "provision", "extension"})
_EXCEPTION_KEYS = frozenset({"id", "type", "purpose", "code", "class", "actor", "period", "extension"})


class _Reader:
    """Turns Consent resources into directives, collecting every problem before refusing."""

    def __init__(self, person: Person, now: datetime) -> None:
        self.person = person
        self.now = now
        self.problems: list[str] = []
        self.directives: dict[tuple[Any, ...], Directive] = {}
        self.seen: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def add(
        self, where: str, key: tuple[Any, ...], directive: Directive, provision: Mapping[str, Any] | None = None
    ) -> None:
        start = self._start(where, provision) if provision is not None else None
        if start is not None:
            directive.made_at = start
        old = self.directives.get(key)
        if old is not None and (old.value, old.categories, old.terms) != (
            directive.value,
            directive.categories,
            directive.terms,
        ):
            self.problem(where, "contradicts another provision on the same scope")
        self.directives[key] = directive

    def read(self, index: int, resource: Mapping[str, Any]) -> None:
        where = f"Consent[{index}]"
        try:
            Consent.model_validate(dict(resource))
        except (ValidationError, ValueError, TypeError) as error:
            self.problem(where, f"not a valid FHIR R4 Consent ({str(error).splitlines()[0]})")
            return
        if resource.get("status") != "active":
            self.problem(f"{where}.status", f"only an active Consent can be imported, not {resource.get('status')!r}")
        patient = resource.get("patient")
        if patient is not None:
            identifier = patient.get("identifier") or {}
            if identifier.get("system") != PERSON_SYSTEM or identifier.get("value") != str(self.person.pk):
                self.problem(f"{where}.patient", "names someone other than this person, or cannot be matched")
        purpose_class = self._resource_purpose(where, resource)
        provision = resource.get("provision")
        if provision is None:
            self.problem(f"{where}.provision", "a Consent without a provision states no choice")
            return
        self._base(f"{where}.provision", provision, purpose_class)

    def _resource_purpose(self, where: str, resource: Mapping[str, Any]) -> str | None:
        for concept in resource.get("category", []):
            for coding in concept.get("coding", []):
                if coding.get("system") == PURPOSE_SYSTEM:
                    if coding.get("code") not in PurposeClass.values:
                        self.problem(f"{where}.category", f"unknown purpose class {coding.get('code')!r}")
                        return None
                    return str(coding["code"])
        return None

    def _start(self, where: str, provision: Mapping[str, Any]) -> datetime | None:
        """When the choice was made (``period.start``), never later than now; None when not given."""
        start = (provision.get("period") or {}).get("start")
        if not start:
            return None
        try:
            moment = datetime.fromisoformat(start)
        except (TypeError, ValueError):
            self.problem(f"{where}.period.start", "not a date and time")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return min(moment, self.now)

    def _unknown(self, where: str, provision: Mapping[str, Any], allowed: frozenset[str]) -> None:
        for key in sorted(set(provision) - allowed):
            self.problem(f"{where}.{key}", "cannot be represented as a Mamori choice")

    def _base(self, where: str, provision: Mapping[str, Any], purpose_class: str | None) -> None:
        self._unknown(where, provision, _BASE_KEYS)
        purposes = self._purposes(where, provision, allow_project=False)
        kind = provision.get("type")
        if kind == "permit":
            self.problem(f"{where}.type", "a blanket permit cannot be represented; permits are per project or category")
        elif kind == "deny":
            covered = set(purposes) or ({purpose_class} if purpose_class else set(SECONDARY_PURPOSES))
            if "primary_care" in covered:
                self.problem(f"{where}.type", "an opt-out of primary care is a block of each organisation instead")
            else:
                # Nested exceptions override their base (FHIR), so a base without a time is placed just
                # before them: permissions it carries are not withdrawn by the opt-out they sit under.
                made_at = self._start(where, provision) or self.now - timedelta(milliseconds=1)
                opt_out = Directive(kind=DirectiveKind.GLOBAL_OPT_OUT, value="deny", made_at=made_at)
                self.add(where, ("global_opt_out",), opt_out)
        for index, exception in enumerate(provision.get("provision", [])):
            self._exception(f"{where}.provision[{index}]", exception)

    def _purposes(self, where: str, provision: Mapping[str, Any], *, allow_project: bool) -> list[str]:
        found = []
        for coding in provision.get("purpose", []):
            system, code = coding.get("system"), coding.get("code")
            if system == PURPOSE_SYSTEM and code in PurposeClass.values:
                found.append(code)
            elif system == PURPOSE_OF_USE_SYSTEM and code in FROM_PURPOSE_OF_USE:
                found.append(FROM_PURPOSE_OF_USE[code])
            elif (system == PROJECT_SYSTEM and allow_project) or system == DUO_SYSTEM:
                continue
            else:
                self.problem(f"{where}.purpose", f"unknown purpose {system}|{code}")
        return sorted(set(found))

    def _codes(self, where: str, provision: Mapping[str, Any]) -> list[str]:
        categories = []
        for concept in provision.get("code", []):
            for coding in concept.get("coding", []):
                if coding.get("system") == CATEGORY_SYSTEM and coding.get("code") in DataCategory.values:
                    categories.append(coding["code"])
                else:
                    self.problem(
                        f"{where}.code", f"not a Mamori data category: {coding.get('system')}|{coding.get('code')}"
                    )
        if provision.get("class") and not provision.get("code"):
            self.problem(f"{where}.class", "resource classes alone do not name a Mamori data category")
        return sorted(set(categories))

    def _exception(self, where: str, provision: Mapping[str, Any]) -> None:
        if "id" in provision:
            if provision["id"] in self.seen:
                return
            self.seen.add(provision["id"])
        self._unknown(where, provision, _EXCEPTION_KEYS)
        if "provision" in provision:
            return  # reported by _unknown: nesting deeper than one level
        value = provision.get("type")
        if value not in DirectiveValue.values:
            self.problem(f"{where}.type", "each exception must permit or deny")
            return
        extension = [e for e in provision.get("extension", []) if e.get("url") == DUO_TERMS_EXTENSION]
        projects = [c.get("code") for c in provision.get("purpose", []) if c.get("system") == PROJECT_SYSTEM]
        if provision.get("period", {}).get("end") and not projects:
            self.problem(
                f"{where}.period.end", "a standing choice lasts until changed; an end date cannot be represented"
            )
        if extension:
            self._duo(where, provision, extension[0], value)
        elif projects:
            self._project(where, provision, projects, value)
        elif provision.get("actor"):
            self._block(where, provision, value)
        else:
            self._category(where, provision, value)

    def _duo(self, where: str, provision: Mapping[str, Any], extension: Mapping[str, Any], value: str) -> None:
        if value != "permit":
            self.problem(f"{where}.type", "data-use terms are a permit within the terms")
            return
        try:
            terms = validate_duo_terms(json.loads(extension.get("valueString", "")))
        except (InvalidDirective, json.JSONDecodeError) as error:
            self.problem(f"{where}.extension", f"invalid DUO terms ({error})")
            return
        self.add(where, ("duo_terms",), Directive(kind=DirectiveKind.DUO_TERMS, terms=terms), provision)

    def _project(self, where: str, provision: Mapping[str, Any], ids: list[str], value: str) -> None:
        self._purposes(where, provision, allow_project=True)
        project = Project.objects.filter(pk__in=[i for i in ids if _is_uuid(i)]).first() if len(ids) == 1 else None
        if project is None:
            self.problem(f"{where}.purpose", "names no known project (or more than one)")
            return
        categories = self._codes(where, provision) or sorted(project.data_categories)
        outside = sorted(set(categories) - set(project.data_categories))
        if outside:
            self.problem(f"{where}.code", f"the project does not ask for {', '.join(outside)}")
        shown = categories if value == "permit" else sorted(project.data_categories)
        directive = Directive(kind=DirectiveKind.PROJECT, value=value, project=project, categories=shown)
        self.add(where, ("project", project.pk), directive, provision)

    def _block(self, where: str, provision: Mapping[str, Any], value: str) -> None:
        if value != "deny" or provision.get("code"):
            self.problem(
                f"{where}.actor", "only a block of a whole organisation (deny, no category) can be represented"
            )
            return
        purposes = self._purposes(where, provision, allow_project=False) or [""]
        for actor in provision["actor"]:
            identifier = (actor.get("reference") or {}).get("identifier") or {}
            value_id = identifier.get("value", "")
            organisation = (
                Organisation.objects.filter(pk=value_id).first()
                if identifier.get("system") == ORGANISATION_SYSTEM and _is_uuid(value_id)
                else None
            )
            if organisation is None:
                self.problem(f"{where}.actor", "names no known organisation")
                continue
            for purpose_class in purposes:
                directive = Directive(
                    kind=DirectiveKind.ORGANISATION_BLOCK,
                    value="deny",
                    organisation=organisation,
                    purpose_class=purpose_class,
                )
                self.add(where, ("block", organisation.pk, purpose_class), directive, provision)

    def _category(self, where: str, provision: Mapping[str, Any], value: str) -> None:
        categories = self._codes(where, provision) or [""]
        purposes = self._purposes(where, provision, allow_project=False) or [""]
        if categories == [""] and purposes == [""]:
            self.problem(where, "names neither a data category nor a purpose")
            return
        for category in categories:
            for purpose_class in purposes:
                directive = Directive(
                    kind=DirectiveKind.CATEGORY, value=value, category=category, purpose_class=purpose_class
                )
                self.add(where, ("category", category, purpose_class), directive, provision)


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _scope(directive: Directive) -> Q:
    kind = directive.kind
    if kind == DirectiveKind.CATEGORY:
        return Q(kind=kind, category=directive.category, purpose_class=directive.purpose_class)
    if kind == DirectiveKind.ORGANISATION_BLOCK:
        return Q(kind=kind, organisation=directive.organisation, purpose_class=directive.purpose_class)
    if kind == DirectiveKind.PROJECT:
        return Q(kind=kind, project=directive.project)
    return Q(kind=kind)


def import_fhir_consent(
    *,
    person: Person,
    actor: User,
    resources: Sequence[Mapping[str, Any]],
    evidence: str = "",
    expected_version: int | None = None,
) -> ConsentEvent:
    """Import FHIR Consent resources as the person's directives, in one consent event.

    Each imported directive replaces the person's directive on the same scope (newer wins); other
    choices stay. Raises FhirConsentUnsupported listing every problem, and then imports nothing.
    """
    if isinstance(resources, Mapping):
        resources = [resources]
    acting = authorise(person=person, actor=actor, channel=Channel.FHIR_IMPORT, evidence=evidence)
    now = timezone.now()
    reader = _Reader(person, now)
    if not resources:
        reader.problem("Consent", "nothing to import")
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Consent":
            reader.problem(f"Consent[{index}]", "not a Consent resource")
            continue
        reader.read(index, resource)
    if reader.problems:
        raise FhirConsentUnsupported(reader.problems)
    added = list(reader.directives.values())
    revoke = Q(pk__in=[])
    for directive in added:
        revoke |= _scope(directive)
    change = Change("fhir.imported", revoke=revoke, add=added)
    return record_change(
        person=person,
        acting=acting,
        change=change,
        at=now,
        expected_version=expected_version,
        evidence=evidence,
        extra={"resources": len(resources)},
    )
