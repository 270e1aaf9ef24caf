"""PostgreSQL functions for the single-decision path: the person's snapshot, and the audit row.

A hospital asks one decision at a time, at the point of care, thousands of times a minute. Sent as plain
statements, the three-table read and the audit insert were planned on every request, and planning took longer
than running them. PL/pgSQL keeps each statement's plan for the session, so called as functions they cost
about what a primary-key read costs (docs/BENCHMARKS.md). They read and write the same columns as the ORM;
a later migration that changes those columns must replace these functions too (tests on PostgreSQL call
them on every single-decision request). SQLite runs the same statements in plain SQL.
"""

from django.db import migrations

SNAPSHOT = """
CREATE OR REPLACE FUNCTION consent_snapshot(
    p_status text, p_project uuid, p_regimes bigint[], p_index text, p_system text
) RETURNS TABLE (
    person_id uuid, version integer, directives jsonb, project_id uuid, regime_id bigint,
    delivered_at timestamptz, states_commercial_use boolean
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT i.person_id, s.version::integer, s.directives, n.project_id, n.regime_id::bigint, n.delivered_at,
           n.states_commercial_use
    FROM phr_identifier i
    LEFT JOIN consent_consentstate s ON s.person_id = i.person_id
    LEFT JOIN consent_notice n
        ON n.person_id = i.person_id AND n.status = p_status AND n.delivered_at IS NOT NULL
       AND ((p_project IS NOT NULL AND n.project_id = p_project)
            OR (p_project IS NULL AND n.regime_id = ANY (p_regimes)))
    WHERE i.blind_index = p_index AND i.system = p_system;
END
$$;
"""

RECORD = """
CREATE OR REPLACE FUNCTION consent_record_decision(
    p_at timestamptz, p_organisation uuid, p_client varchar, p_person uuid, p_project uuid, p_channel varchar,
    p_decision varchar, p_reasons jsonb, p_version integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- For this transaction only: the commit returns before the WAL flush (consent/decision_log.py says why).
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO consent_decisionaudit
        (at, organisation_id, client_id, person_id, project_id, channel, decision, reasons, consent_version)
    VALUES (p_at, p_organisation, p_client, p_person, p_project, p_channel, p_decision, p_reasons, p_version);
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS consent_snapshot(text, uuid, bigint[], text, text);
DROP FUNCTION IF EXISTS consent_record_decision(
    timestamptz, uuid, varchar, uuid, uuid, varchar, varchar, jsonb, integer
);
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SNAPSHOT, params=None)
        schema_editor.execute(RECORD, params=None)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0007_bulk_checks"), ("phr", "0001_parties_keys_audit")]

    operations = [migrations.RunPython(create, drop)]
