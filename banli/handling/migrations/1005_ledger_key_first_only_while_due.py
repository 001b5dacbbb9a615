"""The ledger's order puts a key item first only while something is due on it (banli.ledger.keyset): a closed key
item (办结, 已送会办意见, 已测评; no `next_due`) sorts with the other finished rows at the end, where the office's closed
key items used to fill the first pages above its open ordinary ones. PostgreSQL only, as 0009 and 0010: the
expression indexes whose key part changed are built again under their names (the due-only ones are unchanged)."""

from django.db import migrations

DUE = "COALESCE(next_due, '9999-12-31'::date), id"
LIVE = "WHERE state <> 'withdrawn'"
NEW_ORDER = f"(NOT key_item OR next_due IS NULL), {DUE}"
OLD_ORDER = f"(NOT key_item), {DUE}"


def _indexes(order: str) -> dict[str, str]:
    return {
        "assignment_ledger_order": f"({order}) {LIVE}",
        "assignment_ledger_session": f"(session_id, {order}) {LIVE}",
        "assignment_ledger_unit": f"(unit_id, {order}) {LIVE}",
        "assignment_ledger_state": f"(state, {order})",
        "assignment_api_order": f"({order})",
    }


def _build(schema_editor, order: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in _indexes(order).items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON handling_assignment {definition}")
    schema_editor.execute("ANALYZE handling_assignment")


def forwards(apps, schema_editor):
    _build(schema_editor, NEW_ORDER)


def backwards(apps, schema_editor):
    _build(schema_editor, OLD_ORDER)


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '1004_squashed'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
