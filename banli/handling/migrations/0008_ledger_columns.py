"""The proposal's session and key flag copied onto each assignment (the ledger filters and orders on one row)."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE handling_assignment AS a SET session_id = p.session_id, key_item = (p.is_key OR EXISTS ("
            "SELECT 1 FROM supervision_supervision s WHERE s.proposal_id = p.id)) "
            "FROM proposals_proposal AS p WHERE p.id = a.proposal_id")
    else:
        schema_editor.execute(
            "UPDATE handling_assignment SET session_id = (SELECT p.session_id FROM proposals_proposal p "
            "WHERE p.id = handling_assignment.proposal_id), key_item = (SELECT p.is_key OR EXISTS (SELECT 1 FROM "
            "supervision_supervision s WHERE s.proposal_id = p.id) FROM proposals_proposal p "
            "WHERE p.id = handling_assignment.proposal_id)")


class Migration(migrations.Migration):

    dependencies = [
        ('handling', '0007_assignment_state_choices_next_due'),
        ('handling', '0007_event_keyed_chain'),  # also merges the two 0007 leaves (due's and main's)
        ('proposals', '0004_ledger_columns'),
        ('supervision', '0005_outbox_notification_count'),
    ]

    operations = [
        migrations.AddField(
            model_name='assignment',
            name='key_item',
            field=models.BooleanField(default=False, editable=False, verbose_name='重点提案'),
        ),
        migrations.AddField(
            model_name='assignment',
            name='session',
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='proposals.session', verbose_name='届次'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
