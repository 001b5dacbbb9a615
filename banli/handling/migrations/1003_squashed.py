"""Squashed, without operations: the handling models' final state is created in 1001. This migration stands for
the replaced ones below, kept apart where the old ones depended on other apps' later steps, so that the squashed
graph has no cycle and a database that applied them takes this one as applied."""
from django.db import migrations


class Migration(migrations.Migration):

    replaces = [
        ('handling', '0003_initial'),
        ('handling', '0004_event_hash_chain'),
        ('handling', '0005_event_append_only_triggers'),
        ('handling', '0006_event_proposal_merge_index'),
        ('handling', '0007_assignment_state_choices_next_due'),
        ('handling', '0007_event_keyed_chain'),
    ]

    dependencies = [
        ('handling', '1002_squashed'),
    ]

    operations = []
