"""Mailing a stored notice: to the person's own address and, for some kinds, their active proxies."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from phr.models import PersonNotice, Proxy
from phr.notices.texts import notice_text


def recipients_of(notice: PersonNotice) -> list[str]:
    person = notice.person
    addresses = [person.user.email] if person.user is not None and person.user.is_active else []
    from phr.notices import TELL_PROXIES

    if notice.kind in TELL_PROXIES:
        proxies = Proxy.objects.active().filter(person=person, proxy_user__is_active=True)
        addresses += [email for email in proxies.values_list("proxy_user__email", flat=True) if email not in addresses]
    return addresses


def mail_notice(notice_id: str) -> bool:
    """Send the notice's mail once; False when it was mailed before (a second delivery of the task)."""
    with transaction.atomic():
        notice = (
            PersonNotice.objects.select_for_update(of=("self",))
            .select_related("person__user")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None or notice.mailed_at is not None:
            return False
        with translation.override(notice.person.preferred_language):
            text = notice_text(notice, for_mail=True)
            url = settings.MAMORI_BASE_URL.rstrip("/") + text.link
            body = "\n\n".join(
                [text.body, f"{text.link_label}: {url}", _("This message was sent by Mamori. Please do not reply.")]
            )
            subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{text.title}"
        recipients = recipients_of(notice)
        if recipients:
            send_mail(subject, body, None, recipients)
        notice.mailed_at = timezone.now()
        notice.save(update_fields=["mailed_at"])
    return True
