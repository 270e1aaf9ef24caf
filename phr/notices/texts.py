"""The words of each notice kind, rendered in the reader's language from the notice's plain-string context.

Nothing here may carry health data: a notice says that something happened and where to look, never what
the record holds (the mail leaves out even the reason category of a break-glass access).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from phr.models.notices import NoticeKind, PersonNotice


@dataclass(frozen=True)
class NoticeText:
    """A notice as words: a title, a body and the site path where the person can read more."""

    title: str
    body: str
    link: str
    link_label: str


def _when(value: object) -> str:
    at = parse_datetime(str(value or ""))
    if at is None:
        return ""
    return str(formats.date_format(timezone.localtime(at), "DATETIME_FORMAT"))


def _break_glass(context: dict[str, str], *, for_mail: bool) -> NoticeText:
    from phr.models.break_glass import ReasonCategory

    when = _when(context.get("at"))
    if for_mail:
        body = _(
            "On %(when)s a member of Mamori's operator staff opened your health record under emergency access "
            "(break-glass). Sign in to Mamori and open “Who looked at my record” to see who it was, what they "
            "read and why."
        ) % {"when": when}
    else:
        category = ReasonCategory(context["category"]).label if context.get("category") in ReasonCategory else ""
        body = _(
            "On %(when)s a member of Mamori's operator staff opened your health record under emergency access "
            "(break-glass), for this reason: %(category)s. Every page they read and the reason they gave are "
            "listed under “Who looked at my record”."
        ) % {"when": when, "category": category}
    return NoticeText(
        title=_("Your record was opened in an emergency"),
        body=body,
        link=reverse("portal:records_access_log"),
        link_label=_("Who looked at my record"),
    )


def _export_ready(context: dict[str, str], *, for_mail: bool) -> NoticeText:
    body = _("The file with all your records that you asked for is ready to download.")
    until = _when(context.get("expires_at"))
    if until:
        body += " " + _("You can download it until %(when)s.") % {"when": until}
    return NoticeText(
        title=_("Your records download is ready"),
        body=body,
        link=context.get("link") or reverse("portal:dashboard"),
        link_label=_("Download my records"),
    )


_RENDERERS = {NoticeKind.BREAK_GLASS: _break_glass, NoticeKind.EXPORT_READY: _export_ready}


def notice_text(notice: PersonNotice, *, for_mail: bool = False) -> NoticeText:
    """The notice in the active language; ``for_mail`` leaves out anything that should not leave the site."""
    return _RENDERERS[NoticeKind(notice.kind)](dict(notice.context), for_mail=for_mail)
