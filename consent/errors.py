"""Errors of consent services; views turn them into messages, the API into problems."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _


class ConsentError(Exception):
    """A consent write was refused; the message is safe to show to the person."""


class ConsentConflict(ConsentError):
    """The write was based on a version of the person's choices that is no longer current."""

    def __init__(self, *, expected: int, current: int) -> None:
        super().__init__(
            _(
                "Your choices changed since this page was loaded (version %(expected)s, now %(current)s). "
                "Reload the page and make the choice again."
            )
            % {"expected": expected, "current": current}
        )
        self.expected = expected
        self.current = current


class ConsentNotAllowed(ConsentError):
    """The actor may not change this person's choices through this channel."""


class InvalidDirective(ConsentError):
    """The choice is malformed (unknown category, purpose class, DUO term, organisation, …)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class FhirConsentUnsupported(ConsentError):
    """A FHIR Consent says something Mamori's directives cannot represent; nothing was imported."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(_("This FHIR Consent cannot be imported: %(problems)s") % {"problems": "; ".join(problems)})
        self.problems = tuple(problems)
