"""Triggers that write the consent-changes feed in the same transaction as the change itself.

Consent events, delivered notices and newly linked identifiers name one person; a new or changed regime
concerns everyone. On PostgreSQL a deferred constraint trigger stamps each row's ``position`` at commit
from the counter row, whose lock it holds until the commit ends: positions follow commit order.
"""

from typing import Any

from django.db import migrations

CHANGE = "consent_consentchange"
COUNTER = "consent_consentchangecounter"

POSTGRES_FORWARD = f"""
CREATE FUNCTION consent_change_for_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (NULL, NEW.person_id, TG_ARGV[0], now());
    RETURN NULL;
END $$;
CREATE FUNCTION consent_change_for_everyone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (NULL, NULL, TG_ARGV[0], now());
    RETURN NULL;
END $$;
CREATE FUNCTION consent_change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stamped bigint := NULLIF(current_setting('mamori.consent_change_position', true), '')::bigint;
BEGIN
    IF stamped IS NULL THEN
        INSERT INTO {COUNTER} (id, value) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET value = {COUNTER}.value + 1
        RETURNING value INTO stamped;
        PERFORM set_config('mamori.consent_change_position', stamped::text, true);
    END IF;
    UPDATE {CHANGE} SET position = stamped WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER consent_change_stamp AFTER INSERT ON {CHANGE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION consent_change_stamp();
CREATE TRIGGER consent_change_on_event AFTER INSERT ON consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION consent_change_for_person('consent');
CREATE TRIGGER consent_change_on_notice_insert AFTER INSERT ON consent_notice
    FOR EACH ROW WHEN (NEW.status = 'delivered') EXECUTE FUNCTION consent_change_for_person('notice');
CREATE TRIGGER consent_change_on_notice_update AFTER UPDATE OF status ON consent_notice
    FOR EACH ROW WHEN (NEW.status = 'delivered' AND OLD.status IS DISTINCT FROM 'delivered')
    EXECUTE FUNCTION consent_change_for_person('notice');
CREATE TRIGGER consent_change_on_link AFTER INSERT ON phr_identifier
    FOR EACH ROW EXECUTE FUNCTION consent_change_for_person('link');
CREATE TRIGGER consent_change_on_regime AFTER INSERT OR UPDATE ON consent_regime
    FOR EACH ROW EXECUTE FUNCTION consent_change_for_everyone('regime');
"""

POSTGRES_BACKWARD = f"""
DROP TRIGGER IF EXISTS consent_change_stamp ON {CHANGE};
DROP TRIGGER IF EXISTS consent_change_on_event ON consent_consentevent;
DROP TRIGGER IF EXISTS consent_change_on_notice_insert ON consent_notice;
DROP TRIGGER IF EXISTS consent_change_on_notice_update ON consent_notice;
DROP TRIGGER IF EXISTS consent_change_on_link ON phr_identifier;
DROP TRIGGER IF EXISTS consent_change_on_regime ON consent_regime;
DROP FUNCTION IF EXISTS consent_change_for_person();
DROP FUNCTION IF EXISTS consent_change_for_everyone();
DROP FUNCTION IF EXISTS consent_change_stamp();
"""

_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER consent_change_on_event AFTER INSERT ON consent_consentevent BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NEW.person_id, 'consent', {_NOW}); END""",
    f"""CREATE TRIGGER consent_change_on_notice_insert AFTER INSERT ON consent_notice
        WHEN NEW.status = 'delivered' BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NEW.person_id, 'notice', {_NOW}); END""",
    f"""CREATE TRIGGER consent_change_on_notice_update AFTER UPDATE OF status ON consent_notice
        WHEN NEW.status = 'delivered' AND OLD.status IS NOT 'delivered' BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NEW.person_id, 'notice', {_NOW}); END""",
    f"""CREATE TRIGGER consent_change_on_link AFTER INSERT ON phr_identifier BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NEW.person_id, 'link', {_NOW}); END""",
    f"""CREATE TRIGGER consent_change_on_regime_insert AFTER INSERT ON consent_regime BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NULL, 'regime', {_NOW}); END""",
    f"""CREATE TRIGGER consent_change_on_regime_update AFTER UPDATE ON consent_regime BEGIN
        INSERT INTO {CHANGE} (position, person_id, kind, at) VALUES (0, NULL, 'regime', {_NOW}); END""",
]
SQLITE_TRIGGERS = [
    "consent_change_on_event",
    "consent_change_on_notice_insert",
    "consent_change_on_notice_update",
    "consent_change_on_link",
    "consent_change_on_regime_insert",
    "consent_change_on_regime_update",
]


def create_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"the consent-changes feed has no triggers for {vendor}")


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    elif vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_consent_changes_feed"),
        ("phr", "0001_parties_keys_audit"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
