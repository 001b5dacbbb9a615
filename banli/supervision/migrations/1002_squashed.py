"""Squashed, without operations: the models' final state is created in supervision 1001. This migration stands for the
replaced ones below, which depended on other apps' later steps; kept apart so that the squashed graph has no cycle
and a database that applied them takes this one as applied."""
from django.db import migrations


class Migration(migrations.Migration):

    replaces = [
        ('supervision', '0006_reminder_groups'),
        ('supervision', '0007_event_subscriptions'),
    ]

    dependencies = [
        ('supervision', '1001_squashed'),
    ]

    operations = []
