"""My choices: the consent history and blocked organisations, in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from consent.models import ActorRole, Channel, ConsentEvent, Directive, Project, PurposeClass
from consent.receipts.readable import describe
from phr.models import Organisation
from portal.choices_forms import (
    describe_terms,
)

# Recorded with each change as the text the person was shown (ConsentEvent.notice_version).
from portal.choices_subject import Subject
from portal.http import AuthenticatedRequest


@dataclass(frozen=True)
class HistoryEntry:
    event: ConsentEvent
    who: str
    how: str
    added: list[str]
    removed: list[str]
    receipt_id: object | None


def entry_text(entry: Mapping[str, Any], organisations: Mapping[str, str], projects: Mapping[str, str]) -> str:
    if entry.get("kind") == "duo_terms":
        return _("Data-use terms: %(terms)s") % {"terms": "; ".join(describe_terms(entry.get("terms")))}
    return describe(entry, organisations, projects)


def history_entries(
    request: AuthenticatedRequest, subject: Subject, events: Iterable[ConsentEvent]
) -> list[HistoryEntry]:
    events = list(events)
    entries = [e for event in events for e in [*event.changes.get("added", []), *event.changes.get("revoked", [])]]
    organisation_ids = {e["organisation"] for e in entries if e.get("kind") == "organisation_block"}
    project_ids = {e["project"] for e in entries if e.get("kind") == "project"}
    organisations = {
        str(pk): name for pk, name in Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "name")
    }
    projects = (
        {str(pk): title for pk, title in Project.objects.filter(pk__in=project_ids).values_list("pk", "title_ja")}
        if project_ids
        else {}
    )
    history = []
    for event in events:
        if event.actor_role == ActorRole.STAFF:
            who = _("Operator staff, at the person's request")
        elif event.actor_role == ActorRole.PROXY:
            name = event.actor.email if event.actor else _("a former proxy")
            who = _("%(name)s (proxy)") % {"name": name}
        elif event.actor_id == request.user.pk:
            who = _("You")
        else:
            who = subject.person.display_name
        receipt = getattr(event, "receipt", None)
        history.append(
            HistoryEntry(
                event=event,
                who=who,
                how=str(Channel(event.channel).label) if event.channel in Channel.values else event.channel,
                added=[entry_text(e, organisations, projects) for e in event.changes.get("added", [])],
                removed=[entry_text(e, organisations, projects) for e in event.changes.get("revoked", [])],
                receipt_id=receipt.pk if receipt is not None else None,
            )
        )
    return history


# -- pages ----------------------------------------------------------------------------------------------


def blocks_of(directives: Iterable[Directive]) -> list[dict[str, Any]]:
    return [
        {
            "directive": d,
            "organisation": d.organisation,
            "purpose": PurposeClass(d.purpose_class).label if d.purpose_class else _("every purpose"),
        }
        for d in directives
    ]
