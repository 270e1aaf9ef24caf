"""Give or take a staff role, or Django superuser status: the only way to do either for the operator's roles.

No web page grants the operator's roles (administrator, reviewer, campaign manager), emergency access
(break-glass) or superuser status. Someone with a shell on the server runs this, with a reason; each change
is an audit event naming the role, the reason and the operating-system account that ran it.

    manage.py grant_role erin@example.jp operator_admin --reason "ticket 123: new administrator"
    manage.py grant_role kenji@example.jp break_glass --reason "ER on-call rota" --revoke
    manage.py grant_role hiro@example.jp org_admin --organisation "東都大学病院" --reason "hospital IT lead"
    manage.py grant_role root@example.jp --superuser --reason "incident 42: read the whole admin"
"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from phr import services
from phr.ids import parse_uuid
from phr.models import Membership, Organisation, User
from phr.models.parties import Role
from phr.roles import PRIVILEGED_ROLES


def _run_by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


class Command(BaseCommand):
    help = "Give (or with --revoke take) a staff role or superuser status, with a reason; audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the user's email address")
        parser.add_argument("role", nargs="?", choices=Role.values, help="the role (omit with --superuser)")
        parser.add_argument(
            "--organisation",
            help="the organisation's id or exact name (default for the operator's roles: the operator)",
        )
        parser.add_argument("--superuser", action="store_true", help="Django superuser status instead of a role")
        parser.add_argument("--revoke", action="store_true", help="take the role or status away")
        parser.add_argument("--reason", required=True, help="why: a ticket, a decision, an incident")

    def handle(self, *args: Any, **options: Any) -> None:
        reason: str = options["reason"].strip()
        if not reason:
            raise CommandError("--reason must say why.")
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"No user has the email address {options['email']!r}.")
        if options["superuser"]:
            if options["role"]:
                raise CommandError("Give either a role or --superuser, not both.")
            services.set_superuser(user=user, superuser=not options["revoke"], reason=reason, run_by=_run_by())
            self.stdout.write(f"{user.email}: superuser {'revoked' if options['revoke'] else 'granted'}")
            return
        role = options["role"]
        if not role:
            raise CommandError("Name a role, or pass --superuser.")
        organisation = self._organisation(options["organisation"], role)
        if options["revoke"]:
            membership = Membership.objects.filter(user=user, organisation=organisation, role=role).first()
            if membership is None:
                raise CommandError(f"{user.email} does not hold {role} at {organisation.name}.")
            services.remove_membership(membership=membership, actor=None, reason=reason, run_by=_run_by())
            self.stdout.write(f"{user.email}: {role} at {organisation.name} revoked")
            return
        try:
            services.add_membership(
                user=user, organisation=organisation, role=role, actor=None, reason=reason, run_by=_run_by()
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{user.email}: {role} at {organisation.name} granted")

    def _organisation(self, named: str | None, role: str) -> Organisation:
        if not named:
            if role not in PRIVILEGED_ROLES:
                raise CommandError(f"Name the organisation (--organisation) for the role {role}.")
            operator = Organisation.objects.filter(is_operator=True).first()
            if operator is None:
                raise CommandError("There is no operator organisation yet.")
            return operator
        query = Q(name=named) | Q(name_en=named)
        key = parse_uuid(named)
        if key is not None:
            query |= Q(pk=key)
        found = list(Organisation.objects.filter(query)[:2])
        if len(found) != 1:
            raise CommandError(f"{'No' if not found else 'More than one'} organisation is named {named!r}.")
        return found[0]
