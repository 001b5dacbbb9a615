"""Make the event log append-only in the database itself, not only in the application."""
from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION banli_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'handling_event is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS handling_event_append_only ON handling_event;
CREATE TRIGGER handling_event_append_only BEFORE UPDATE OR DELETE ON handling_event
    FOR EACH ROW EXECUTE FUNCTION banli_event_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS handling_event_append_only ON handling_event;
DROP FUNCTION IF EXISTS banli_event_append_only();
"""
# SQLite: updates are refused; deletes stay possible for the test runner's flush, and a deleted row
# still breaks the hash chain, which verify_events reports.
SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS handling_event_no_update BEFORE UPDATE ON handling_event
BEGIN SELECT RAISE(ABORT, 'handling_event is append-only: UPDATE refused'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS handling_event_no_update;"


def _run(schema_editor, sql):
    # A plain cursor: the PL/pgSQL body contains '%', which must not be taken for a parameter.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_UP)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, PG_DOWN)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("handling", "0004_event_hash_chain")]
    operations = [migrations.RunPython(up, down)]
