"""The ledger's order over every row, withdrawn ones included: the API's /assignments lists them all in that order
unless a state or an order is chosen (the ledger page hides withdrawn rows, so its indexes in 0009 are partial).
Without it PostgreSQL sorted all million rows for each page (about 1 s). PostgreSQL only, as 0009."""

from django.db import migrations

ORDER = "(NOT key_item), COALESCE(next_due, '9999-12-31'::date), id"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS assignment_api_order ON handling_assignment ({ORDER})")
    schema_editor.execute("ANALYZE handling_assignment")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS assignment_api_order")


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '0009_ledger_indexes'),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
