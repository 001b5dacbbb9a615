"""Squashed, without operations: the handling models' final state is created in 1001. This migration stands for
the replaced ones below, kept apart where the old ones depended on other apps' later steps, so that the squashed
graph has no cycle and a database that applied them takes this one as applied."""
from django.db import migrations


class Migration(migrations.Migration):

    replaces = [
        ('handling', '0002_initial'),
    ]

    dependencies = [
        ('handling', '1001_squashed'),
    ]

    operations = []
