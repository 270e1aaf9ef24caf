"""Reads of consent: a person's choices and history, regimes, and the inputs of the decision engine.

The engine itself is pure (:mod:`consent.engine`); these functions load what it reads. Batch paths
load every person of a chunk in a fixed number of queries (persons with their state, then their
notices), never one query per person.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consent.disclosure import person_reason
from consent.duo.terms import ResearchPurpose
from consent.engine import (
    ConsentSnapshot,
    Decision,
    DecisionRequest,
    NoticeFact,
    ProjectFacts,
    RegimeRule,
    RegimeTable,
    decide,
    decide_prepared,
    parse_state,
)
from consent.engine.decide import PreparedRequest
from consent.linkage import Caller, is_own, linked_params, linked_sql
from consent.models import (
    BulkDecision,
    ConsentEvent,
    ConsentState,
    DecisionAudit,
    DecisionChannel,
    Directive,
    DirectiveKind,
    Notice,
    NoticeStatus,
    Project,
    ProjectStatus,
    Regime,
)
from consent.models.projects import parse_duo_purpose
from phr.categories import TIERS
from phr.ids import parse_uuid
from phr.models import Organisation, Person

CHUNK = 2000


# -- regimes ---------------------------------------------------------------------------------------------


def regime_rule(regime: Regime) -> RegimeRule:
    return RegimeRule(
        id=regime.pk,
        purpose_class=regime.purpose_class,
        tier=regime.tier,
        version=regime.version,
        basis=regime.basis,
        window_days=regime.objection_window_days,
        notice_by_publication=regime.notice_by_publication,
        notice_must_state_commercial_use=regime.notice_must_state_commercial_use,
        effective_from=regime.effective_from,
        effective_to=regime.effective_to,
    )


def regime_table() -> RegimeTable:
    """Every regime version (a few dozen rows), in one query."""
    return RegimeTable(regime_rule(r) for r in Regime.objects.all())


def regimes_in_force(at: datetime | None = None) -> list[Regime]:
    """The version of each purpose class × tier in force at ``at`` (now by default)."""
    return list(Regime.objects.in_force(at or timezone.now()).order_by("purpose_class", "tier"))


def regime_versions() -> QuerySet[Regime]:
    """Every version, newest first within each purpose class and tier (staff list)."""
    return Regime.objects.select_related("created_by").order_by("purpose_class", "tier", "-version")


# -- a person's choices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """A person's current choices, for the "My choices" page. ``version`` goes back as expected_version."""

    version: int
    global_opt_out: Directive | None
    categories: list[Directive]
    duo_terms: Directive | None
    organisation_blocks: list[Directive]
    projects: list[Directive]
    contact: Directive | None

    @property
    def contact_preferences(self) -> dict[str, bool]:
        return dict(self.contact.preferences or {}) if self.contact else {}


def current_version(person: Person) -> int:
    """The version of the person's choices (0 before the first choice)."""
    version = ConsentState.objects.filter(person=person).values_list("version", flat=True).first()
    return version or 0


def choices_of(person: Person) -> Choices:
    """The person's directives in force, grouped by kind; two queries."""
    directives = list(
        Directive.objects.filter(person=person, revoked_at__isnull=True)
        .select_related("organisation", "project", "project__organisation")
        .order_by("made_at", "id")
    )

    def of(kind: str) -> list[Directive]:
        return [d for d in directives if d.kind == kind]

    def last(kind: str) -> Directive | None:
        found = of(kind)
        return found[-1] if found else None

    return Choices(
        version=current_version(person),
        global_opt_out=last(DirectiveKind.GLOBAL_OPT_OUT),
        categories=of(DirectiveKind.CATEGORY),
        duo_terms=last(DirectiveKind.DUO_TERMS),
        organisation_blocks=of(DirectiveKind.ORGANISATION_BLOCK),
        projects=of(DirectiveKind.PROJECT),
        contact=last(DirectiveKind.CONTACT),
    )


def consent_history(person: Person) -> QuerySet[ConsentEvent]:
    """The person's consent events, newest first, with who acted and the receipt (one query)."""
    return ConsentEvent.objects.filter(person=person).select_related("actor", "receipt", "proxy").order_by("-sequence")


# -- decision requests -----------------------------------------------------------------------------------


def project_facts(project: Project) -> ProjectFacts:
    return ProjectFacts(
        id=str(project.pk),
        organisation_id=str(project.organisation_id),
        approved=project.status == ProjectStatus.APPROVED,
        period_start=project.period_start,
        period_end=project.period_end,
    )


def project_request(
    project: Project, categories: Sequence[str] | None = None, *, regimes: RegimeTable | None = None
) -> DecisionRequest:
    """The request "may this project use these categories" (default: every category it asks for).

    A project whose DUO purpose does not parse gets ``purpose=None``, which persons with terms deny.
    """
    try:
        purpose: ResearchPurpose | None = parse_duo_purpose(project.duo_purpose, project.period_start)
    except ValueError:
        purpose = None
    if purpose is not None and purpose.project is None:
        purpose = replace(purpose, project=str(project.pk))
    return DecisionRequest(
        purpose_class=project.purpose_class,
        categories=tuple(categories if categories is not None else project.data_categories),
        regimes=regimes or regime_table(),
        organisation_id=str(project.organisation_id),
        project=project_facts(project),
        purpose=purpose,
    )


def adhoc_request(
    *,
    purpose_class: str,
    categories: Sequence[str],
    purpose: ResearchPurpose | None = None,
    organisation: Organisation | None = None,
    regimes: RegimeTable | None = None,
) -> DecisionRequest:
    """A request without a project: a purpose class, an optional DUO purpose and the requester."""
    return DecisionRequest(
        purpose_class=purpose_class,
        categories=tuple(categories),
        regimes=regimes or regime_table(),
        organisation_id=str(organisation.pk) if organisation is not None else None,
        purpose=purpose,
    )


# -- snapshots and decisions -----------------------------------------------------------------------------


def _notice_keys(request: DecisionRequest, at: datetime) -> tuple[str, Any]:
    """Which notices the request's rule 7 reads: the project's, or the regimes' in force."""
    if request.project is not None:
        return "project", request.project.id
    ids = set()
    for category in request.categories:
        tier = TIERS.get(category)
        rule = request.regimes.in_force(request.purpose_class, int(tier), at) if tier is not None else None
        if rule is not None:
            ids.add(rule.id)
    return "regime", ids


def snapshots_for(
    person_ids: Sequence[object], request: DecisionRequest, at: datetime | None = None
) -> list[ConsentSnapshot | None]:
    """The engine's view of each person, in input order (None for an unknown id); two queries a chunk."""
    at = at or timezone.now()
    kind, key = _notice_keys(request, at)
    result: list[ConsentSnapshot | None] = []
    for start in range(0, len(person_ids), CHUNK):
        chunk = [parse_uuid(value) for value in person_ids[start : start + CHUNK]]
        wanted = [value for value in chunk if value is not None]
        rows = Person.objects.filter(pk__in=wanted).values_list(
            "pk", "consent_state__version", "consent_state__directives"
        )
        states = {pk: (version or 0, directives or []) for pk, version, directives in rows}
        notices: dict[uuid.UUID, dict[str, list[NoticeFact]]] = {}
        query = Notice.objects.filter(person_id__in=list(states), status=NoticeStatus.DELIVERED)
        query = query.filter(project_id=key) if kind == "project" else query.filter(regime_id__in=key)
        if kind == "project" or key:
            for person_id, project_id, regime_id, delivered_at, commercial in query.values_list(
                "person_id", "project_id", "regime_id", "delivered_at", "states_commercial_use"
            ):
                if delivered_at is None:
                    continue
                name = f"project:{project_id}" if project_id else f"regime:{regime_id}"
                notices.setdefault(person_id, {}).setdefault(name, []).append(NoticeFact(delivered_at, commercial))
        for value in chunk:
            if value is None or value not in states:
                result.append(None)
                continue
            version, directives = states[value]
            result.append(
                ConsentSnapshot(
                    person_id=str(value),
                    version=version,
                    directives=parse_state(directives),
                    notices={k: tuple(v) for k, v in notices.get(value, {}).items()},
                )
            )
    return result


def decide_for_person(person: Person, request: DecisionRequest, at: datetime | None = None) -> Decision:
    """One person's decision now (or at ``at``), loading their state and notices."""
    at = at or timezone.now()
    return decide(snapshots_for([person.pk], request, at)[0], request, at)


def decide_for_persons(
    person_ids: Sequence[object], request: DecisionRequest, at: datetime | None = None
) -> list[Decision]:
    """Decisions for many persons, in input order, with a fixed number of queries per chunk."""
    at = at or timezone.now()
    prepared = PreparedRequest(request, at)
    return [decide_prepared(snapshot, prepared) for snapshot in snapshots_for(person_ids, request, at)]


# -- one identifier, one statement (the single-decision path) --------------------------------------------

_SNAPSHOT_SQL = """
SELECT i.person_id, s.version, s.directives, n.project_id, n.regime_id, n.delivered_at, n.states_commercial_use
FROM phr_identifier i
LEFT JOIN consent_consentstate s ON s.person_id = i.person_id
LEFT JOIN consent_notice n ON n.person_id = i.person_id AND n.status = %s AND n.delivered_at IS NOT NULL AND {notice}
WHERE i.blind_index = %s AND i.system = %s{linked}
"""


def snapshot_for_identifier(
    system: str, index: str, request: DecisionRequest, at: datetime, caller: Caller
) -> tuple[uuid.UUID | None, ConsentSnapshot | None]:
    """The person an identifier (its system and blind index) names, with their state and the notices the
    request reads — the same snapshot :func:`snapshots_for` builds, in one statement instead of three.
    ``(None, None)`` when nobody holds the identifier, or its person is not linked to ``caller``
    (:mod:`consent.linkage`): the caller cannot tell the two apart."""
    kind, key = _notice_keys(request, at)
    with connection.cursor() as cursor:
        own = is_own(caller, system)
        if connection.vendor == "postgresql":  # functions, whose plans the session keeps (migrations 0008, 0011)
            project = key if kind == "project" else None
            params = [NoticeStatus.DELIVERED, project, sorted(key) if kind == "regime" else [], index, system]
            if own:
                cursor.execute("SELECT * FROM consent_snapshot(%s, %s::uuid, %s::bigint[], %s, %s)", params)
            else:
                cursor.execute(
                    "SELECT * FROM consent_linked_snapshot(%s, %s::uuid, %s::bigint[], %s, %s, %s, %s::uuid)",
                    [*params, caller.system, caller.organisation_id],
                )
        else:
            uuid_field = Notice._meta.get_field("project")
            if kind == "project":
                notice_sql, notice_params = "n.project_id = %s", [uuid_field.get_db_prep_value(key, connection)]
            elif key:
                notice_sql = f"n.regime_id IN ({', '.join(['%s'] * len(key))})"
                notice_params = list(key)
            else:
                notice_sql, notice_params = "1 = 0", []
            linked = "" if own else f" AND {linked_sql('i.person_id')}"
            statement = _SNAPSHOT_SQL.format(notice=notice_sql, linked=linked)
            params = [NoticeStatus.DELIVERED, *notice_params, index, system, *([] if own else linked_params(caller))]
            cursor.execute(statement, params)
        rows = cursor.fetchall()
    if not rows:
        return None, None
    person_id = parse_uuid(rows[0][0])
    version, directives = rows[0][1] or 0, rows[0][2]
    if isinstance(directives, str):  # SQLite, and PostgreSQL's jsonb as Django reads it raw
        directives = json.loads(directives)
    notices: dict[str, list[NoticeFact]] = {}
    for _person, _version, _directives, project_id, regime_id, delivered_at, commercial in rows:
        if delivered_at is None:
            continue
        if isinstance(delivered_at, str):
            delivered_at = parse_datetime(delivered_at)
        if timezone.is_naive(delivered_at):
            delivered_at = timezone.make_aware(delivered_at, UTC)
        name = f"project:{parse_uuid(project_id)}" if project_id else f"regime:{regime_id}"
        notices.setdefault(name, []).append(NoticeFact(delivered_at, bool(commercial)))
    snapshot = ConsentSnapshot(
        person_id=str(person_id),
        version=version,
        directives=parse_state(directives or []),
        notices={k: tuple(v) for k, v in notices.items()},
    )
    return person_id, snapshot


# -- who checked a person's choices ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionCheck:
    """One check of a person's choices: who asked, for which project (None: a FHIR Consent read), when, by
    which channel, and the answer with its full reasons (what the hospital was told is neutral)."""

    at: datetime
    organisation: Organisation
    project: Project | None
    channel: str
    decision: str
    reasons: list[str]

    @property
    def is_consent_read(self) -> bool:
        return self.channel == DecisionChannel.FHIR_CONSENT

    @property
    def reason_texts(self) -> list[str]:
        return [person_reason(code) for code in self.reasons]


def decision_checks_of(person: Person, limit: int = 5) -> list[DecisionCheck]:
    """The latest checks of the person's choices, newest first: single, batch and release checks and FHIR
    Consent reads from the decision audit, bulk checks from their runs' rows (two queries, each reading the
    person's index)."""
    checks = [
        DecisionCheck(row.at, row.organisation, row.project, row.channel, row.decision, list(row.reasons))
        for row in DecisionAudit.objects.filter(person=person)
        .select_related("organisation", "project")
        .order_by("-at", "-id")[:limit]
    ]
    for row in (
        BulkDecision.objects.filter(person=person)
        .select_related("run__organisation", "run__project")
        .order_by("-run__at", "-line")[:limit]
    ):
        run = row.run
        decision, reasons = run.verdicts[row.verdict] if row.verdict < len(run.verdicts) else ("", [])
        checks.append(DecisionCheck(run.at, run.organisation, run.project, DecisionChannel.BULK, decision, reasons))
    checks.sort(key=lambda check: check.at, reverse=True)
    return checks[:limit]
