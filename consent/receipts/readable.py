"""A receipt in words, for the person's readable page (the signed JSON stays the record)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from consent.models import Project
from consent.models.choices import Channel, PurposeClass
from phr.categories import DataCategory
from phr.models import Organisation


@dataclass(frozen=True)
class ReadableChange:
    """One line of "what changed": added or removed, and the choice in words."""

    added: bool
    text: str


def _category(code: str) -> str:
    return str(DataCategory(code).label) if code in DataCategory.values else code


def _purpose(code: str) -> str:
    return str(PurposeClass(code).label) if code in PurposeClass.values else code


def _names(entries: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    entries = list(entries)
    organisations = {e["organisation"] for e in entries if e.get("kind") == "organisation_block"}
    projects = {e["project"] for e in entries if e.get("kind") == "project"}
    return (
        {str(pk): name for pk, name in Organisation.objects.filter(pk__in=organisations).values_list("pk", "name")},
        {str(pk): title for pk, title in Project.objects.filter(pk__in=projects).values_list("pk", "title_ja")},
    )


def describe(entry: Mapping[str, Any], organisations: Mapping[str, str], projects: Mapping[str, str]) -> str:
    kind = entry.get("kind")
    every_purpose = _("every purpose")
    if kind == "global_opt_out":
        return _("Opt out of every use other than my own care")
    if kind == "category":
        category = _category(entry["category"]) if entry.get("category") else _("all data")
        purpose = _purpose(entry["purpose_class"]) if entry.get("purpose_class") else every_purpose
        if entry.get("value") == "permit":
            return _("Allow %(category)s for %(purpose)s") % {"category": category, "purpose": purpose}
        return _("Refuse %(category)s for %(purpose)s") % {"category": category, "purpose": purpose}
    if kind == "organisation_block":
        name = organisations.get(entry["organisation"], entry["organisation"])
        purpose = _purpose(entry["purpose_class"]) if entry.get("purpose_class") else every_purpose
        return _("Block %(organisation)s for %(purpose)s") % {"organisation": name, "purpose": purpose}
    if kind == "project":
        title = projects.get(entry["project"], entry["project"])
        if entry.get("value") == "permit":
            categories = ", ".join(_category(c) for c in entry.get("categories", []))
            return _("Take part in %(project)s with %(categories)s") % {"project": title, "categories": categories}
        return _("Decline %(project)s") % {"project": title}
    if kind == "duo_terms":
        terms = entry.get("terms") or {}
        modifiers = " + ".join(terms.get("modifiers", []))
        return _("Data-use terms: %(terms)s") % {
            "terms": " + ".join(filter(None, [terms.get("permission"), modifiers]))
        }
    if kind == "contact":
        chosen = [name for name, on in sorted((entry.get("preferences") or {}).items()) if on]
        return _("Contact me by: %(channels)s") % {"channels": ", ".join(chosen) or _("no channel")}
    return str(kind)


def readable_changes(payload: Mapping[str, Any]) -> list[ReadableChange]:
    changes = payload.get("event", {}).get("changes", {})
    added, revoked = changes.get("added", []), changes.get("revoked", [])
    organisations, projects = _names([*added, *revoked])
    return [ReadableChange(False, describe(e, organisations, projects)) for e in revoked] + [
        ReadableChange(True, describe(e, organisations, projects)) for e in added
    ]


def channel_label(code: str) -> str:
    return str(Channel(code).label) if code in Channel.values else code
