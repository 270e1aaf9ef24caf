"""``{% unread_notices person %}``: the person's unread notices, on their own page."""

from __future__ import annotations

from django import template

from phr.models import Person
from phr.notices import unread_notices
from phr.notices.texts import notice_text

register = template.Library()


@register.inclusion_tag("portal/includes/notices.html")
def unread_notices_of(person: Person) -> dict[str, object]:
    return {"notices": [(notice, notice_text(notice)) for notice in unread_notices(person)]}
