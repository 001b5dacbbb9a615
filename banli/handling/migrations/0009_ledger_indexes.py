"""Indexes in the ledger's own order (key items first, then the next due date, then id), one per common filter.

PostgreSQL only: expression indexes whose expressions the ledger query repeats (banli.ledger.keyset), so
page 1 and any later page (keyset: rows after the last one shown) read about 50 index entries, whatever the
number of rows. Partial on live rows where the ledger hides withdrawn ones unless a state is chosen.
"""

from django.db import migrations

ORDER = "(NOT key_item), COALESCE(next_due, '9999-12-31'::date), id"
DUE = "COALESCE(next_due, '9999-12-31'::date), id"
LIVE = "WHERE state <> 'withdrawn'"
INDEXES = {
    "assignment_ledger_order": f"({ORDER}) {LIVE}",
    "assignment_ledger_session": f"(session_id, {ORDER}) {LIVE}",
    "assignment_ledger_unit": f"(unit_id, {ORDER}) {LIVE}",
    "assignment_ledger_state": f"(state, {ORDER})",
    "assignment_ledger_due": f"({DUE}) {LIVE}",
    "assignment_ledger_state_due": f"(state, {DUE})",
    "assignment_ledger_session_due": f"(session_id, {DUE}) {LIVE}",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON handling_assignment {definition}")
    schema_editor.execute("ANALYZE handling_assignment")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '0008_ledger_columns'),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
