"""Bulk checks on PostgreSQL: a block of lines staged in a temporary table, resolved and audited by the server.

A block (up to ``jobs.BLOCK_LINES`` lines, several checkpoint chunks) is resolved with one join: its (line,
system, blind index) rows are COPYed into a temporary table and joined once to identifiers and consent states
into ``bulk_check_lines`` (line, person, consent version, state), stored in person order. One join per
block, not per chunk: each join reads the whole identifier table, so chunk-sized joins made a large file
cost its chunks times the table. Python then fetches only what it needs to decide: the distinct states
(one-directive states without their ids and times, see _RESOLVE) with the lines holding each, the lines
naming nobody and the notices of the block's persons, and decides once per distinct (state, notices). The
block's audit rows (:mod:`consent.bulk.audit`) are then one ``INSERT … SELECT`` from the table, each line's
answer class read from a packed array, in person order, so the rows' primary key is written in order.
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Callable, Sequence

from django.db import connection, transaction

from consent.bulk.audit import AuditRun
from consent.bulk.evaluate import ANY_NOTICE, ChunkEvaluator, NoticeFacts, add_notice, copy_text
from consent.bulk.lines import Pair
from consent.engine import Decision
from consent.engine.state import readable_time
from consent.linkage import own_or_linked_params, own_or_linked_sql
from consent.models import NoticeStatus

COPY_SLICE = 50_000

_KEYS = "CREATE TEMPORARY TABLE bulk_check_keys (line integer, system text, blind_index varchar(64))"
# A state of one directive (most people's) is stored as that directive without its id and time, and its
# time beside it: a decision does not read one directive's id or time (only whether the time is readable),
# so lines grouped by it share a decision, though every person's id and time differ. Other states keep their
# text. The table is stored in person order (see _AUDIT).
# Identifiers of persons not linked to the caller join to nobody (consent.linkage): those lines are answered
# as unknown ones.
_RESOLVE = f"""
CREATE TEMPORARY TABLE bulk_check_lines AS
SELECT k.line, i.person_id, COALESCE(s.version, 0) AS version,
       CASE WHEN jsonb_typeof(s.directives) <> 'array' THEN s.directives::text
            WHEN jsonb_array_length(s.directives) <> 1 THEN s.directives::text
            WHEN jsonb_typeof(s.directives -> 0) <> 'object' THEN s.directives::text
            ELSE ((s.directives -> 0) - 'id' - 'at')::text END AS state,
       CASE WHEN jsonb_typeof(s.directives) <> 'array' THEN NULL
            WHEN jsonb_array_length(s.directives) <> 1 THEN NULL
            WHEN jsonb_typeof(s.directives -> 0) <> 'object' THEN NULL
            ELSE true END AS single,
       s.directives -> 0 ->> 'at' AS moment
FROM bulk_check_keys k
LEFT JOIN phr_identifier i ON i.blind_index = k.blind_index AND i.system = k.system
    AND {own_or_linked_sql("i.person_id", "k.system")}
LEFT JOIN consent_consentstate s ON s.person_id = i.person_id
ORDER BY i.person_id
"""  # noqa: S608 - the linkage predicate is code; values are parameters
_STATES = """
SELECT state, single IS NOT NULL, array_agg(line), array_agg(version), array_agg(moment) FROM bulk_check_lines
WHERE state IS NOT NULL GROUP BY state, single
"""
_UNKNOWN = "SELECT COALESCE(array_agg(line), '{}') FROM bulk_check_lines WHERE person_id IS NULL"
_NOTICES = """
SELECT l.line, n.project_id, n.regime_id, n.delivered_at, n.states_commercial_use
FROM consent_notice n JOIN bulk_check_lines l ON l.person_id = n.person_id
WHERE n.status = %s AND n.delivered_at IS NOT NULL AND (n.project_id = %s::uuid OR n.regime_id = ANY(%s::bigint[]))
"""
# Each line's answer class is read from a packed array (two bytes a line, from the block's first line): no
# join, so the lines table is read in the person order it was stored in, and the rows reach the primary key
# (person, run, line) in order without a sort.
_AUDIT = """
INSERT INTO consent_bulkdecision (person_id, run_id, line, verdict, consent_version)
SELECT l.person_id, %(run)s::uuid, l.line,
       get_byte(%(classes)s::bytea, 2 * (l.line - %(first)s)) * 256
       + get_byte(%(classes)s::bytea, 2 * (l.line - %(first)s) + 1),
       l.version
FROM bulk_check_lines l
WHERE l.person_id IS NOT NULL AND l.line > %(after)s
"""


class StagedLines:
    """The lines of the current block on the server, and each line's decision and consent version."""

    def __init__(self, evaluator: ChunkEvaluator, audit: AuditRun) -> None:
        self.evaluator = evaluator
        self.audit_run = audit
        self.default = evaluator.decision_of("[]", 0, {})
        self.default_class = audit.class_of(self.default)
        self.special: dict[int, tuple[Decision, int | None]] = {}
        # The block's first line and each of its lines' answer class, two bytes a line (big-endian).
        self.first_line = 0
        self.line_classes = b""

    def outcome(self, line: int) -> tuple[Decision, int | None]:
        """A staged line's decision and consent version (None for a line naming nobody)."""
        return self.special.get(line) or (self.default, 0)

    def stage(
        self, lines: Sequence[int], pairs: Sequence[Pair], blind_indexes: Callable[[Sequence[Pair]], list[str]]
    ) -> None:
        """Resolve and decide a block: ``lines[n]`` holds the identifier ``pairs[n]``."""
        self.special = {}
        systems: dict[str, str] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            # One join of up to a million rows a side: let it hash in memory rather than in batches on disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("DROP TABLE IF EXISTS bulk_check_keys, bulk_check_lines")
            cursor.execute(_KEYS)
            with cursor.copy("COPY bulk_check_keys (line, system, blind_index) FROM STDIN") as copy:
                # Sent a slice at a time: the server stores one slice while the next is being hashed here.
                for start in range(0, len(pairs), COPY_SLICE):
                    part = pairs[start : start + COPY_SLICE]
                    copy.write(
                        "".join(
                            f"{line}\t{systems.get(system) or systems.setdefault(system, copy_text(system))}\t{index}\n"
                            for line, (system, _), index in zip(
                                lines[start : start + COPY_SLICE], part, blind_indexes(part), strict=True
                            )
                        )
                    )
            # No ANALYZE of the keys: the size the planner reads off the table gives the same hash joins (0.15 s
            # saved a million lines); the lines table is analysed, for the notices join.
            cursor.execute(_RESOLVE, own_or_linked_params(self.evaluator.caller))
            cursor.execute("DROP TABLE bulk_check_keys")
            cursor.execute("ANALYZE bulk_check_lines")
            cursor.execute(_UNKNOWN)
            for line in cursor.fetchone()[0]:
                self.special[line] = (self.evaluator.unknown, None)
            notices = self._notices(cursor)
            cursor.execute(_STATES)
            for state, single, state_lines, versions, moments in cursor.fetchall():
                texts = _SingleDirective(state) if single else None
                shared: Decision | None = None
                for line, version, moment in zip(state_lines, versions, moments, strict=True):
                    facts = notices.pop(line, None)
                    if facts is None and (texts is None or readable_time(moment)):
                        if shared is None:
                            shared = self.evaluator.decision_of(state if texts is None else texts.at(moment), 0, {})
                        decision = shared
                    else:
                        text = state if texts is None else texts.at(moment)
                        decision = self.evaluator.decision_of(text, version, facts or {})
                    self.special[line] = (decision, version)
            for line, facts in notices.items():
                self.special[line] = (self.evaluator.decision_of("[]", 0, facts), 0)
        self.first_line = lines[0] if lines else 0
        self.line_classes = self._packed_classes(lines[-1] - self.first_line + 1 if lines else 0)

    def _packed_classes(self, count: int) -> bytes:
        class_of = self.audit_run.class_of
        classes = array("H", [self.default_class]) * count
        for line, (decision, _) in self.special.items():
            classes[line - self.first_line] = class_of(decision)
        if sys.byteorder == "little":
            classes.byteswap()
        return classes.tobytes()

    def _notices(self, cursor: object) -> dict[int, NoticeFacts]:
        """The notice facts of the block's noticed persons, by line (nothing to read when nobody was noticed)."""
        project_id, regime_ids = self.evaluator.notice_params()
        result: dict[int, NoticeFacts] = {}
        if project_id is None and not regime_ids:
            return result
        params = [NoticeStatus.DELIVERED, project_id, regime_ids]
        cursor.execute(ANY_NOTICE, params)  # type: ignore[attr-defined]
        if not cursor.fetchone()[0]:  # type: ignore[attr-defined]
            return result
        cursor.execute(_NOTICES, params)  # type: ignore[attr-defined]
        for line, *fact in cursor.fetchall():  # type: ignore[attr-defined]
            add_notice(result.setdefault(line, {}), *fact)
        return result

    def audit(self, *, after: int) -> None:
        """Record the answers of the block's lines past line ``after`` that name a person, one row each.

        One statement for the block: a resumed run's block starts at its first unchecked line, and
        ``after`` skips the lines an earlier run already audited with that block."""
        self.audit_run.save_classes()
        with connection.cursor() as cursor:
            run, classes, first = self.audit_run.run_id, self.line_classes, self.first_line
            cursor.execute(_AUDIT, {"run": run, "classes": classes, "first": first, "after": after})

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bulk_check_keys, bulk_check_lines")


class _SingleDirective:
    """A state of one directive, stored without its id and time (see _RESOLVE): the state's text at a time."""

    def __init__(self, directive: str) -> None:
        self.directive = json.loads(directive)

    def at(self, moment: str | None) -> str:
        return json.dumps([{**self.directive, "at": moment}] if moment is not None else [self.directive])
