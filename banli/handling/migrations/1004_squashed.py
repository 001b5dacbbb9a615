"""Squashed: handling 0008 to 0015 (their fields and indexes are in 1003), and what the models cannot declare, made
as the replaced migrations made it: the event table's append-only trigger (0005) and, on PostgreSQL, the ledger's
expression indexes (0009, 0010)."""
from django.db import migrations

# 0005: the event log is append-only in the database itself. SQLite refuses updates only: deletes stay possible for
# the test runner's flush, and a deleted row still breaks the hash chain, which verify_events reports.
PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION banli_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'handling_event is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS handling_event_append_only ON handling_event;
CREATE TRIGGER handling_event_append_only BEFORE UPDATE OR DELETE ON handling_event
    FOR EACH ROW EXECUTE FUNCTION banli_event_append_only();
"""
PG_APPEND_ONLY_DOWN = """
DROP TRIGGER IF EXISTS handling_event_append_only ON handling_event;
DROP FUNCTION IF EXISTS banli_event_append_only();
"""
SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS handling_event_no_update BEFORE UPDATE ON handling_event
BEGIN SELECT RAISE(ABORT, 'handling_event is append-only: UPDATE refused'); END;
"""
SQLITE_APPEND_ONLY_DOWN = "DROP TRIGGER IF EXISTS handling_event_no_update;"

# 0009 and 0010 (PostgreSQL): the ledger's order as expression indexes, one per common filter, partial on live rows
# where the ledger page hides withdrawn ones; the API's order over every row.
ORDER = "(NOT key_item), COALESCE(next_due, '9999-12-31'::date), id"
DUE = "COALESCE(next_due, '9999-12-31'::date), id"
LIVE = "WHERE state <> 'withdrawn'"
LEDGER_INDEXES = {
    "assignment_ledger_order": f"({ORDER}) {LIVE}",
    "assignment_ledger_session": f"(session_id, {ORDER}) {LIVE}",
    "assignment_ledger_unit": f"(unit_id, {ORDER}) {LIVE}",
    "assignment_ledger_state": f"(state, {ORDER})",
    "assignment_ledger_due": f"({DUE}) {LIVE}",
    "assignment_ledger_state_due": f"(state, {DUE})",
    "assignment_ledger_session_due": f"(session_id, {DUE}) {LIVE}",
    "assignment_api_order": f"({ORDER})",
}


def _run(schema_editor, sql):
    # A plain cursor: the PL/pgSQL body contains '%', which must not be taken for a parameter.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def create_database_objects(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_APPEND_ONLY)
    elif vendor == "postgresql":
        _run(schema_editor, PG_APPEND_ONLY)
        for name, definition in LEDGER_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON handling_assignment {definition}")


def drop_database_objects(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_APPEND_ONLY_DOWN)
    elif vendor == "postgresql":
        for name in LEDGER_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        _run(schema_editor, PG_APPEND_ONLY_DOWN)


class Migration(migrations.Migration):

    replaces = [
        ('handling', '0008_ledger_columns'),
        ('handling', '0009_ledger_indexes'),
        ('handling', '0010_api_order_index'),
        ('handling', '0011_answered_round_index'),
        ('handling', '0012_event_unit'),
        ('handling', '0013_event_unit_time_index'),
        ('handling', '0014_next_due_index_covers_unit_session'),
        ('handling', '0015_unit_state_index_covers_list_keys'),
    ]

    dependencies = [
        ('handling', '1003_squashed'),
    ]

    operations = [
        migrations.RunPython(create_database_objects, drop_database_objects),
    ]
