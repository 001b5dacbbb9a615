"""The assignment's handling unit on each event row (Event.unit), filled for the rows already written.

The log is append-only in the database (0005's triggers refuse UPDATE); the copy of a column the row already names
through its assignment is the one rewrite made here, with the trigger set aside for this statement inside the
migration's transaction and restored before it ends. The hash chain does not cover the new column (eventlog.digest
lists its fields), so every stored hash stays valid."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FILL = ("UPDATE handling_event SET unit_id = (SELECT a.unit_id FROM handling_assignment a "
        "WHERE a.id = handling_event.assignment_id) WHERE assignment_id IS NOT NULL")
PG_FILL = ("UPDATE handling_event e SET unit_id = a.unit_id FROM handling_assignment a "
           "WHERE a.id = e.assignment_id")
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS handling_event_no_update BEFORE UPDATE ON handling_event
BEGIN SELECT RAISE(ABORT, 'handling_event is append-only: UPDATE refused'); END;
"""


def fill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("ALTER TABLE handling_event DISABLE TRIGGER handling_event_append_only")
            cursor.execute(PG_FILL)
            cursor.execute("ALTER TABLE handling_event ENABLE TRIGGER handling_event_append_only")
        elif vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS handling_event_no_update")
            cursor.execute(FILL)
            cursor.execute(SQLITE_TRIGGER)
        else:
            cursor.execute(FILL)


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '0011_answered_round_index'),
        ('organizations', '0002_user_session_version'),
        ('proposals', '0009_created_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='unit',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organizations.unit'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('unit__isnull', False)), fields=['unit', 'id'], name='event_unit_id'),
        ),
    ]
