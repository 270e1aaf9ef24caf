"""The Celery task that mails a person notice (queue ``notices``)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    name="phr.mail_person_notice",
    queue="notices",
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=900,
    max_retries=8,
)
def mail_person_notice(notice_id: str) -> bool:
    """Mail one stored notice; a second delivery after it was sent is a no-op."""
    from phr.notices.mail import mail_notice

    return mail_notice(notice_id)
