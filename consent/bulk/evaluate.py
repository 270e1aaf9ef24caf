"""Decisions for a chunk of identifiers, set-based: the same engine inputs as :func:`consent.selectors.snapshots_for`.

On PostgreSQL a chunk's (line, system, blind index) rows are COPYed into a temporary table and joined to
identifiers, consent states and notices: three statements a chunk whatever its size. Elsewhere the ORM
does the same in slices of 2,000. Persons with the same directives and notices share one engine run, as
most persons of a large file have made no choice at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from consent.bulk.identifiers import CHUNK, IdentifierRef
from consent.engine import ConsentSnapshot, Decision, DecisionRequest, NoticeFact, decide_prepared, parse_state
from consent.engine.decide import PreparedRequest
from consent.models import ConsentState, Notice, NoticeStatus
from consent.selectors import _notice_keys
from phr.crypto.blind_index import blind_index
from phr.models import Identifier

# (person id, consent version, directives as JSON text)
Found = tuple[uuid.UUID, int, str]
NoticeKey = tuple[tuple[str, tuple[NoticeFact, ...]], ...]
PersonNotices = dict[str, list[NoticeFact]]
Outcome = tuple[uuid.UUID | None, Decision | None, int | None]

_NOTICES_SQL = (
    "SELECT n.person_id, n.project_id, n.regime_id, n.delivered_at, n.states_commercial_use "
    "FROM consent_notice n WHERE n.status = %s AND n.delivered_at IS NOT NULL "
    "AND (n.project_id = %s::uuid OR n.regime_id = ANY(%s::bigint[])) "
    "AND n.person_id IN (SELECT i.person_id FROM bulk_check_keys k "
    "JOIN phr_identifier i ON i.blind_index = k.blind_index AND i.system = k.system)"
)


class ChunkEvaluator:
    """Decides chunks of one request at one instant, remembering the decision of each distinct state."""

    def __init__(self, request: DecisionRequest, at: datetime) -> None:
        self.request = request
        self.at = at
        self.prepared = PreparedRequest(request, at)
        self.notice_kind, self.notice_key = _notice_keys(request, at)
        self.memo: dict[tuple[str, NoticeKey], Decision] = {}
        self.unknown = decide_prepared(None, self.prepared)

    def decide(self, refs: Sequence[IdentifierRef | None]) -> list[Outcome]:
        """Each identifier's (person, decision, consent version), in order; (None, None, None) for a line
        that is not an identifier. Persons in the same state share one Decision object, whose own
        ``consent_version`` is then that of the first of them: use the version returned here."""
        keys = [(i, ref.system, blind_index(ref.system, ref.value)) for i, ref in enumerate(refs) if ref is not None]
        if connection.vendor == "postgresql":
            found, notices = self._load_postgres(keys)
        else:
            found, notices = self._load_orm(keys)
        result: list[Outcome] = []
        for index, ref in enumerate(refs):
            if ref is None:
                result.append((None, None, None))
            elif index not in found:
                result.append((None, self.unknown, None))
            else:
                person_id, version, text = found[index]
                decision = self._decision(person_id, version, text, notices.get(person_id, {}))
                result.append((person_id, decision, version))
        return result

    def _decision(self, person_id: uuid.UUID, version: int, text: str, notices: PersonNotices) -> Decision:
        notice_key: NoticeKey = tuple(sorted((name, tuple(facts)) for name, facts in notices.items()))
        memo_key = (text, notice_key)
        decision = self.memo.get(memo_key)
        if decision is None:
            snapshot = ConsentSnapshot(
                person_id=str(person_id),
                version=version,
                directives=parse_state(json.loads(text) if text else []),
                notices=dict(notice_key),
            )
            decision = self.memo[memo_key] = decide_prepared(snapshot, self.prepared)
        return decision

    def _notice_params(self) -> tuple[Any, list[Any]]:
        if self.notice_kind == "project":
            return self.notice_key, []
        return None, list(self.notice_key)

    def _load_postgres(
        self, keys: list[tuple[int, str, str]]
    ) -> tuple[dict[int, Found], dict[uuid.UUID, dict[str, list[NoticeFact]]]]:
        found: dict[int, Found] = {}
        notices: dict[uuid.UUID, dict[str, list[NoticeFact]]] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS bulk_check_keys "
                "(line integer, system text, blind_index varchar(64)) ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE bulk_check_keys")
            with cursor.copy("COPY bulk_check_keys (line, system, blind_index) FROM STDIN") as copy:
                # COPY text format built directly: systems are the caller's accepted system URIs and blind
                # indexes hex, so only the COPY specials of a system need escaping (once per system).
                systems: dict[str, str] = {}
                copy.write(
                    "".join(
                        f"{line}\t{systems.get(system) or systems.setdefault(system, copy_text(system))}\t{index}\n"
                        for line, system, index in keys
                    )
                )
            cursor.execute("ANALYZE bulk_check_keys")
            cursor.execute(
                "SELECT k.line, i.person_id, COALESCE(s.version, 0), COALESCE(s.directives::text, '[]') "
                "FROM bulk_check_keys k "
                "JOIN phr_identifier i ON i.blind_index = k.blind_index AND i.system = k.system "
                "LEFT JOIN consent_consentstate s ON s.person_id = i.person_id"
            )
            for line, person_id, version, text in cursor.fetchall():
                found[line] = (person_id, version, text)
            project_id, regime_ids = self._notice_params()
            if found and (project_id is not None or regime_ids):
                cursor.execute(_NOTICES_SQL, [NoticeStatus.DELIVERED, project_id, regime_ids])
                _collect(cursor.fetchall(), notices)
        return found, notices

    def _load_orm(
        self, keys: list[tuple[int, str, str]]
    ) -> tuple[dict[int, Found], dict[uuid.UUID, dict[str, list[NoticeFact]]]]:
        found: dict[int, Found] = {}
        notices: dict[uuid.UUID, dict[str, list[NoticeFact]]] = {}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            rows = Identifier.objects.filter(blind_index__in={index for _, _, index in part}).values_list(
                "system", "blind_index", "person_id"
            )
            persons = {(system, index): person_id for system, index, person_id in rows}
            states = {
                person_id: (version, text)
                for person_id, version, text in ConsentState.objects.filter(person_id__in=set(persons.values()))
                .annotate(text=Cast("directives", TextField()))
                .values_list("person_id", "version", "text")
            }
            for line, system, index in part:
                person_id = persons.get((system, index))
                if person_id is not None:
                    version, text = states.get(person_id, (0, "[]"))
                    found[line] = (person_id, version, text)
            query = Notice.objects.filter(person_id__in=set(persons.values()), status=NoticeStatus.DELIVERED)
            if self.notice_kind == "project":
                query = query.filter(project_id=self.notice_key)
            elif self.notice_key:
                query = query.filter(regime_id__in=self.notice_key)
            else:
                continue
            _collect(
                query.values_list("person_id", "project_id", "regime_id", "delivered_at", "states_commercial_use"),
                notices,
            )
        return found, notices


def copy_text(value: str) -> str:
    """A value escaped for PostgreSQL's COPY text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _collect(rows: Any, notices: dict[uuid.UUID, dict[str, list[NoticeFact]]]) -> None:
    for person_id, project_id, regime_id, delivered_at, commercial in rows:
        if delivered_at is None:
            continue
        name = f"project:{project_id}" if project_id else f"regime:{regime_id}"
        notices.setdefault(person_id, {}).setdefault(name, []).append(NoticeFact(delivered_at, commercial))
