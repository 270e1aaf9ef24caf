"""The engine form of Directive rows (see :mod:`consent.engine.state` for the format)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from consent.models import Directive


def directive_entry(directive: Directive) -> dict[str, Any]:
    """One directive as the engine reads it; only the fields of its kind."""
    entry: dict[str, Any] = {
        "id": str(directive.id),
        "kind": directive.kind,
        "at": directive.made_at.astimezone(UTC).isoformat(),
    }
    kind = directive.kind
    if kind == "category":
        entry.update(value=directive.value, category=directive.category, purpose_class=directive.purpose_class)
    elif kind == "organisation_block":
        entry.update(organisation=str(directive.organisation_id), purpose_class=directive.purpose_class)
    elif kind == "project":
        entry.update(project=str(directive.project_id), value=directive.value, categories=list(directive.categories))
    elif kind == "duo_terms":
        entry["terms"] = directive.terms
    elif kind == "contact":
        entry["preferences"] = directive.preferences
    return entry


def state_entries(directives: Iterable[Directive]) -> list[dict[str, Any]]:
    """The materialised state: every directive in force, oldest first."""
    return [directive_entry(d) for d in sorted(directives, key=lambda d: (d.made_at, str(d.id)))]
