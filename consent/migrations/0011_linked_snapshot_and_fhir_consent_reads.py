"""Hospitals get answers only about persons linked to them; FHIR Consent reads are audited like checks.

- ``consent_linked_snapshot``: migration 0008's single-decision read (``consent_snapshot``, kept for
  identifiers in the caller's own patient-number system, which are linked by themselves) for an identifier of
  another system (the linkage id): it finds nobody unless the person holds an identifier in the caller's
  system or a connection (not revoked) to one of its FHIR endpoints. consent/linkage.py states the rule; the
  predicate here is the same text.
- A FHIR Consent read is a ``DecisionAudit`` row of channel ``fhir`` without a project.
"""

from django.db import migrations, models
from django.db.models import deletion

LINKED_SNAPSHOT = """
CREATE OR REPLACE FUNCTION consent_linked_snapshot(
    p_status text, p_project uuid, p_regimes bigint[], p_index text, p_system text, p_own text, p_organisation uuid
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
    WHERE i.blind_index = p_index AND i.system = p_system
      AND (EXISTS (SELECT 1 FROM phr_identifier own WHERE own.person_id = i.person_id AND own.system = p_own)
           OR EXISTS (SELECT 1 FROM phr_connection c JOIN phr_fhirendpoint e ON e.id = c.endpoint_id
                      WHERE c.person_id = i.person_id AND e.organisation_id = p_organisation
                      AND c.status <> 'revoked'));
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS consent_linked_snapshot(text, uuid, bigint[], text, text, text, uuid);"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LINKED_SNAPSHOT, params=None)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0010_bulk_decision_audit"), ("phr", "0006_sync_spool")]

    operations = [
        migrations.AlterField(
            model_name="decisionaudit",
            name="channel",
            field=models.CharField(
                choices=[
                    ("single", "Single check"),
                    ("batch", "Batch check"),
                    ("bulk", "Bulk check"),
                    ("release", "Release"),
                    ("fhir", "FHIR Consent read"),
                ],
                max_length=8,
                verbose_name="channel",
            ),
        ),
        migrations.AlterField(
            model_name="decisionaudit",
            name="project",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=deletion.PROTECT,
                related_name="+",
                to="consent.project",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
