"""The ISO/IEC TS 27560 consent record of a consent event (the receipt payload before signing).

Fields follow TS 27560's consent record information structure: record id and schema version, the PII
principal (by a pseudonymous id, never a name or identifier), the controller, purposes with their
legal basis, data categories, jurisdiction, retention, recipients, how to withdraw, the event (time,
type, channel, notice shown, who acted) and the resulting state with its version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from django.conf import settings
from django.urls import reverse

from consent.models import ConsentEvent, ConsentState, Receipt
from consent.models.choices import SECONDARY_PURPOSES, PurposeClass
from phr.categories import DataCategory
from phr.models import Organisation

SCHEMA_VERSION = "ISO/IEC TS 27560:2023 mamori-receipt/1"
JURISDICTION = "JP"
RETENTION = (
    "Kept for as long as the person's record exists and for 5 years after the last use of data under it "
    "(P5Y after last use), so that every use can be checked against the choice in force."
)
WITHDRAWAL_TEXT = (
    "Change or withdraw any choice at any time on the My choices page, through a proxy, by telephone or "
    "on paper at the operator; a withdrawal stops new uses from the moment it is recorded."
)
_ALL_CATEGORIES = sorted(DataCategory.values)


def _controller() -> dict[str, Any]:
    operator = Organisation.objects.filter(is_operator=True).only("id", "name", "name_en").first()
    return {
        "id": f"urn:mamori:organisation:{operator.id}" if operator else "urn:mamori:operator",
        "name": operator.name if operator else "Mamori",
        "name_en": (operator.name_en or operator.name) if operator else "Mamori",
        "contact": settings.MAMORI_BASE_URL,
    }


def _purposes_and_scope(entries: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    purposes: dict[tuple[str, str], dict[str, Any]] = {}
    categories: set[str] = set()
    recipients: set[str] = set()
    for entry in entries:
        kind = entry["kind"]
        classes = (
            [entry["purpose_class"]]
            if entry.get("purpose_class")
            else sorted(str(p) for p in SECONDARY_PURPOSES)
            if kind in ("global_opt_out", "duo_terms")
            else sorted(str(p) for p in PurposeClass.values)
            if kind in ("category", "organisation_block")
            else []
        )
        project = entry.get("project", "")
        if kind == "project":
            classes = [entry.get("purpose_class", "")] if entry.get("purpose_class") else []
            recipients.add(f"urn:mamori:organisation:{entry.get('organisation', '')}")
        for purpose_class in classes:
            purposes[(purpose_class, project)] = {
                "purpose_class": purpose_class,
                **({"project": f"urn:mamori:project:{project}"} if project else {}),
            }
        if kind == "category":
            categories.update([entry["category"]] if entry.get("category") else _ALL_CATEGORIES)
        elif kind == "project":
            categories.update(entry.get("categories", []))
        elif kind != "contact":
            categories.update(_ALL_CATEGORIES)
        if kind == "organisation_block":
            recipients.add(f"urn:mamori:organisation:{entry['organisation']}")
    return list(purposes.values()), sorted(categories), sorted(recipients)


def build_record(*, receipt: Receipt, event: ConsentEvent, state: ConsentState) -> dict[str, Any]:
    """The receipt payload; deterministic for a given event, state and receipt id."""
    changes = event.changes
    touched = [*changes.get("added", []), *changes.get("revoked", [])]
    purposes, categories, recipients = _purposes_and_scope(touched)
    acting: dict[str, Any] = {"role": event.actor_role}
    if event.proxy_id is not None:
        acting["proxy"] = f"urn:mamori:proxy:{event.proxy_id}"
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": str(receipt.id),
        "principal": {"id": f"urn:mamori:person:{event.person_id}", "acting": acting},
        "controller": _controller(),
        "purposes": purposes,
        "data_categories": categories,
        "jurisdiction": JURISDICTION,
        "retention": RETENTION,
        "recipients": recipients or ["Data holders and approved projects listed in Mamori's public register"],
        "withdrawal_method": {
            "url": settings.MAMORI_BASE_URL.rstrip("/") + reverse("portal:dashboard"),
            "text": WITHDRAWAL_TEXT,
        },
        "event": {
            "id": str(event.id),
            "time": event.at.astimezone(UTC).isoformat(),
            "type": event.action,
            "channel": event.channel,
            "notice_version": event.notice_version,
            "evidence_recorded": bool(event.evidence),
            "changes": changes,
        },
        "state": {"version": state.version, "directives": state.directives},
    }
