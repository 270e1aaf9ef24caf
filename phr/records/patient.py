"""Whose record a resource is: every resource that names a patient must name the connection's patient.

A patient is known by aliases: ``Patient/<id>`` (from a relative or absolute reference), the
``urn:uuid:`` full URL of its Bundle entry, and ``identifier:<system>|<value>`` for each of its
identifiers (JP Core often references the subject by insurance member id only). With an expected
patient (a connection's) the aliases start from it; without one (an upload) the first patient met
pins them. A Patient resource that matches adds its other aliases; anything that names someone else,
a non-patient subject, or a subject that cannot be told apart, is refused.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

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
