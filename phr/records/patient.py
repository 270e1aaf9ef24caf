"""Whose record a resource is: every resource that names a patient must name the connection's patient.

A patient is known by aliases: ``Patient/<id>`` (from a relative or absolute reference), the
``urn:uuid:`` full URL of its Bundle entry, and ``identifier:<system>|<value>`` for each of its
identifiers (JP Core often references the subject by insurance member id only). With an expected
patient (a connection's) the aliases start from it; without one (an upload) the first patient met
pins them. A Patient resource that matches adds its other aliases; anything that names someone else,
a non-patient subject, or a subject that cannot be told apart, is refused.

For uploads, ``PersonCheck`` also asks whether that patient is the person the file is uploaded for.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from phr.crypto.blind_index import blind_index
from phr.models import Identifier, Person

SUBJECT_FIELDS = ("subject", "patient")
_TYPED_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def reference_alias(reference: str) -> tuple[str, str]:
    """(resource type or "", alias) of a literal reference: ``Patient/1``, an absolute URL, or a URN."""
    reference = reference.strip()
    if reference.startswith("urn:"):
        return "", reference
    match = _TYPED_REFERENCE.search(reference)
    if match is None:
        return "", reference
    return match.group(1), f"{match.group(1)}/{match.group(2)}"


def identifier_alias(identifier: Any) -> str | None:
    if not isinstance(identifier, dict):
        return None
    system, value = identifier.get("system"), identifier.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    return f"identifier:{system or ''}|{unicodedata.normalize('NFKC', value).strip()}"


def patient_aliases(patient: dict[str, Any], full_url: str = "") -> set[str]:
    aliases: set[str] = set()
    if isinstance(patient.get("id"), str):
        aliases.add(f"Patient/{patient['id']}")
    if full_url:
        aliases.add(reference_alias(full_url)[1])
    for identifier in patient.get("identifier") or ():
        alias = identifier_alias(identifier)
        if alias:
            aliases.add(alias)
    return aliases


class PatientMatcher:
    """Checks, resource after resource, that all of them are about one patient."""

    def __init__(self, expected_patient_ref: str | None = None) -> None:
        self.aliases: set[str] = set()
        if expected_patient_ref:
            self.aliases.add(reference_alias(expected_patient_ref)[1])

    def problem(self, resource: dict[str, Any], full_url: str = "") -> str | None:
        """Why this resource is not the patient's, or None when it is (or names no patient)."""
        if resource.get("resourceType") == "Patient":
            return self._admit(patient_aliases(resource, full_url), another_person=True)
        for field in SUBJECT_FIELDS:
            reference = resource.get(field)
            if reference is None:
                continue
            aliases = self._subject_aliases(resource, reference)
            if aliases is None:
                return _("The subject is not a patient, or cannot be identified.")
            problem = self._admit(aliases, another_person=False)
            if problem:
                return problem
        return None

    def _admit(self, aliases: set[str], *, another_person: bool) -> str | None:
        if not aliases:
            return _("The subject is not a patient, or cannot be identified.")
        if self.aliases and not (aliases & self.aliases):
            if another_person:
                return _("This Patient is another person.")
            return _("The resource is about another patient.")
        self.aliases |= aliases
        return None

    def _subject_aliases(self, resource: dict[str, Any], reference: Any) -> set[str] | None:
        if not isinstance(reference, dict):
            return None
        declared = reference.get("type")
        if isinstance(declared, str) and declared != "Patient":
            return None
        aliases: set[str] = set()
        literal = reference.get("reference")
        if isinstance(literal, str) and literal.startswith("#"):
            contained = _contained(resource, literal[1:])
            if contained is None or contained.get("resourceType") != "Patient":
                return None
            aliases |= {a for a in patient_aliases(contained) if a.startswith("identifier:")}
        elif isinstance(literal, str) and literal.strip():
            kind, alias = reference_alias(literal)
            if kind not in ("", "Patient"):
                return None
            aliases.add(alias)
        identifier = identifier_alias(reference.get("identifier"))
        if identifier:
            aliases.add(identifier)
        return aliases or None


def _contained(resource: dict[str, Any], local_id: str) -> dict[str, Any] | None:
    for item in resource.get("contained") or ():
        if isinstance(item, dict) and item.get("id") == local_id:
            return item
    return None


class PatientIsSomeoneElse(Exception):
    """An upload's Patient is clearly not the person it is uploaded for; the message is safe to show."""


def _folded(text: object) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()) if isinstance(text, str) else ""


class PersonCheck:
    """For uploads: is the file's Patient the person the file is uploaded for?

    Identifiers decide (compared through the blind index, never decrypted): a Patient identifier in a
    system where the person has another value, or one that belongs to another person, is a clear
    mismatch and refuses the whole upload. Name and birth date are only a soft check: a difference is a
    warning in the run's report, as are a file without a Patient and a Patient without identifiers.
    """

    def __init__(self, person: Person) -> None:
        self.person = person
        self.own = dict(Identifier.objects.filter(person=person).values_list("system", "blind_index"))
        self.patients = 0
        self.warnings: list[str] = []

    def check(self, patient: dict[str, Any]) -> None:
        """Raises ``PatientIsSomeoneElse`` on a clear mismatch; otherwise may add warnings."""
        self.patients += 1
        pairs = self._identifiers(patient)
        for system, index in pairs:
            if system in self.own and self.own[system] != index:
                raise PatientIsSomeoneElse(
                    _(
                        "The file is about someone else: its patient has a different identifier "
                        "in a system where you have one (%(system)s). Nothing was imported."
                    )
                    % {"system": system[:100]}
                )
        others = Identifier.objects.filter(
            system__in={system for system, _index in pairs}, blind_index__in={index for _system, index in pairs}
        ).exclude(person=self.person)
        if any((identifier.system, identifier.blind_index) in pairs for identifier in others):
            raise PatientIsSomeoneElse(
                _(
                    "The file is about someone else: its patient's identifier belongs to another person. "
                    "Nothing was imported."
                )
            )
        if not pairs:
            self._warn(
                _("The file's patient has no identifier, so it could not be checked that the records are yours.")
            )
        self._soft_check(patient)

    def finish(self) -> None:
        if self.patients == 0:
            self._warn(_("The file has no Patient, so it could not be checked that the records are yours."))

    def _identifiers(self, patient: dict[str, Any]) -> set[tuple[str, str]]:
        pairs = set()
        for identifier in patient.get("identifier") or ():
            if not isinstance(identifier, dict):
                continue
            system, value = identifier.get("system"), identifier.get("value")
            if isinstance(system, str) and system and isinstance(value, str) and value.strip():
                pairs.add((system, blind_index(system, value)))
        return pairs

    def _soft_check(self, patient: dict[str, Any]) -> None:
        birth_date = patient.get("birthDate")
        if (
            isinstance(birth_date, str)
            and birth_date[:10] != self.person.birth_date.isoformat()[: len(birth_date[:10])]
        ):
            self._warn(_("The birth date in the file differs from yours. Check that the records are yours."))
        families = {_folded(name.get("family")) for name in patient.get("name") or () if isinstance(name, dict)}
        families.discard("")
        mine = {_folded(self.person.family_name), _folded(self.person.family_name_kana)} - {""}
        if families and not families & mine:
            self._warn(_("The family name in the file differs from yours. Check that the records are yours."))

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
