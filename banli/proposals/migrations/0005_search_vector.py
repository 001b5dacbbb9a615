"""PostgreSQL: the search words' tsvector stored in a generated column with the GIN index on it, so that checking
a candidate row (when the ledger walks its own index and probes each row's proposal) reads the stored vector
instead of parsing the words again; the expression index of 0004 gives way to it."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE proposals_proposal ADD COLUMN IF NOT EXISTS search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS proposal_search_vector_gin ON proposals_proposal "
                          "USING gin (search_vector)")
    schema_editor.execute("DROP INDEX IF EXISTS proposal_search_gin")
    schema_editor.execute("ANALYZE proposals_proposal")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE INDEX IF NOT EXISTS proposal_search_gin ON proposals_proposal "
                          "USING gin (to_tsvector('simple'::regconfig, search_text))")
    schema_editor.execute("ALTER TABLE proposals_proposal DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('proposals', '0004_ledger_columns'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
