"""Decisions for a chunk of identifiers, set-based: the same engine inputs as :func:`consent.selectors.snapshots_for`.

On PostgreSQL a chunk's persons with their states, then their notices, are two statements binding arrays
(batches; bulk checks stage whole blocks instead: :mod:`consent.bulk.staging`); elsewhere the ORM loads
them in slices of 2,000. Persons with the same directives and notices share one engine run,
as most persons of a large file have made no choice at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from consent.bulk.identifiers import CHUNK
from consent.bulk.lines import Pair, blind_indexes
from consent.engine import ConsentSnapshot, Decision, DecisionRequest, NoticeFact, decide_prepared, parse_state
from consent.engine.decide import PreparedRequest
from consent.engine.state import decision_key
from consent.linkage import Caller, is_own, linked_identifiers, linked_params, linked_sql
from consent.models import ConsentState, Notice, NoticeStatus
from consent.selectors import _notice_keys
from phr.models import Identifier

# (person id, consent version, directives as JSON text)
Found = tuple[uuid.UUID, int, str]
NoticeKey = tuple[tuple[str, tuple[NoticeFact, ...]], ...]
# A person's delivered notices that the request reads, by "project:<id>" or "regime:<id>"
NoticeFacts = dict[str, list[NoticeFact]]
Outcome = tuple[uuid.UUID | None, Decision | None, int | None]

_PERSONS = """
SELECT i.system, i.blind_index, i.person_id, COALESCE(s.version, 0), COALESCE(s.directives::text, '[]')
FROM phr_identifier i LEFT JOIN consent_consentstate s ON s.person_id = i.person_id
WHERE i.system = ANY(%s::text[]) AND i.blind_index = ANY(string_to_array(%s, ','))
"""
# Identifiers of other systems than the caller's own (linkage ids) name only persons linked to it.
_LINKED_PERSONS = f"{_PERSONS}AND {linked_sql('i.person_id')}\n"
# Whether anyone received a notice the request reads (status, project id, regime ids).
ANY_NOTICE = """
SELECT EXISTS (SELECT 1 FROM consent_notice n WHERE n.status = %s AND n.delivered_at IS NOT NULL
               AND (n.project_id = %s::uuid OR n.regime_id = ANY(%s::bigint[])))
"""
_NOTICES = """
SELECT n.person_id, n.project_id, n.regime_id, n.delivered_at, n.states_commercial_use FROM consent_notice n
WHERE n.person_id = ANY(string_to_array(%s, ',')::uuid[]) AND n.status = %s AND n.delivered_at IS NOT NULL
AND (n.project_id = %s::uuid OR n.regime_id = ANY(%s::bigint[]))
"""


class ChunkEvaluator:
    """Decides chunks of one request at one instant, remembering the decision of each distinct state.

    Only persons linked to ``caller`` (:mod:`consent.linkage`) are found: any other identifier is decided
    as an unknown one, so the caller learns nothing of persons it has no link to."""

    def __init__(self, request: DecisionRequest, at: datetime, caller: Caller) -> None:
        self.request = request
        self.at = at
        self.caller = caller
        self.prepared = PreparedRequest(request, at)
        self.notice_kind, self.notice_key = _notice_keys(request, at)
        self.memo: dict[tuple[str, NoticeKey], Decision] = {}
        self.unknown = decide_prepared(None, self.prepared)

    def decide(self, pairs: Sequence[Pair | None]) -> list[Outcome]:
        """Each identifier's (person, decision, consent version), in order; (None, None, None) for a line
        that is not an identifier. Values come normalised (:func:`consent.bulk.identifiers.checked`).
        Persons in the same state share one Decision object, whose own ``consent_version`` is then that
        of the first of them: use the version returned here."""
        present = _present(pairs)
        indexes = blind_indexes([pair for _, pair in present])
        keys = [(i, system, index) for (i, (system, _)), index in zip(present, indexes, strict=True)]
        found, notices = self._load_postgres(keys) if connection.vendor == "postgresql" else self._load_orm(keys)
        result: list[Outcome] = []
        for index, pair in enumerate(pairs):
            if pair is None:
                result.append((None, None, None))
            elif index not in found:
                result.append((None, self.unknown, None))
            else:
                person_id, version, text = found[index]
                decision = self.decision_of(text, version, notices.get(person_id, {}) if notices else {})
                result.append((person_id, decision, version))
        return result

    def decision_of(self, text: str, version: int, notices: NoticeFacts) -> Decision:
        """The decision for directives ``text`` (JSON) and ``notices``, shared by every person whose state
        differs only in what no decision reads (:func:`consent.engine.state.decision_key`).

        The shared decision's ``consent_version`` is that of the first person decided: each person's own
        version goes beside it."""
        notice_key: NoticeKey = ()
        if notices:
            notice_key = tuple(sorted((name, tuple(facts)) for name, facts in notices.items()))
        memo_key = (decision_key(text) if text else "", notice_key)
        decision = self.memo.get(memo_key)
        if decision is None:
            snapshot = ConsentSnapshot(
                person_id="",
                version=version,
                directives=parse_state(json.loads(text) if text else []),
                notices=dict(notice_key),
            )
            decision = self.memo[memo_key] = decide_prepared(snapshot, self.prepared)
        return decision

    def notice_params(self) -> tuple[Any, list[Any]]:
        """(project id, regime ids) whose delivered notices the request reads."""
        if self.notice_kind == "project":
            return self.notice_key, []
        return None, list(self.notice_key)

    def _load_postgres(self, keys: list[tuple[int, str, str]]) -> tuple[dict[int, Found], dict[uuid.UUID, NoticeFacts]]:
        """Two statements whatever the number of keys (a batch's path). Long lists of hex blind indexes and
        UUIDs are bound as one comma-separated text each, which costs far less to send than an array."""
        found: dict[int, Found] = {}
        notices: dict[uuid.UUID, NoticeFacts] = {}
        with connection.cursor() as cursor:
            persons: dict[tuple[str, str], Found] = {}
            own = [key for key in keys if is_own(self.caller, key[1])]
            others = [key for key in keys if not is_own(self.caller, key[1])]
            for part, statement, linked in ((own, _PERSONS, []), (others, _LINKED_PERSONS, linked_params(self.caller))):
                if not part:
                    continue
                systems = sorted({system for _, system, _ in part})
                cursor.execute(statement, [systems, ",".join(index for _, _, index in part), *linked])
                for system, index, person_id, version, text in cursor.fetchall():
                    persons[(system, index)] = (person_id, version, text)
            for line, system, index in keys:
                if (person := persons.get((system, index))) is not None:
                    found[line] = person
            project_id, regime_ids = self.notice_params()
            params = [NoticeStatus.DELIVERED, project_id, regime_ids]
            if found and (project_id is not None or regime_ids):
                # Most requests read notices nobody received yet: then the persons need not be sent.
                cursor.execute(ANY_NOTICE, params)
                if cursor.fetchone()[0]:
                    person_ids = ",".join({str(person_id) for person_id, _, _ in found.values()})
                    cursor.execute(_NOTICES, [person_ids, *params])
                    _collect(cursor.fetchall(), notices)
        return found, notices

    def _load_orm(
        self, keys: list[tuple[int, str, str]]
    ) -> tuple[dict[int, Found], dict[uuid.UUID, dict[str, list[NoticeFact]]]]:
        found: dict[int, Found] = {}
        notices: dict[uuid.UUID, dict[str, list[NoticeFact]]] = {}
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            # The system too: the unique index is (system, blind index).
            rows = (
                Identifier.objects.filter(
                    system__in={system for _, system, _ in part}, blind_index__in={index for _, _, index in part}
                )
                .filter(linked_identifiers(self.caller))
                .values_list("system", "blind_index", "person_id")
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


def _present(pairs: Sequence[Pair | None]) -> list[tuple[int, Pair]]:
    return [(index, pair) for index, pair in enumerate(pairs) if pair is not None]


def copy_text(value: str) -> str:
    """A value escaped for PostgreSQL's COPY text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def add_notice(facts: NoticeFacts, project_id: object, regime_id: object, delivered_at: Any, commercial: bool) -> None:
    """Add one delivered notice (a row of project, regime, delivered at, states commercial use) to ``facts``."""
    if delivered_at is not None:
        name = f"project:{project_id}" if project_id else f"regime:{regime_id}"
        facts.setdefault(name, []).append(NoticeFact(delivered_at, commercial))


def _collect(rows: Any, notices: dict[uuid.UUID, NoticeFacts]) -> None:
    for person_id, *fact in rows:
        add_notice(notices.setdefault(person_id, {}), *fact)
