"""Print the demo logins and how demo staff complete MFA."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from phr.demo import data


def current_demo_code() -> str:
    return format_hotp_value(hotp_value(data.DEMO_TOTP_SECRET, int(time.time()) // 30))


class Command(BaseCommand):
    help = "Print demo logins, or with --code the current demo TOTP code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", action="store_true", help="print only the current demo TOTP code")

    def handle(self, *args: Any, code: bool, **options: Any) -> None:
        if code:
            self.stdout.write(current_demo_code())
            return
        d = data.EMAIL_DOMAIN
        lines = [
            "",
            f"Mamori is starting at {settings.MAMORI_BASE_URL}/",
            f"Every demo account's password: {data.DEMO_PASSWORD}",
            "",
            "Citizens (no MFA):",
            f"  citizen01@{d}   佐藤 family parent; acts for a child (parental authority)",
            f"  citizen02@{d} … citizen48@{d}",
            "  citizen01 … citizen10 are connected to the demo hospitals: press 'Sync now' under",
            "  'Hospitals and syncing' to pull their records from the local FHIR servers (ports 8091-8093)",
            f"  attorney@{d}    acts for an elderly person (power of attorney)",
            "",
            "Staff (MFA required):",
            f"  admin@{d}       operator administrator (also Django admin at /admin/)",
            f"  reviewer@{d}    data access committee reviewer",
            f"  campaigns@{d}   campaign manager",
            f"  researcher@{d}  university researcher;  rd@{d}  pharmaceutical researcher",
            f"  hospital1-admin@{d} … hospital3-admin@{d}  hospital organisation administrators",
            "",
            "Staff second factor: add this TOTP secret to an authenticator app,",
            f"  {data.DEMO_TOTP_SECRET}",
            "or print the current code with:  .venv/bin/python manage.py demo_logins --code",
            "Mail sent by the app (sign-up confirmations) is printed by the 'mail' process below.",
            "",
        ]
        self.stdout.write("\n".join(lines))
